"""Tables of the customer domain: profiles, business records and the event timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from circulo.db import Base, JSONType, UTCDateTime

BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Profile(Base):
    """One real customer. Traits carry provenance in ``trait_meta``; indicators are kept
    incrementally on ingest (see ``customers.indicators``)."""

    __tablename__ = "profiles"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(8), default="active")  # active|merged|erased
    merged_into: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    display_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    traits: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    trait_meta: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    consent: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    indicators: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    pin_hash: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Which source stated which e-mail and phone (kept from events, like indicators): the
    # resolver weighs "the CRM already gave this person another address" (identity).
    contacts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict,
                                                     server_default="{}")


class Event(Base):
    """Everything that happens to a customer. ``origin_profile_id`` is the profile the event
    was first resolved to; ``profile_id`` follows merges (and undoes)."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    profile_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    origin_profile_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    resolution: Mapped[str] = mapped_column(String(12))
    identifiers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    traits: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    candidates: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)
    # What reading the event's text found (``circulo.text.model.Analysis.as_dict()``: the
    # redacted text, never the raw text again), written by the analysis worker (ADR 0025).
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)

    __table_args__ = (
        UniqueConstraint("client_id", "source", name="uq_events_client_id_source"),
        Index("ix_events_profile_time", "profile_id", "occurred_at", "id"),
        Index("ix_events_type_time", "type", "occurred_at"),
    )


class Record(Base):
    """A business record linked to a customer: order, invoice, dispute, ticket, subscription,
    shipment, complaint. Upserted from events by (kind, source, key)."""

    __tablename__ = "records"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    profile_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("profiles.id", ondelete="CASCADE")
    )
    origin_profile_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    source: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(40))
    is_open: Mapped[bool] = mapped_column(Boolean)
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    amount: Mapped[float | None] = mapped_column(Float, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        UniqueConstraint("key", "kind", "source", name="uq_records_key_kind_source"),
        Index("ix_records_profile_open", "profile_id", "is_open", "updated_at"),
    )


class PinAttempts(Base):
    """Wrong PINs per customer (customers.pins), in the database so that every worker counts
    the same and a restart forgets nothing. No row: no wrong PIN since the last right one."""

    __tablename__ = "pin_attempts"

    profile_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    lockouts: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CustomerNote(Base):
    """A note an agent left on a customer, that every agent sees on the card (issue 16)."""

    __tablename__ = "customer_notes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32))
    author_id: Mapped[str] = mapped_column(String(32))  # the user
    author_name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_customer_notes_customer", "customer_id", "created_at"),)


class CustomerViewer(Base):
    """Who has a customer's card open: a row per (customer, user), its ``seen_at`` refreshed
    while the card stays open, so every process answers "who else is looking"."""

    __tablename__ = "customer_viewers"

    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_customer_viewers_user", "user_id", "seen_at"),)
