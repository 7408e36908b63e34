"""Every query of the journeys package."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from circulo.db import bulk_insert
from circulo.journeys.models import (
    CustomerListMember,
    JourneyAction,
    JourneyCustomer,
    JourneyInbox,
    JourneyInstance,
    JourneyRow,
    JourneyVersion,
    Suggestion,
)


def _insert(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


# -- definitions ------------------------------------------------------------------------------

def journey(session: Session, key: str, *, for_update: bool = False) -> JourneyRow | None:
    query = select(JourneyRow).where(JourneyRow.key == key)
    return session.scalars(query.with_for_update() if for_update else query).first()


def journeys(session: Session) -> Sequence[JourneyRow]:
    return session.scalars(select(JourneyRow).order_by(JourneyRow.key)).all()


def version(session: Session, key: str, number: int) -> JourneyVersion | None:
    return session.get(JourneyVersion, (key, number))


def versions_of(session: Session, key: str) -> Sequence[JourneyVersion]:
    return session.scalars(select(JourneyVersion).where(JourneyVersion.key == key)
                           .order_by(JourneyVersion.version)).all()


def all_versions(session: Session) -> Sequence[JourneyVersion]:
    return session.scalars(select(JourneyVersion)).all()


def stamp(session: Session) -> tuple[Any, int]:
    """Changes whenever a journey is saved, switched on or off."""
    row = session.execute(select(func.max(JourneyRow.updated_at), func.count())).one()
    return row[0], int(row[1])


def add(session: Session, row: Any) -> None:
    session.add(row)
    session.flush()


# -- the inbox --------------------------------------------------------------------------------

def enqueue(session: Session, rows: list[dict[str, Any]]) -> None:
    bulk_insert(session, JourneyInbox.__table__, rows)


def inbox(session: Session, limit: int) -> Sequence[JourneyInbox]:
    return session.scalars(select(JourneyInbox).order_by(JourneyInbox.seq).limit(limit)).all()


def inbox_summary(session: Session) -> tuple[int, datetime | None]:
    """Events waiting for the runner and the oldest one's arrival."""
    count, oldest = session.execute(
        select(func.count(), func.min(JourneyInbox.created_at))).one()
    return int(count), oldest


def inbox_row(session: Session, seq: int) -> JourneyInbox | None:
    return session.get(JourneyInbox, seq)


def drop_inbox(session: Session, seqs: Sequence[int]) -> None:
    if seqs:
        session.execute(delete(JourneyInbox).where(JourneyInbox.seq.in_(seqs)))


def count_attempt(session: Session, seq: int) -> int:
    session.execute(update(JourneyInbox).where(JourneyInbox.seq == seq)
                    .values(attempts=JourneyInbox.attempts + 1))
    return int(session.scalar(select(JourneyInbox.attempts).where(JourneyInbox.seq == seq))
               or 0)


# -- customers' state and instances -----------------------------------------------------------

def states(session: Session, customer_ids: Sequence[str]) -> dict[str, JourneyCustomer]:
    if not customer_ids:
        return {}
    rows = session.scalars(select(JourneyCustomer).where(
        JourneyCustomer.customer_id.in_(sorted(set(customer_ids))))).all()
    return {r.customer_id: r for r in rows}


