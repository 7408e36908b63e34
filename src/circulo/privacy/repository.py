"""Every query of the privacy package (retention; the suppression list is identity's)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from circulo.connectors.models import DeliveryAttempt, OutboxMessage
from circulo.customers.models import Event

FINISHED = ("delivered", "dead", "canceled")


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
