"""Recorded calls and their transcripts. The audio is a file under ``<data_dir>/recordings``
named by the row's id (never by anything a client sent); the row says whose call it is, how
far its transcription got, and holds the transcript for search. Both are customer data:
erasure deletes the rows and their files (``circulo.privacy.erasure``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from circulo.db import Base, JSONType, UTCDateTime

PENDING, PROCESSING, TRANSCRIBED, FAILED = "pending", "processing", "transcribed", "failed"
STATUSES = (PENDING, PROCESSING, TRANSCRIBED, FAILED)


class Recording(Base):
    __tablename__ = "recordings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32))
    call_id: Mapped[str | None] = mapped_column(String(200))  # the PBX's call or the task
    language: Mapped[str] = mapped_column(String(8))
    # Where the audio is: <data_dir>/recordings/<id>, absolute, so erasure (which knows no
    # settings) finds it.
    path: Mapped[str] = mapped_column(String(1000))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)  # bytes on disk
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))  # why it failed: a stable code
    detail: Mapped[str | None] = mapped_column(String(500))  # ... and in words
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # while processing
    duration: Mapped[float | None] = mapped_column(Float)  # seconds
    engine: Mapped[str | None] = mapped_column(String(64))
    transcript: Mapped[str | None] = mapped_column(Text)  # the segments' text, searched
    segments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    recorded_event_id: Mapped[str | None] = mapped_column(String(32))  # call.recorded
    event_id: Mapped[str | None] = mapped_column(String(32))  # call.transcribed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_recordings_status", "status", "created_at"),
        Index("ix_recordings_customer", "customer_id", "created_at"),
        Index("ix_recordings_created", "created_at"),
    )
