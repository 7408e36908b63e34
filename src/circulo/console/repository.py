"""The console's queries: the contacts in the queues with their priority class, negative
sentiment on them, today's abandons by customer, acknowledgements and the audit log."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from circulo.console.models import AlertAck, ConsoleAction
from circulo.customers.models import Event
from circulo.routing.models import TaskRow

ACTIVE = ("pending", "reserved", "assigned", "wrapping")


def active_contacts(session: Session, now: datetime) -> list[tuple[Any, ...]]:
    """(task id, queue, state, customer id, name, tier, churn risk, queued at) of every
    contact waiting now (due callbacks included) or in an agent's hands: a handful of
    columns, not the rows, so 2,000 waiting contacts stay cheap to read every second."""
    rows = session.execute(
        select(TaskRow.id, TaskRow.queue, TaskRow.state, TaskRow.customer_id,
               TaskRow.context["name"].as_string(), TaskRow.context["tier"].as_string(),
               TaskRow.context["churn_risk"].as_float(), TaskRow.queued_at,
               TaskRow.not_before)
        .where(TaskRow.state.in_(ACTIVE))).all()
    return [tuple(r[:8]) for r in rows
            if not (r[2] == "pending" and r[8] is not None and r[8] > now)]


def _chunks(items: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def negative_events(session: Session, customer_ids: Sequence[str], since: datetime
                    ) -> list[tuple[str, str, datetime, str, bool]]:
    """(event id, customer id, occurred at, type, urgent) of events with negative sentiment
    since ``since`` about these customers (by the profile index): ``text.analyzed`` events
    (Círculo's reading of a message) and any event whose sender scored it."""
    found: list[tuple[str, str, datetime, str, bool]] = []
    sentiment = func.lower(Event.properties["sentiment"].as_string())
    urgent = Event.properties["urgent"].as_boolean()
    for chunk in _chunks(sorted(set(customer_ids))):
        # the sentiment is read in the database: no event's properties travel to Python
        rows = session.execute(
            select(Event.id, Event.profile_id, Event.occurred_at, Event.type, urgent)
            .where(Event.profile_id.in_(chunk), Event.occurred_at >= since,
                   sentiment == "negative")).all()
        found.extend((str(r[0]), str(r[1]), r[2], str(r[3]), r[4] is True) for r in rows)
    return found


def abandons_since(session: Session, since: datetime, at_least: int
                   ) -> list[tuple[str, str | None, int, str]]:
    """(customer id, name, abandons, latest abandoned task) of customers who abandoned at
    least ``at_least`` times since ``since``."""
    counted = session.execute(
        select(TaskRow.customer_id, func.count())
        .where(TaskRow.state == "abandoned", TaskRow.completed_at >= since,
               TaskRow.customer_id.is_not(None))
        .group_by(TaskRow.customer_id).having(func.count() >= at_least)).all()
    out = []
    for customer_id, count in counted:
        latest = session.execute(
            select(TaskRow.id, TaskRow.context["name"].as_string())
            .where(TaskRow.state == "abandoned", TaskRow.completed_at >= since,
                   TaskRow.customer_id == customer_id)
            .order_by(TaskRow.completed_at.desc(), TaskRow.id.desc()).limit(1)).one()
        out.append((str(customer_id), latest[1], int(count), str(latest[0])))
    return out


def acknowledged(session: Session, since: datetime) -> set[str]:
    return set(session.scalars(select(AlertAck.key).where(AlertAck.acked_at >= since)))


def acknowledge(session: Session, key: str, actor: str, now: datetime) -> bool:
    """Whether this acknowledgement is new (a second click changes nothing)."""
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    inserted = session.execute(make(AlertAck).values(key=key, acked_by=actor, acked_at=now)
                               .on_conflict_do_nothing(index_elements=["key"])
                               .returning(AlertAck.key)).first()
    return inserted is not None


def audit(session: Session, action: str, subject: str, actor: str, detail: dict[str, Any],
          now: datetime) -> None:
    session.execute(insert(ConsoleAction).values(action=action, subject=subject, actor=actor,
                                                 detail=detail, created_at=now))


def actions_of(session: Session, subject: str, limit: int = 20) -> Sequence[ConsoleAction]:
    return session.scalars(select(ConsoleAction).where(ConsoleAction.subject == subject)
                           .order_by(ConsoleAction.id.desc()).limit(limit)).all()
