"""Routing tables: policy versions, agents, tasks, offers, overrides, statistics, the lease.

The database is the record; the dispatcher keeps the waiting tasks and agents in memory to
decide fast, and every decision is written with conditional updates under row locks, so it
stays correct whatever process made it (ADR 0008).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from circulo.db import Base, JSONType, UTCDateTime

BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class RoutingPolicyVersion(Base):
    """Every routing configuration ever applied; the highest version is in force."""

    __tablename__ = "routing_policies"

    version: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)  # the YAML as submitted
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AgentRow(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    site: Mapped[str] = mapped_column(String(64))
    skills: Mapped[dict[str, int]] = mapped_column(JSONType)
    languages: Mapped[list[str]] = mapped_column(JSONType)
    queues: Mapped[list[str]] = mapped_column(JSONType)
    teams: Mapped[list[str]] = mapped_column(JSONType)
    capacity: Mapped[dict[str, int]] = mapped_column(JSONType)
    wrap_up: Mapped[float | None] = mapped_column(Float, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set by the agent: available | away | offline.
    presence: Mapped[str] = mapped_column(String(12))
    away_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    presence_since: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set by the system from the agent's tasks: idle | reserved | busy | wrap_up.
    activity: Mapped[str] = mapped_column(String(12))
    activity_since: Mapped[datetime] = mapped_column(UTCDateTime())
    load: Mapped[dict[str, int]] = mapped_column(JSONType)  # tasks held, by channel
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    assigned: Mapped[int] = mapped_column(Integer, default=0)
    wrapping: Mapped[int] = mapped_column(Integer, default=0)
    free_since: Mapped[datetime] = mapped_column(UTCDateTime())  # for "longest idle"
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # bumped with every change, so the dispatcher re-reads only the rows it has not seen
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TaskRow(Base):
    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    kind: Mapped[str] = mapped_column(String(12))  # contact | callback
    queue: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(12))
    # pending | reserved | assigned | wrapping | completed | canceled | abandoned
    state: Mapped[str] = mapped_column(String(12))
    customer_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    identifiers: Mapped[dict[str, Any]] = mapped_column(JSONType)
    priority: Mapped[int] = mapped_column(Integer)
    skills: Mapped[dict[str, int]] = mapped_column(JSONType)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType)
    context: Mapped[dict[str, Any]] = mapped_column(JSONType)  # the customer, for the policy
    team: Mapped[str | None] = mapped_column(String(64), nullable=True)
    boost: Mapped[int] = mapped_column(Integer, default=0)
    sl_seconds: Mapped[float] = mapped_column(Float)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=1)
    parent_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    declined: Mapped[dict[str, str]] = mapped_column(JSONType)  # agent id -> when (ISO)
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime())  # waiting counts from here
    reserved_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(40), nullable=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSONType)  # disposition, notes, data
    version: Mapped[int] = mapped_column(Integer, default=1)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_tasks_external"),
        Index("ix_tasks_state_queue", "state", "queue"),
        Index("ix_tasks_customer", "customer_id", "created_at"),
        Index("ix_tasks_reserved_until", "state", "reserved_until"),
        # covering: the reports read a month of tasks from this index alone (ADR 0021)
        Index("ix_tasks_report", "created_at", "kind", "queue", "channel", "state",
              "agent_id", "reason", "customer_id", "sl_seconds", "queued_at", "assigned_at",
              "completed_at", "id"),
    )


class TaskOffer(Base):
    """Each reservation of a task for an agent, and how it ended."""

    __tablename__ = "task_offers"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(String(32), index=True)
    agent_id: Mapped[str] = mapped_column(String(64), index=True)
    step: Mapped[str] = mapped_column(String(100))
    # the queue's priority rules that held for the task when it was offered ("why me, why
    # now" on the agent's desk): each rule's condition and the points it added
    rules: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    # offered | accepted | rejected | timeout | revoked
    outcome: Mapped[str] = mapped_column(String(12))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RoutingOverride(Base):
    """A temporary change to how one customer is routed (set by journeys or the API)."""

    __tablename__ = "routing_overrides"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32), index=True)
    queue: Mapped[str | None] = mapped_column(String(64), nullable=True)
    team: Mapped[str | None] = mapped_column(String(64), nullable=True)
    priority_boost: Mapped[int] = mapped_column(Integer, default=0)
    ivr: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    source: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RoutingStat(Base):
    """Counters per 15-minute interval and scope (queue, site or agent), incremented in the
    transaction of each transition: live figures without recounting."""

    __tablename__ = "routing_stats"

    bucket: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    offered: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    answered_in_sl: Mapped[int] = mapped_column(Integer, default=0)
    abandoned: Mapped[int] = mapped_column(Integer, default=0)
    abandoned_short: Mapped[int] = mapped_column(Integer, default=0)
    wait_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    handled: Mapped[int] = mapped_column(Integer, default=0)
    handle_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    missed: Mapped[int] = mapped_column(Integer, default=0)
    busy_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    staffed_seconds: Mapped[float] = mapped_column(Float, default=0.0)


class RoutingLease(Base):
    """Which process runs the dispatcher now; others stand by until the lease expires."""

    __tablename__ = "routing_leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
