"""Every query of the outbox and its subscriptions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from circulo.connectors.models import (
    DeliveryAttempt,
    OutboxMessage,
    VendorEventSeen,
    WebhookSubscription,
)
from circulo.db import bulk_insert, bulk_update

OUTBOX = cast(Table, OutboxMessage.__table__)
ATTEMPTS = cast(Table, DeliveryAttempt.__table__)
OPEN = ("pending", "delivering")


def undelivered(session: Session) -> tuple[int, datetime | None]:
    """Messages not yet delivered (pending or being delivered) and the oldest one's time."""
    count, oldest = session.execute(
        select(func.count(), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.status.in_(("pending", "delivering")))).one()
    return int(count), oldest


def add_subscription(session: Session, subscription: WebhookSubscription) -> None:
    session.add(subscription)


def get_subscription(session: Session, subscription_id: str) -> WebhookSubscription | None:
    found = session.get(WebhookSubscription, subscription_id)
    return None if found is None or found.status == "deleted" else found


def subscriptions(session: Session, *, active_only: bool) -> list[WebhookSubscription]:
    query = select(WebhookSubscription).where(WebhookSubscription.status != "deleted")
    if active_only:
        query = query.where(WebhookSubscription.status == "active")
    return list(session.scalars(query.order_by(WebhookSubscription.created_at)))


def insert_messages(session: Session, rows: list[dict[str, Any]]) -> None:
    bulk_insert(session, OUTBOX, rows)


@dataclass(frozen=True, slots=True)
class Candidate:
    seq: int
    destination: str
    ordering_key: str


def due_candidates(session: Session, now: datetime, limit: int,
                   destinations: Sequence[str]) -> list[Candidate]:
    """For these destinations, the messages that may go now, oldest first: pending ones
    whose time has come and deliveries whose lease ran out (a worker died mid-delivery),
    but only the head of each (destination, customer) group. Messages waiting behind an
    earlier one, or for a paused destination, never fill the window and starve the rest.
    On PostgreSQL, rows another worker is claiming are skipped."""
    if not destinations:
        return []
    skip_locked = session.get_bind().dialect.name == "postgresql"
    earlier = OUTBOX.alias("earlier")
    blocked = select(earlier.c.seq).where(
        earlier.c.destination == OUTBOX.c.destination,
        earlier.c.ordering_key == OUTBOX.c.ordering_key,
        earlier.c.seq < OUTBOX.c.seq, earlier.c.status.in_(OPEN),
    ).exists()
    found: list[Candidate] = []
    for status, condition in (("delivering", OUTBOX.c.lease_until < now),
                              ("pending", OUTBOX.c.next_attempt_at <= now)):
        query = (select(OUTBOX.c.seq, OUTBOX.c.destination, OUTBOX.c.ordering_key)
                 .where(OUTBOX.c.status == status, condition,
                        OUTBOX.c.destination.in_(list(destinations)), ~blocked)
                 .order_by(OUTBOX.c.seq).limit(limit))
        if skip_locked:
            query = query.with_for_update(skip_locked=True)
        found.extend(Candidate(*row) for row in session.execute(query))
    return sorted(found, key=lambda c: c.seq)[:limit]


def mark_delivering(session: Session, seqs: Sequence[int], lease_until: datetime,
                    now: datetime) -> list[dict[str, Any]]:
    """Claim these messages; returns what delivering them needs."""
    if not seqs:
        return []
    session.execute(update(OUTBOX).where(OUTBOX.c.seq.in_(list(seqs))).values(
        status="delivering", attempts=OUTBOX.c.attempts + 1, lease_until=lease_until,
        updated_at=now))
    rows = session.execute(select(OUTBOX.c.seq, OUTBOX.c.id, OUTBOX.c.destination,
                                  OUTBOX.c.attempts, OUTBOX.c.payload)
                           .where(OUTBOX.c.seq.in_(list(seqs))).order_by(OUTBOX.c.seq))
    return [dict(row) for row in rows.mappings()]


def outcome_rows(session: Session, seqs: Sequence[int]) -> dict[int, dict[str, Any]]:
    rows = session.execute(select(OUTBOX.c.seq, OUTBOX.c.status, OUTBOX.c.attempts,
                                  OUTBOX.c.created_at).where(OUTBOX.c.seq.in_(list(seqs))))
    return {row["seq"]: dict(row) for row in rows.mappings()}


