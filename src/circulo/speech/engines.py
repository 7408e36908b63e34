"""The engines a process uses, chosen by the settings: one transcriber per language and the
prompt synthesizer. The local model is built once per process (``WhisperTranscriber`` loads
lazily and shares the loaded model)."""

from __future__ import annotations

from circulo.config import Settings
from circulo.speech.espeak import EspeakSynthesizer
from circulo.speech.http_whisper import HttpWhisperTranscriber
from circulo.speech.model import LOCAL, Synthesizer, Transcriber, transcriber_kind
from circulo.speech.whisper import WhisperTranscriber


def transcriber_for(settings: Settings, language: str) -> Transcriber:
    """Raises UnsupportedLanguage when no transcriber here hears ``language``."""
    kind = transcriber_kind(language, settings.speech_transcribers,
                            http_configured=settings.speech_http_url is not None)
    if kind == LOCAL:
        return WhisperTranscriber(settings.speech_model_dir, threads=settings.speech_threads,
                                  max_seconds=settings.speech_max_seconds)
    assert settings.speech_http_url is not None  # noqa: S101 - transcriber_kind checked it
    return HttpWhisperTranscriber(
        settings.speech_http_url, policy=settings.egress, model=settings.speech_http_model,
        api_key=settings.speech_http_api_key, timeout=settings.speech_http_timeout,
        max_seconds=settings.speech_max_seconds)


def synthesizer_for(settings: Settings) -> Synthesizer:
    return EspeakSynthesizer(settings.speech_espeak)
