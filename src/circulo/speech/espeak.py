"""IVR prompts spoken by Debian's espeak-ng (``apt-get install espeak-ng``): Spanish (``es``)
and American English (``en-us``), WAV out.

The program runs with an argument list (no shell) and reads the text on its standard input
(``--stdin``), so nothing in a prompt can become an option or a command. It writes to a file
(``-w``) rather than to its standard output: written to a pipe, the WAV header cannot know
the length and says "about a billion frames", which players and the ``wave`` module
misread."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from circulo.speech.model import VOICES, EngineFailed, SpeechUnavailable, check_prompt

DEFAULT_PROGRAM = "/usr/bin/espeak-ng"
TIMEOUT_SECONDS = 20.0
WORDS_PER_MINUTE = 160  # a little slower than espeak-ng's 175: callers hear prompts once


class EspeakSynthesizer:
    name = "espeak-ng"

    def __init__(self, program: str | None = None, *, timeout: float = TIMEOUT_SECONDS,
                 speed: int = WORDS_PER_MINUTE) -> None:
        self.program = program or DEFAULT_PROGRAM
        self.timeout = timeout
        self.speed = speed

    def _executable(self) -> str:
        found = shutil.which(self.program)
        if found is None:
            raise SpeechUnavailable(
                f"espeak-ng is not installed at {self.program} (Debian: apt-get install "
                "espeak-ng; or set CIRCULO_SPEECH_ESPEAK)")
        return found

    def synthesize(self, text: str, *, language: str) -> bytes:
        """WAV bytes (mono, 16-bit, 22,050 Hz) of ``text`` in ``language``. Raises BadText
        (empty, too long, control characters), UnsupportedLanguage, SpeechUnavailable, or
        EngineFailed (the program failed or ran past the timeout)."""
        spoken = check_prompt(text, language)
        program = self._executable()
        with tempfile.TemporaryDirectory(prefix="circulo-tts-") as folder:
            out = Path(folder) / "prompt.wav"
            try:
                done = subprocess.run(  # noqa: S603 - fixed program, argument list, no shell
                    [program, "-v", VOICES[language], "-s", str(self.speed), "-b", "1",
                     "--stdin", "-w", str(out)],
                    input=spoken.encode("utf-8"), capture_output=True, timeout=self.timeout,
                    check=False)
            except subprocess.TimeoutExpired as exc:
                raise EngineFailed(f"espeak-ng took longer than {self.timeout:g} s") from exc
            if done.returncode != 0 or not out.exists() or out.stat().st_size <= 44:
                raise EngineFailed(f"espeak-ng failed (exit status {done.returncode})")
            return out.read_bytes()
