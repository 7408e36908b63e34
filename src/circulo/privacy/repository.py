"""Every query of the privacy package (suppression list, retention)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from circulo.connectors.models import DeliveryAttempt, OutboxMessage
from circulo.customers.models import Event
from circulo.privacy.models import ErasedIdentifier

CHUNK = 500
FINISHED = ("delivered", "dead", "canceled")


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


def old_finished_messages(session: Session, before: datetime, limit: int) -> list[str]:
    """Outbox messages delivered, dead or canceled before ``before``: copies of events."""
    return list(session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.status.in_(FINISHED),
                                       OutboxMessage.updated_at < before)
        .order_by(OutboxMessage.seq).limit(limit)))


def delete_messages(session: Session, message_ids: Sequence[str]) -> int:
    ids = list(message_ids)
    session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.message_id.in_(ids)))
    result = session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
