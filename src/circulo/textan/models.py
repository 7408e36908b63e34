"""The analysis inbox: one row per stored event that carries text, written in the transaction
that stored it and taken by the worker in order. A row leaves in the same commit as its
result, so a crash between the two leaves it to redo; one that keeps failing stays, marked
``failed``, out of the worker's way."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from circulo.db import Base, UTCDateTime

BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class TextInbox(Base):
    __tablename__ = "text_inbox"

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)

    # The worker reads the rows still to do, in order: failed ones are out of that index's way.
    __table_args__ = (Index("ix_text_inbox_todo", "failed_at", "seq"),)
