"""Every query of the privacy package (suppression list, retention)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from circulo.customers.models import Event
from circulo.privacy.models import ErasedIdentifier

CHUNK = 500


def any_suppressed(session: Session) -> bool:
    return session.scalar(select(ErasedIdentifier.digest).limit(1)) is not None


def suppressed_among(session: Session, digests: Sequence[str]) -> set[str]:
    found: set[str] = set()
    unique = sorted(set(digests))
    for start in range(0, len(unique), CHUNK):
        found.update(session.scalars(select(ErasedIdentifier.digest).where(
            ErasedIdentifier.digest.in_(unique[start:start + CHUNK]))))
    return found


def add_suppressions(session: Session, digests: Sequence[str], now: datetime) -> int:
    new = sorted(set(digests) - suppressed_among(session, digests))
    session.add_all(ErasedIdentifier(digest=d, erased_at=now) for d in new)
    return len(new)


def lift_suppressions(session: Session, digests: Sequence[str]) -> int:
    result = session.execute(delete(ErasedIdentifier).where(
        ErasedIdentifier.digest.in_(list(digests))))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def old_event_ids(session: Session, before: datetime, limit: int) -> list[str]:
    return list(session.scalars(select(Event.id).where(Event.occurred_at < before)
                                .order_by(Event.occurred_at).limit(limit)))


def delete_events(session: Session, event_ids: Sequence[str]) -> int:
    result = session.execute(delete(Event).where(Event.id.in_(list(event_ids))))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
