"""API shapes of recordings and prompts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from circulo.speech.model import MAX_SYNTHESIS_CHARS
from circulo.speech.models import Recording
from circulo.speech.service import AnalysisSummary


class SegmentOut(BaseModel):
    start: float = Field(description="Seconds from the start of the recording")
    end: float
    text: str


class AnalysisOut(BaseModel):
    sentiment: str | None = Field(description="negative, neutral or positive")
    score: float | None
    urgent: bool
    reasons: list[str] = Field(description="Urgency reasons: churn_threat, legal_threat...")
    intent: str | None


class RecordingOut(BaseModel):
    id: str
    customer_id: str
    call_id: str | None
    language: str
    status: Literal["pending", "processing", "transcribed", "failed"]
    reason: str | None = Field(description="Why it failed: bad_audio, too_long, "
                               "unsupported_language, unavailable, engine_failed, attempts")
    detail: str | None
    content_type: str
    size: int = Field(description="Bytes of audio")
    duration: float | None = Field(description="Seconds of audio, once transcribed")
    engine: str | None
    transcript: str | None
    created_at: datetime
    updated_at: datetime
    audio_url: str
    segments: list[SegmentOut] | None = Field(
        default=None, description="Timestamped transcript (one recording only)")
    analysis: AnalysisOut | None = Field(
        default=None, description="The transcript's text analysis, once made (one recording "
        "only)")

    @classmethod
    def of(cls, recording: Recording, *, full: bool = False,
           analysis: AnalysisSummary | None = None) -> RecordingOut:
        out: dict[str, Any] = {c: getattr(recording, c) for c in (
            "id", "customer_id", "call_id", "language", "status", "reason", "detail",
            "content_type", "size", "duration", "engine", "transcript", "created_at",
            "updated_at")}
        out["audio_url"] = f"/v1/recordings/{recording.id}/audio"
        if full:
            out["segments"] = recording.segments or []
            out["analysis"] = analysis.as_json() if analysis else None
        return cls.model_validate(out)


class RecordingPage(BaseModel):
    total: int = Field(description="Recordings matching, all pages")
    limit: int
    offset: int
    items: list[RecordingOut]


class SynthesizeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"text": "Gracias por llamar. Para hablar con un agente, pulse uno.",
                      "language": "es"}]})

    text: str = Field(min_length=1, max_length=MAX_SYNTHESIS_CHARS,
                      description="What to say: a prompt of a sentence or two")
    language: Literal["es", "en"] = Field(description="es: Spanish voice; en: American "
                                          "English voice (espeak-ng)")
