"""Which language a message is in: Spanish, English, or undetermined. Pure.

``lingua`` (a Rust detector with its models inside the wheel) built for the two languages the
contact center serves, nothing else: comparing two is faster and more accurate on short text
than telling apart seventy-five. ``compute_language_confidence`` costs about 17 µs on a chat
line here (``detect_language_of``: about 120 µs) and grows with the length, so only the first
``DETECT_CHARS`` characters are read, and text longer than ``PRECISE_CHARS`` goes to lingua's
low-accuracy mode (trigrams only: half the cost, and on the labelled train split the same
answers; the full mode is what short text needs). The models are loaded when the detector is
built, not on the first message. Text with fewer than ``MIN_LETTERS`` letters (empty, emoji
only, "ok", a number) is "und": a guess there would be noise.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from circulo.text.model import LANGUAGES, UNKNOWN_LANGUAGE

MIN_LETTERS = 3
DETECT_CHARS = 300
PRECISE_CHARS = 120


@lru_cache(maxsize=1)
def _detectors() -> tuple[Any, Any, Any]:
    from lingua import Language, LanguageDetectorBuilder

    def builder() -> Any:
        return LanguageDetectorBuilder.from_languages(
            Language.SPANISH, Language.ENGLISH).with_preloaded_language_models()

    return builder().build(), builder().with_low_accuracy_mode().build(), Language.SPANISH


def letters(text: str) -> int:
    return sum(1 for c in text if c.isalpha())


def detect(text: str) -> str:
    """"es", "en" or "und"."""
    head = text[:DETECT_CHARS]
    if letters(head) < MIN_LETTERS:
        return UNKNOWN_LANGUAGE
    precise, quick, spanish = _detectors()
    detector = precise if len(head) <= PRECISE_CHARS else quick
    return "es" if detector.compute_language_confidence(head, spanish) >= 0.5 else "en"


def checked(language: str | None) -> str | None:
    """A language code a caller forces, normalised ("ES" → "es"), or ``ValueError``."""
    if language is None:
        return None
    code = language.strip().lower()
    if code not in LANGUAGES:
        raise ValueError(f"unsupported language {language[:20]!r} (expected one of "
                         f"{', '.join(LANGUAGES)})")
    return code
