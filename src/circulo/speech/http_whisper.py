"""Speech-to-text for languages the offline model does not know (Spanish first): an external
Whisper server speaking OpenAI's documented API, ``POST {base}/v1/audio/transcriptions``
(multipart: ``file``, ``model``, ``language``, ``response_format=verbose_json``; the answer
carries ``duration`` and ``segments`` with ``start``/``end``/``text``). faster-whisper-server
(speaches), whisper.cpp's server, LocalAI and OpenAI itself answer this shape.

No such server runs with Círculo: this adapter is tested against a small local fake that
speaks the documented format (tests/speech/fake_whisper.py), not against a real model.

The request goes where ``circulo.egress`` allows (private addresses only when
``CIRCULO_EGRESS_ALLOW`` names them, checked again at connection time), with a timeout, and
the answer is read up to a bound: a server cannot make Círculo wait or swallow memory."""

from __future__ import annotations

import math
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from circulo.connectors.outbound import checked_transport, http_error
from circulo.egress import EgressError, EgressPolicy
from circulo.speech.model import (
    Audio,
    AudioTooLong,
    EngineFailed,
    Segment,
    SpeechUnavailable,
    Transcript,
)

MAX_ANSWER_BYTES = 4 * 1024 * 1024  # an hour of speech is ~60 KB of text; segments add little
MAX_SEGMENTS = 20_000


class _Segment(BaseModel):
    model_config = ConfigDict(extra="ignore")

    start: float = Field(ge=0)
    end: float = Field(ge=0)
    text: str = Field(max_length=10_000)


class _Answer(BaseModel):
    """The parts of OpenAI's ``verbose_json`` transcription this adapter reads."""

    model_config = ConfigDict(extra="ignore")

    duration: float | None = Field(default=None, ge=0)
    text: str = Field(default="", max_length=1_000_000)
    segments: list[_Segment] = Field(default_factory=list, max_length=MAX_SEGMENTS)


class HttpWhisperTranscriber:
    """An OpenAI-compatible Whisper server at ``base_url``."""

    def __init__(self, base_url: str, *, policy: EgressPolicy, model: str = "whisper-1",
                 api_key: SecretStr | None = None, timeout: float = 120.0,
                 max_seconds: float = 3600.0, max_answer_bytes: int = MAX_ANSWER_BYTES
                 ) -> None:
        self.base_url = base_url.rstrip("/")
        self.policy = policy
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.max_seconds = max_seconds
        self.max_answer_bytes = max_answer_bytes
        self.name = f"http-whisper:{model}"

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/v1/audio/transcriptions"

    def transcribe(self, audio: Audio, *, language: str) -> Transcript:
        """Raises SpeechUnavailable (the address is refused), EngineFailed (no answer in
        time, an error status, an oversized or malformed answer) or AudioTooLong."""
        try:
            self.policy.check_url(self.endpoint)
        except EgressError as exc:
            raise SpeechUnavailable(
                f"the Whisper server's address is {exc}; name it in CIRCULO_EGRESS_ALLOW if "
                "it is an internal server") from None
        headers = {"Accept": "application/json"}
        if self.api_key is not None:
            headers["Authorization"] = f"Bearer {self.api_key.get_secret_value()}"
        form = {"model": self.model, "language": language, "response_format": "verbose_json"}
        try:
            with ExitStack() as files:
                return self._post(files, audio, headers, form, language)
        except httpx.TimeoutException as exc:
            raise EngineFailed(f"the Whisper server did not answer within "
                               f"{self.timeout:g} s") from exc
        except httpx.ConnectError as exc:
            reason = str(exc)
            if reason.startswith("refused"):
                raise SpeechUnavailable(
                    f"the Whisper server's address is {reason}; name it in "
                    "CIRCULO_EGRESS_ALLOW if it is an internal server") from None
            raise EngineFailed("could not connect to the Whisper server") from exc
        except httpx.HTTPError as exc:
            raise EngineFailed(f"the request to the Whisper server failed "
                               f"({type(exc).__name__})") from exc

    def _post(self, files: ExitStack, audio: Audio, headers: dict[str, str],
              form: dict[str, str], language: str) -> Transcript:
        # A recording is streamed from disk by httpx, never read whole.
        body: Any = files.enter_context(audio.open("rb")) if isinstance(audio, Path) else audio
        with httpx.Client(transport=checked_transport(self.policy),
                          timeout=httpx.Timeout(self.timeout),
                          follow_redirects=False) as client, \
                client.stream("POST", self.endpoint, headers=headers, data=form,
                              files={"file": ("recording", body,
                                              "application/octet-stream")}) as answer:
            if answer.status_code != 200:
                status = http_error(answer.status_code)
                raise EngineFailed(f"the Whisper server answered {status}")
            raw = _bounded(answer, self.max_answer_bytes)
        return self._transcript(raw, language)

    def _transcript(self, raw: bytes, language: str) -> Transcript:
        try:
            parsed = _Answer.model_validate(orjson.loads(raw))
        except (orjson.JSONDecodeError, ValidationError) as exc:
            raise EngineFailed("the Whisper server's answer is not a verbose_json "
                               "transcription") from exc
        segments = tuple(Segment(s.start, max(s.end, s.start), s.text.strip())
                         for s in parsed.segments
                         if s.text.strip() and math.isfinite(s.start) and math.isfinite(s.end))
        if not segments and parsed.text.strip():
            segments = (Segment(0.0, parsed.duration or 0.0, parsed.text.strip()),)
        duration = parsed.duration if parsed.duration is not None else \
            max((s.end for s in segments), default=0.0)
        if duration > self.max_seconds:
            raise AudioTooLong(f"the audio lasts {duration:.0f} s; at most "
                               f"{self.max_seconds:.0f} s")
        return Transcript(language=language, segments=segments, duration=round(duration, 3),
                          engine=self.name)


def _bounded(answer: httpx.Response, limit: int) -> bytes:
    declared = answer.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise EngineFailed(f"the Whisper server's answer exceeds {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    for chunk in answer.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise EngineFailed(f"the Whisper server's answer exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
