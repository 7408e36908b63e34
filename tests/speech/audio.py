"""Speech for the tests, made here by espeak-ng (no audio file is shipped), and WER."""

from __future__ import annotations

import re
import shutil
from functools import cache

import pytest

from circulo.speech.espeak import EspeakSynthesizer

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="Debian's espeak-ng is not installed")


@cache
def spoken(text: str, language: str = "en") -> bytes:
    return EspeakSynthesizer().synthesize(text, language=language)


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return float(jiwer.wer(normalise(reference), normalise(hypothesis)))
