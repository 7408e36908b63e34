"""Tables of the identity domain: who holds which identifier, and the merge log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from circulo.db import Base, UTCDateTime

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
    """An identifier seen on more profiles than the merge limit: never used to merge."""

    __tablename__ = "shared_identifiers"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(320), primary_key=True)
    profile_count: Mapped[int] = mapped_column(Integer)
    first_flagged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
