"""espeak-ng speaks IVR prompts in Spanish and English as valid WAV; bad text is refused
before the program runs."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import pytest

from circulo.speech.espeak import EspeakSynthesizer
from circulo.speech.model import BadText, SpeechUnavailable, UnsupportedLanguage
from tests.speech.audio import needs_espeak

pytestmark = needs_espeak


@pytest.mark.parametrize(("language", "text"), [
    ("es", "Gracias por llamar. Para hablar con un agente, pulse uno."),
    ("en", "Thank you for calling. To speak with an agent, press one."),
])
def test_prompts_are_wav_in_both_languages(language: str, text: str) -> None:
    audio = EspeakSynthesizer().synthesize(text, language=language)
    with wave.open(io.BytesIO(audio)) as wav:
        assert wav.getframerate() == 22050
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
        frames = wav.getnframes()
        # A real length in the header (not the "unknown" of a pipe), matching the data.
        assert 22050 < frames < 22050 * 10
        assert len(wav.readframes(frames)) == frames * 2


def test_the_two_voices_differ() -> None:
    synthesizer = EspeakSynthesizer()
    assert synthesizer.synthesize("Hola", language="es") != \
        synthesizer.synthesize("Hola", language="en")


@pytest.mark.parametrize(("text", "code"), [
    ("", "empty"), ("   \n ", "empty"), ("x" * 100_000, "too_long"),
    ("press one\x07", "control_characters"), ("bad\x00text", "control_characters"),
    ("\x1b[31mred", "control_characters"), ("lone \ud800 surrogate", "control_characters"),
])
def test_bad_text_is_refused_naming_the_field(text: str, code: str) -> None:
    with pytest.raises(BadText) as caught:
        EspeakSynthesizer().synthesize(text, language="en")
    assert caught.value.errors == [{"field": "text", "code": code,
                                    "detail": caught.value.errors[0]["detail"]}]
    assert caught.value.status == 422


def test_a_language_without_a_voice_is_refused() -> None:
    with pytest.raises(UnsupportedLanguage) as caught:
        EspeakSynthesizer().synthesize("Bonjour", language="fr")
    assert caught.value.errors and caught.value.errors[0]["field"] == "language"


def test_text_is_spoken_never_taken_as_options(tmp_path: Path) -> None:
    target = tmp_path / "written.wav"
    audio = EspeakSynthesizer().synthesize(f"-w {target} --version; rm -rf /",
                                           language="en")
    assert not target.exists()
    with wave.open(io.BytesIO(audio)) as wav:
        assert wav.getnframes() > 22050  # all of it was read out


def test_a_missing_program_says_so(tmp_path: Path) -> None:
    with pytest.raises(SpeechUnavailable, match="espeak-ng is not installed"):
        EspeakSynthesizer(str(tmp_path / "espeak-ng")).synthesize("Hello", language="en")