def save_states(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    statement = _insert(session)(JourneyCustomer)
    session.execute(statement.on_conflict_do_update(
        index_elements=["customer_id"],
        set_={"state": statement.excluded.state, "updated_at": statement.excluded.updated_at}),
        rows)


def waiting_of(session: Session, customer_ids: Sequence[str]) -> Sequence[JourneyInstance]:
    if not customer_ids:
        return []
    return session.scalars(select(JourneyInstance).where(
        JourneyInstance.customer_id.in_(sorted(set(customer_ids))),
        JourneyInstance.status == "waiting").order_by(JourneyInstance.entered_at)).all()


def due(session: Session, now: datetime, limit: int) -> Sequence[JourneyInstance]:
    query = select(JourneyInstance).where(JourneyInstance.status == "waiting",
                                          JourneyInstance.due_at <= now)
    return session.scalars(query.order_by(JourneyInstance.due_at).limit(limit)).all()


def instances(session: Session, *, journey: str | None, customer_id: str | None,
              status: str | None, limit: int) -> Sequence[JourneyInstance]:
    query = select(JourneyInstance)
    if journey is not None:
        query = query.where(JourneyInstance.journey == journey)
    if customer_id is not None:
        query = query.where(JourneyInstance.customer_id == customer_id)
    if status is not None:
        query = query.where(JourneyInstance.status == status)
    return session.scalars(query.order_by(JourneyInstance.entered_at.desc())
                           .limit(limit)).all()


# -- the action log ---------------------------------------------------------------------------

def done_keys(session: Session, keys: Sequence[str]) -> set[str]:
    if not keys:
        return set()
    return set(session.scalars(select(JourneyAction.key).where(JourneyAction.key.in_(keys))))


def log_actions(session: Session, rows: list[dict[str, Any]]) -> None:
    bulk_insert(session, JourneyAction.__table__, rows)


def actions_of(session: Session, instance_id: str) -> Sequence[JourneyAction]:
    return session.scalars(select(JourneyAction).where(JourneyAction.instance_id == instance_id)
                           .order_by(JourneyAction.id)).all()


def recent_actions(session: Session, key: str, limit: int) -> Sequence[JourneyAction]:
    """The journey's newest actions, evaluation failures aside (those are ``rule_errors``)."""
    return session.scalars(select(JourneyAction).where(
        JourneyAction.journey == key, JourneyAction.kind != "evaluate")
        .order_by(JourneyAction.id.desc()).limit(limit)).all()


def recent_errors(session: Session, key: str, limit: int) -> Sequence[JourneyAction]:
    return session.scalars(select(JourneyAction).where(
        JourneyAction.journey == key, JourneyAction.outcome == "failed")
        .order_by(JourneyAction.id.desc()).limit(limit)).all()


def rule_errors(session: Session, key: str) -> list[tuple[JourneyAction, int]]:
    """Per rule (the ``step`` of ``evaluate`` failures): its newest failure and how many."""
    counted = (select(JourneyAction.step, func.count().label("n"),
                      func.max(JourneyAction.id).label("newest"))
               .where(JourneyAction.journey == key, JourneyAction.kind == "evaluate",
                      JourneyAction.outcome == "failed", JourneyAction.step != "")
               .group_by(JourneyAction.step).subquery())
    rows = session.execute(select(JourneyAction, counted.c.n)
                           .join(counted, JourneyAction.id == counted.c.newest)
                           .order_by(JourneyAction.step))
    return [(row[0], int(row[1])) for row in rows]


def action_counts(session: Session, key: str) -> list[tuple[str, str, int]]:
    rows = session.execute(select(JourneyAction.kind, JourneyAction.outcome, func.count())
                           .where(JourneyAction.journey == key)
                           .group_by(JourneyAction.kind, JourneyAction.outcome))
    return [(r[0], r[1], int(r[2])) for r in rows]


def instance_counts(session: Session, key: str) -> list[tuple[str, str | None, int]]:
    rows = session.execute(select(JourneyInstance.status, JourneyInstance.exit, func.count())
                           .where(JourneyInstance.journey == key)
                           .group_by(JourneyInstance.status, JourneyInstance.exit))
    return [(r[0], r[1], int(r[2])) for r in rows]


# -- lists and suggestions --------------------------------------------------------------------

def join_list(session: Session, name: str, customer_id: str, source: str, now: datetime
              ) -> bool:
    statement = _insert(session)(CustomerListMember).values(
        list=name, customer_id=customer_id, added_at=now, source=source)
    result = session.execute(statement.on_conflict_do_nothing())
    return bool(getattr(result, "rowcount", 0))


def leave_list(session: Session, name: str, customer_id: str) -> bool:
    result = session.execute(delete(CustomerListMember).where(
        CustomerListMember.list == name, CustomerListMember.customer_id == customer_id))
    return bool(getattr(result, "rowcount", 0))


def list_members(session: Session, name: str, *, after: str, limit: int
                 ) -> Sequence[CustomerListMember]:
    return session.scalars(select(CustomerListMember).where(
        CustomerListMember.list == name, CustomerListMember.customer_id > after)
        .order_by(CustomerListMember.customer_id).limit(limit)).all()


def open_suggestions(session: Session, customer_ids: Sequence[str], now: datetime
                     ) -> Sequence[Suggestion]:
    return session.scalars(select(Suggestion).where(
        Suggestion.customer_id.in_(list(customer_ids)), Suggestion.status == "open",
        Suggestion.expires_at > now).order_by(Suggestion.created_at)).all()


def suggestion(session: Session, suggestion_id: str, *, for_update: bool = False
               ) -> Suggestion | None:
    query = select(Suggestion).where(Suggestion.id == suggestion_id)
    return session.scalars(query.with_for_update() if for_update else query).first()


# -- erasure --------------------------------------------------------------------------------

def erase_customers(session: Session, customer_ids: Sequence[str], now: datetime
                    ) -> dict[str, int]:
    """Erasure: running instances end (``exit`` "erased": no timer fires, no SMS leaves) and
    lose their variables; the inbox entries, the journeys' memory of the customers, their list
    memberships and next-best-action suggestions go; the action log keeps each action's kind
    and outcome (journey statistics) but not its detail (texts, addresses)."""
    ids = list(customer_ids)
    removed: dict[str, int] = {}

    def count(name: str, result: Any) -> None:
        removed[name] = int(result.rowcount or 0)

    count("journey_instances_canceled", session.execute(
        update(JourneyInstance)
        .where(JourneyInstance.customer_id.in_(ids), JourneyInstance.status != "done")
        .values(status="done", exit="erased", ended_at=now, updated_at=now)))
    count("journey_instances", session.execute(
        update(JourneyInstance).where(JourneyInstance.customer_id.in_(ids))
        .values(vars={}, waiting_for=[], due_at=None)))
    count("journey_actions", session.execute(
        update(JourneyAction).where(JourneyAction.customer_id.in_(ids)).values(detail={})))
    for name, model in (("journey_inbox", JourneyInbox), ("journey_customers", JourneyCustomer),
                        ("customer_lists", CustomerListMember), ("suggestions", Suggestion)):
        count(name, session.execute(delete(model).where(model.customer_id.in_(ids))))
    return removed