def save_outcomes(session: Session, rows: list[dict[str, Any]]) -> None:
    bulk_update(session, OUTBOX, "seq", rows)


def in_flight(session: Session, destinations: Sequence[str], now: datetime) -> dict[str, int]:
    rows = session.execute(
        select(OutboxMessage.destination, func.count())
        .where(OutboxMessage.status == "delivering", OutboxMessage.lease_until >= now,
               OutboxMessage.destination.in_(list(destinations)))
        .group_by(OutboxMessage.destination)
    )
    return {d: int(n) for d, n in rows}


def get_message(session: Session, message_id: str) -> OutboxMessage | None:
    return session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id))


def messages_of(session: Session, destination: str, *, status: str | None, limit: int
                ) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.destination == destination)
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(session.scalars(query.order_by(OutboxMessage.seq.desc()).limit(limit)))


def attempts_of(session: Session, message_id: str) -> list[DeliveryAttempt]:
    return list(session.scalars(select(DeliveryAttempt)
                                .where(DeliveryAttempt.message_id == message_id)
                                .order_by(DeliveryAttempt.attempt)))


def add_attempts(session: Session, rows: list[dict[str, Any]]) -> None:
    bulk_insert(session, ATTEMPTS, rows)


def replay(session: Session, destination: str, status: str, now: datetime) -> int:
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.destination == destination, OutboxMessage.status == status)
        .values(status="pending", next_attempt_at=now, updated_at=now, lease_until=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def cancel_open(session: Session, destination: str, now: datetime) -> int:
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.destination == destination, OutboxMessage.status.in_(OPEN))
        .values(status="canceled", updated_at=now, lease_until=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def counts_by_status(session: Session, destination: str) -> dict[str, int]:
    rows = session.execute(select(OutboxMessage.status, func.count())
                           .where(OutboxMessage.destination == destination)
                           .group_by(OutboxMessage.status))
    return {s: int(n) for s, n in rows}


def mark_events_seen(session: Session, connector: str, event_ids: Sequence[str],
                     now: datetime, forget_before: datetime) -> set[str]:
    """Record these vendor event ids; the ones not seen before. Ids older than
    ``forget_before`` are forgotten first, so the table holds one retention window."""
    session.execute(delete(VendorEventSeen).where(VendorEventSeen.seen_at < forget_before))
    if not event_ids:
        return set()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # ON CONFLICT DO NOTHING ... RETURNING: two concurrent replays cannot both win.
    fresh = session.scalars(
        insert(VendorEventSeen)
        .values([{"connector": connector, "event_id": e, "seen_at": now}
                 for e in dict.fromkeys(event_ids)])
        .on_conflict_do_nothing(index_elements=["connector", "event_id"])
        .returning(VendorEventSeen.event_id))
    return set(fresh)


def erase_customers(session: Session, customer_ids: Sequence[str], now: datetime
                    ) -> dict[str, int]:
    """Erasure: the customers' messages (their events' webhooks, notifications to them,
    journey webhooks and connector requests about them) keep only their type and status:
    open ones are canceled, and every payload and error text is replaced."""
    ids = list(customer_ids)
    about = (OutboxMessage.ordering_key.in_(ids)
             | OutboxMessage.payload["data"]["customer_id"].as_string().in_(ids))
    message_ids = list(session.scalars(select(OutboxMessage.id).where(about)))
    if not message_ids:
        return {"outbox_canceled": 0, "outbox": 0}
    canceled = 0
    for start in range(0, len(message_ids), 500):
        chunk = message_ids[start:start + 500]
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(chunk), OutboxMessage.status.in_(OPEN))
            .values(status="canceled", lease_until=None, updated_at=now))
        canceled += int(result.rowcount or 0)  # type: ignore[attr-defined]
        for message in session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(chunk))):
            message.payload = {"type": message.event_type, "timestamp": now.isoformat(),
                               "data": {"erased": True}}
            message.last_error = None
            message.updated_at = now
        session.execute(update(DeliveryAttempt).where(DeliveryAttempt.message_id.in_(chunk))
                        .values(error=None))
    return {"outbox_canceled": canceled, "outbox": len(message_ids)}
