"""What speech yields and who produces it: the typed transcript, the ``Transcriber`` and
``Synthesizer`` interfaces the engines (adapters: faster-whisper, an HTTP Whisper server,
espeak-ng) implement, their errors, and the pure choice of a transcriber per language.
Pure: no I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

# A recording is read from its file; a short sample may come as bytes.
Audio = Path | bytes
TranscriberKind = Literal["local", "http"]
LOCAL: TranscriberKind = "local"
HTTP: TranscriberKind = "http"
# What the local model (tiny.en) understands; every other language needs the HTTP server.
LOCAL_LANGUAGES = frozenset({"en"})
# What espeak-ng speaks for IVR prompts, and the voice of each (Debian's espeak-ng-data).
VOICES: Mapping[str, str] = {"es": "es", "en": "en-us"}
MAX_SYNTHESIS_CHARS = 2000  # an IVR prompt is a sentence or two; this bounds the work


@dataclass(frozen=True, slots=True)
class Segment:
    start: float  # seconds from the beginning of the audio
    end: float
    text: str


@dataclass(frozen=True, slots=True)
class Transcript:
    language: str
    segments: tuple[Segment, ...]
    duration: float  # seconds of audio
    engine: str  # which transcriber produced it, e.g. "faster-whisper:tiny.en"

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    def segments_as_dicts(self) -> list[dict[str, Any]]:
        """The stored and public shape of the segments (``call.transcribed``)."""
        return [{"start": round(s.start, 2), "end": round(s.end, 2), "text": s.text.strip()}
                for s in self.segments]


class Transcriber(Protocol):
    """Turns recorded speech into timestamped text. Raises ``SpeechError`` subclasses only."""

    name: str

    def transcribe(self, audio: Audio, *, language: str) -> Transcript: ...


class Synthesizer(Protocol):
    """Turns a prompt into WAV bytes spoken in ``language`` ("es" or "en")."""

    name: str

    def synthesize(self, text: str, *, language: str) -> bytes: ...


class SpeechError(Exception):
    """Why speech could not be processed; ``reason`` is a short stable code kept on a failed
    recording (the detail says it in words). Plain, so this module stays pure: the HTTP edge
    renders it as problem+json with ``status``, ``code``, ``title`` and ``errors``."""

    status, code, title = 422, "speech_failed", "Speech could not be processed"
    reason = "failed"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class UnsupportedLanguage(SpeechError):
    code, title, reason = "unsupported_language", "Language not supported", \
        "unsupported_language"


class BadAudio(SpeechError):
    code, title, reason = "bad_audio", "Unreadable audio", "bad_audio"


class AudioTooLong(SpeechError):
    code, title, reason = "audio_too_long", "Audio too long", "too_long"


class BadText(SpeechError):
    """Text that cannot be spoken: empty, too long, control characters."""

    code, title, reason = "validation_failed", "Validation failed", "bad_text"


class SpeechUnavailable(SpeechError):
    """The engine is not installed or configured here (an extra, a program, a server)."""

    status, code, title, reason = 503, "speech_unavailable", "Speech engine unavailable", \
        "unavailable"


class EngineFailed(SpeechError):
    """The engine ran and failed (a server answered an error, a program crashed)."""

    status, code, title, reason = 502, "speech_engine_failed", "Speech engine failed", \
        "engine_failed"


def transcriber_kind(language: str, routes: Mapping[str, str], *, http_configured: bool
                     ) -> TranscriberKind:
    """Which transcriber hears ``language``: the one ``routes`` names (``CIRCULO_SPEECH_
    TRANSCRIBERS``), else the local model for the languages it knows, else the HTTP server
    when one is configured. Raises UnsupportedLanguage naming what would make it work."""
    chosen = routes.get(language)
    if chosen is None:
        chosen = LOCAL if language in LOCAL_LANGUAGES else HTTP
    if chosen == LOCAL:
        if language not in LOCAL_LANGUAGES:
            raise UnsupportedLanguage(
                f"the offline model (tiny.en) transcribes English only, not '{language}': "
                "configure an OpenAI-compatible Whisper server (CIRCULO_SPEECH_HTTP_URL, the "
                "HTTP adapter) for other languages")
        return LOCAL
    if not http_configured:
        raise UnsupportedLanguage(
            f"no transcriber for '{language}' here: the offline model is English only; set "
            "CIRCULO_SPEECH_HTTP_URL to an OpenAI-compatible Whisper server (the HTTP adapter)")
    return HTTP


def check_prompt(text: str, language: str) -> str:
    """The text of a prompt, checked before anything runs: raises BadText / UnsupportedLanguage
    naming the field and the reason."""
    if language not in VOICES:
        raise UnsupportedLanguage(
            f"no voice for '{language}'; expected one of {sorted(VOICES)}",
            errors=[{"field": "language", "code": "unsupported_language",
                     "detail": f"expected one of {sorted(VOICES)}"}])
    stripped = text.strip()
    if not stripped:
        raise BadText("the text is empty", errors=[
            {"field": "text", "code": "empty", "detail": "nothing to say"}])
    if len(text) > MAX_SYNTHESIS_CHARS:
        raise BadText(f"the text has {len(text)} characters; at most {MAX_SYNTHESIS_CHARS}",
                      errors=[{"field": "text", "code": "too_long",
                               "detail": f"at most {MAX_SYNTHESIS_CHARS} characters"}])
    if any((ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0
           or 0xD800 <= ord(c) < 0xE000 for c in text):
        raise BadText("the text contains control characters", errors=[
            {"field": "text", "code": "control_characters",
             "detail": "control characters (other than line breaks and tabs) are refused"}])
    return stripped
