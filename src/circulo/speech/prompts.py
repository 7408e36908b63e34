"""IVR prompts from a file: ``prompts:`` maps a prompt id to its text per language, and each
becomes ``<id>.<language>.wav`` (``circulo prompts synthesize``)::

    prompts:
      welcome:
        es: Gracias por llamar. Esta llamada puede ser grabada.
        en: Thank you for calling. This call may be recorded.

Every prompt is checked before any is spoken, so a bad line leaves no half-made set."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from circulo.speech.model import VOICES, SpeechError, Synthesizer, check_prompt
from circulo.yaml_files import load_section

PROMPT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MAX_PROMPTS = 500


class PromptsError(ValueError):
    """The prompts file is refused; the message names the prompt and the reason."""


@dataclass(frozen=True, slots=True)
class Prompt:
    id: str
    language: str
    text: str

    @property
    def filename(self) -> str:
        return f"{self.id}.{self.language}.wav"


def load(path: Path) -> list[Prompt]:
    section = load_section(path, "prompts", "prompts", PromptsError)
    if len(section) > MAX_PROMPTS:
        raise PromptsError(f"{path}: {len(section)} prompts; at most {MAX_PROMPTS}")
    prompts: list[Prompt] = []
    for prompt_id, texts in section.items():
        if not PROMPT_ID.fullmatch(prompt_id):
            raise PromptsError(f"{path}: prompt '{prompt_id}': ids are lower-case letters, "
                               "digits, - and _ (they name the files)")
        if not isinstance(texts, dict) or not texts:
            raise PromptsError(f"{path}: prompt '{prompt_id}': expected its text per "
                               f"language ({', '.join(VOICES)})")
        for language, text in texts.items():
            if not isinstance(text, str):
                raise PromptsError(f"{path}: prompt '{prompt_id}.{language}': expected text")
            try:
                spoken = check_prompt(text, language)
            except SpeechError as exc:
                raise PromptsError(f"{path}: prompt '{prompt_id}.{language}': {exc.detail}"
                                   ) from None
            prompts.append(Prompt(prompt_id, language, spoken))
    return prompts


def synthesize_all(prompts: list[Prompt], synthesizer: Synthesizer, out: Path,
                   progress: Callable[[Prompt], None] | None = None) -> list[Path]:
    """Each prompt spoken into ``out`` (created if needed); the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for prompt in prompts:
        target = out / prompt.filename
        target.write_bytes(synthesizer.synthesize(prompt.text, language=prompt.language))
        written.append(target)
        if progress is not None:
            progress(prompt)
    return written
