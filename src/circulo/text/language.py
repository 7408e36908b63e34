"""Which language a message is in: Spanish, English, or undetermined. Pure.

``lingua`` (a Rust detector with its models inside the wheel) built for the two languages the
contact center serves, nothing else: comparing two is faster and more accurate on short text
than telling apart seventy-five. One call to ``compute_language_confidence`` costs about 17 µs
on a chat line here (``detect_language_of`` costs about 120 µs), so detection is done on the
first ``DETECT_CHARS`` characters only. Text with fewer than ``MIN_LETTERS`` letters (empty,
emoji only, "ok", a number) is "und": a guess there would be noise.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from circulo.text.model import LANGUAGES, UNKNOWN_LANGUAGE

MIN_LETTERS = 3
DETECT_CHARS = 300


@lru_cache(maxsize=1)
def _detector() -> tuple[Any, Any]:
    from lingua import Language, LanguageDetectorBuilder

    detector = LanguageDetectorBuilder.from_languages(Language.SPANISH,
                                                      Language.ENGLISH).build()
    return detector, Language.SPANISH


def letters(text: str) -> int:
    return sum(1 for c in text if c.isalpha())


def detect(text: str) -> str:
    """"es", "en" or "und"."""
    head = text[:DETECT_CHARS]
    if letters(head) < MIN_LETTERS:
        return UNKNOWN_LANGUAGE
    detector, spanish = _detector()
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
