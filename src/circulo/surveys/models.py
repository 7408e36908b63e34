"""The surveys' tables: the invitation sent after an interaction and the one response to it.

An invitation keeps only the SHA-256 of its link's token, never the token. ``task_id`` is
unique in both tables: one invitation and one response per interaction, enforced by the
database whatever the number of processes answering at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from circulo.db import Base, UTCDateTime


class SurveyInvitation(Base):
    __tablename__ = "survey_invitations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # svi_…
    task_id: Mapped[str] = mapped_column(String(64), unique=True)  # the interaction
    survey: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    queue: Mapped[str | None] = mapped_column(String(64), nullable=True)
    site: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    channel: Mapped[str] = mapped_column(String(8))  # sms | email | ivr | none (skipped)
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12))  # sent | skipped | answered
    skipped_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(40), nullable=True)  # the outbox's
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    send_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SurveyResponse(Base):
    __tablename__ = "survey_responses"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # svr_…
    task_id: Mapped[str] = mapped_column(String(64), unique=True)
    invitation_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    survey: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    queue: Mapped[str | None] = mapped_column(String(64), nullable=True)
    site: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    channel: Mapped[str] = mapped_column(String(8))  # web | ivr
    language: Mapped[str] = mapped_column(String(8))
    csat: Mapped[int | None] = mapped_column(Integer, nullable=True)
    nps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
