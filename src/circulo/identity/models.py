"""Tables of the identity domain: who holds which identifier, and the merge log."""

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


class IdentifierRow(Base):
    """One identifier held by one profile. ``origin_profile_id`` never changes, so that a
    merge can be undone by moving rows back to the profile they came from."""

    __tablename__ = "identifiers"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(320))
    profile_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    origin_profile_id: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_identifiers_value_kind", "value", "kind"),)


class MergeLogEntry(Base):
    """Append-only. A merge and its undo are two rows; nothing here is updated or deleted,
    except that erasure scrubs the free-text reason of an erased person's entries."""

    __tablename__ = "merge_log"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    action: Mapped[str] = mapped_column(String(8))  # merge | undo
    survivor_id: Mapped[str] = mapped_column(String(32), index=True)
    absorbed_id: Mapped[str] = mapped_column(String(32), index=True)
    undoes_id: Mapped[str | None] = mapped_column(String(32), nullable=True, unique=True)
    reason: Mapped[str] = mapped_column(Text)
    link_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    event_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SharedIdentifierFlag(Base):
    """An identifier that never links: seen on more profiles than the merge limit
    (``reason`` "limit"), or held by two people the evidence told apart ("declined")."""

    __tablename__ = "shared_identifiers"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(320), primary_key=True)
    profile_count: Mapped[int] = mapped_column(Integer)
    first_flagged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(16), default="limit", server_default="limit")


class Suggestion(Base):
    """A pair of customers that may be one person, for a person to review: from a link the
    evidence declined at ingest, or from batch deduplication. ``profile_a`` is the side the
    evidence calls left. One row per pair (``pair_key``): a rejected pair stays rejected."""

    __tablename__ = "identity_suggestions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    pair_key: Mapped[str] = mapped_column(String(65), unique=True)
    profile_a: Mapped[str] = mapped_column(String(32), index=True)
    profile_b: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(12))  # open|accepted|rejected|obsolete
    origin: Mapped[str] = mapped_column(String(12))  # ingest|dedupe
    score: Mapped[float] = mapped_column(Float)  # match weight: log2 odds, + agrees
    probability: Mapped[float | None] = mapped_column(Float, nullable=True)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    shared: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    event_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    merge_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    note: Mapped[str | None] = mapped_column(String(200), nullable=True)

    __table_args__ = (Index("ix_identity_suggestions_status_time", "status", "created_at"),)


class DedupeRun(Base):
    """One run of ``circulo identity dedupe``: scored pairs are stored first, then applied
    in small transactions, so an interrupted run resumes where it stopped."""

    __tablename__ = "dedupe_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(12))  # scored|applied|failed
    dry_run: Mapped[bool] = mapped_column(Boolean)
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    profiles: Mapped[int] = mapped_column(Integer, default=0)
    compared: Mapped[int] = mapped_column(BigInteger, default=0)
    candidates: Mapped[int] = mapped_column(Integer, default=0)
    suggested: Mapped[int] = mapped_column(Integer, default=0)
    merged: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    actor: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class DedupePair(Base):
    """A pair the model scored above the suggestion threshold in a run, and what became of
    it (``outcome``: suggested, merged, or skipped with the reason)."""

    __tablename__ = "dedupe_pairs"

    run_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_a: Mapped[str] = mapped_column(String(32))
    profile_b: Mapped[str] = mapped_column(String(32))
    probability: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    outcome: Mapped[str | None] = mapped_column(String(40), nullable=True)

    __table_args__ = (UniqueConstraint("run_id", "profile_a", "profile_b",
                                       name="uq_dedupe_pairs_pair"),)


class ErasedIdentifier(Base):
    """HMAC-SHA256 (server key) of ``kind:value``: no identifier can be read back from it, and
    without the key nobody can even test a guess (a phone number's space is small)."""

    __tablename__ = "erased_identifiers"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime())
