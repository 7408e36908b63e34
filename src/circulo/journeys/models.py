"""Journey tables: definitions and their versions, running instances with their timers, the
per-customer state (counters, entries), the inbox of events to evaluate, the log of actions,
named customer lists and next-best-action suggestions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from circulo.db import Base, JSONType, UTCDateTime

BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class JourneyRow(Base):
    """A journey by name: its latest version, and which version (if any) is switched on."""

    __tablename__ = "journeys"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(8))  # active | paused
    latest_version: Mapped[int] = mapped_column(Integer)
    active_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JourneyVersion(Base):
    """Every version ever saved; an instance finishes on the version it started on."""

    __tablename__ = "journey_versions"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)  # the YAML as submitted
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JourneyInstance(Base):
    """One customer's way through a journey. ``due_at`` is its durable timer: the runner
    fires waits whose time has come, once, whatever restarts happen in between."""

    __tablename__ = "journey_instances"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    journey: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    step: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8))  # running | waiting | done
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    waiting_for: Mapped[list[str]] = mapped_column(JSONType, default=list)
    vars: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    exit: Mapped[str | None] = mapped_column(String(80), nullable=True)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_journey_instances_timer", "status", "due_at"),
        Index("ix_journey_instances_customer", "customer_id", "status"),
        Index("ix_journey_instances_journey", "journey", "status"),
    )


class JourneyCustomer(Base):
    """The journeys' memory of one customer (``engine.CustomerState`` as JSON)."""

    __tablename__ = "journey_customers"

    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JourneyInbox(Base):
    """Events some journey listens to, written in the transaction that stored them and taken
    by the runner in order: ingestion never waits on journeys, and nothing is lost."""

    __tablename__ = "journey_inbox"

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class JourneyAction(Base):
    """Every action a journey took or tried, with its outcome: done, queued (left through the
    outbox), skipped (e.g. no consent) or failed. ``key`` (instance:step:n) makes an action
    happen once even if a pass is repeated."""

    __tablename__ = "journey_actions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(140), unique=True)
    journey: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    instance_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    customer_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    step: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))
    outcome: Mapped[str] = mapped_column(String(8))  # done | queued | skipped | failed
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    elapsed_ms: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (Index("ix_journey_actions_journey", "journey", "kind", "outcome"),)


class CustomerListMember(Base):
    """Named lists journeys fill (the loyalty campaign, the gift list, a callback list)."""

    __tablename__ = "customer_lists"

    list: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(100))


class Suggestion(Base):
    """A next best action shown on the customer's card, until accepted, dismissed or over."""

    __tablename__ = "suggestions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32), index=True)
    journey: Mapped[str] = mapped_column(String(64))
    instance_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    code: Mapped[str] = mapped_column(String(64))
    text: Mapped[dict[str, str]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(10))  # open | accepted | dismissed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
