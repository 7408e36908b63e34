"""Every routing query. No decisions here."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from circulo.routing.models import (
    AgentRow,
    RoutingLease,
    RoutingOverride,
    RoutingPolicyVersion,
    RoutingStat,
    TaskOffer,
    TaskRow,
)

HOLDING = ("reserved", "assigned", "wrapping")


# -- policy ---------------------------------------------------------------------------------

def latest_policy(session: Session) -> RoutingPolicyVersion | None:
    return session.scalars(select(RoutingPolicyVersion)
                           .order_by(RoutingPolicyVersion.version.desc()).limit(1)).first()


def latest_policy_version(session: Session) -> int | None:
    return session.scalar(select(func.max(RoutingPolicyVersion.version)))


def add_policy(session: Session, row: RoutingPolicyVersion) -> None:
    session.add(row)
    session.flush()


# -- agents ---------------------------------------------------------------------------------

def agent(session: Session, agent_id: str, *, for_update: bool = False) -> AgentRow | None:
    """``for_update`` locks the row and re-reads it; changes this session has not written yet
    are written first, so the re-read cannot undo them (the session does not autoflush)."""
    if for_update:
        session.flush()
    return session.get(AgentRow, agent_id, with_for_update=for_update,
                       populate_existing=for_update)


def agents(session: Session, *, active_only: bool = True) -> Sequence[AgentRow]:
    query = select(AgentRow).order_by(AgentRow.id)
    if active_only:
        query = query.where(AgentRow.active.is_(True))
    return session.scalars(query).all()


def agent_versions_since(session: Session, since: datetime) -> list[tuple[str, int]]:
    """(id, version) of the agents changed since: a narrow read, for the dispatcher's sync."""
    return _versions_since(session, AgentRow, since)


def _versions_since(session: Session, model: Any, since: datetime) -> list[tuple[str, int]]:
    rows = session.execute(select(model.id, model.version)
                           .where(model.changed_at >= since)).all()
    return [(str(r[0]), int(r[1])) for r in rows]


def agents_by_ids(session: Session, ids: Sequence[str], *, for_update: bool = False
                  ) -> list[AgentRow]:
    """``for_update`` locks them in id order (and re-reads them, as ``agent`` does)."""
    return _by_ids(session, AgentRow, ids, for_update)


def _by_ids(session: Session, model: Any, ids: Sequence[str], for_update: bool) -> list[Any]:
    if not for_update:
        return [row for chunk in _chunks(ids)
                for row in session.scalars(select(model).where(model.id.in_(chunk)))]
    session.flush()
    return [row for chunk in _chunks(sorted(set(ids)))
            for row in session.scalars(
                select(model).where(model.id.in_(chunk)).order_by(model.id).with_for_update()
                .execution_options(populate_existing=True))]


def stale_agents(session: Session, seen_before: datetime) -> Sequence[str]:
    """Agents present (available or away) whose desktop has not been heard from."""
    return session.scalars(select(AgentRow.id).where(
        AgentRow.presence != "offline", AgentRow.last_seen < seen_before)).all()


def add(session: Session, row: Any) -> None:
    session.add(row)


def add_all(session: Session, rows: Iterable[Any]) -> None:
    session.add_all(rows)


# -- tasks ----------------------------------------------------------------------------------

def task(session: Session, task_id: str, *, for_update: bool = False) -> TaskRow | None:
    if for_update:
        session.flush()
    return session.get(TaskRow, task_id, with_for_update=for_update,
                       populate_existing=for_update)


def tasks_by_external(session: Session, keys: Sequence[tuple[str, str]]
                      ) -> dict[tuple[str, str], TaskRow]:
    """Tasks by (source, external_id): per source, through the unique index."""
    by_source: dict[str, list[str]] = {}
    for source, external_id in sorted(set(keys)):
        by_source.setdefault(source, []).append(external_id)
    found: dict[tuple[str, str], TaskRow] = {}
    for source, external_ids in by_source.items():
        for chunk in _chunks(external_ids):
            for row in session.scalars(_BY_EXTERNAL, {"source": source, "ids": list(chunk)}):
                found[(source, str(row.external_id))] = row
    return found


# Statements built once (a task creation runs each of these): building and compiling a
# statement costs more than running it.
_BY_EXTERNAL = select(TaskRow).where(TaskRow.source == bindparam("source"),
                                     TaskRow.external_id.in_(bindparam("ids", expanding=True)))
_LAST_AGENTS = (
    select(TaskRow.customer_id, TaskRow.agent_id, func.max(TaskRow.assigned_at))
    .where(TaskRow.customer_id.in_(bindparam("ids", expanding=True)),
           TaskRow.assigned_at.is_not(None), TaskRow.agent_id.is_not(None))
    .group_by(TaskRow.customer_id, TaskRow.agent_id))
_ACTIVE_OVERRIDES = (
    select(RoutingOverride).where(
        RoutingOverride.customer_id.in_(bindparam("ids", expanding=True)),
        RoutingOverride.expires_at > bindparam("now"), RoutingOverride.canceled_at.is_(None))
    .order_by(RoutingOverride.created_at))


def pending_tasks(session: Session) -> Sequence[TaskRow]:
    return session.scalars(select(TaskRow).where(TaskRow.state == "pending")).all()


def task_versions_since(session: Session, since: datetime) -> list[tuple[str, int]]:
    """(id, version) of the tasks changed since: a narrow read, for the dispatcher's sync."""
    return _versions_since(session, TaskRow, since)


def tasks_by_ids(session: Session, ids: Sequence[str], *, for_update: bool = False
                 ) -> list[TaskRow]:
    return _by_ids(session, TaskRow, ids, for_update)


def _chunks(ids: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def tasks_of_agent(session: Session, agent_id: str, states: Iterable[str],
                   *, for_update: bool = False) -> Sequence[TaskRow]:
    query = select(TaskRow).where(TaskRow.agent_id == agent_id, TaskRow.state.in_(list(states)))
    if for_update:
        query = query.with_for_update()
    return session.scalars(query.order_by(TaskRow.id)).all()


def expired_reservations(session: Session, now: datetime, limit: int = 500
                         ) -> Sequence[tuple[str, str]]:
    rows = session.execute(select(TaskRow.id, TaskRow.agent_id).where(
        TaskRow.state == "reserved", TaskRow.reserved_until < now).limit(limit)).all()
    return [(str(r[0]), str(r[1])) for r in rows]


def wrapping_tasks(session: Session, limit: int = 500) -> Sequence[TaskRow]:
    return session.scalars(select(TaskRow).where(TaskRow.state == "wrapping")
                           .order_by(TaskRow.ended_at).limit(limit)).all()


def tasks_page(session: Session, *, states: Sequence[str] | None, queue: str | None,
               customer_id: str | None, agent_id: str | None, limit: int
               ) -> Sequence[TaskRow]:
    query = select(TaskRow)
    if states:
        query = query.where(TaskRow.state.in_(list(states)))
    if queue:
        query = query.where(TaskRow.queue == queue)
    if customer_id:
        query = query.where(TaskRow.customer_id == customer_id)
    if agent_id:
        query = query.where(TaskRow.agent_id == agent_id)
    return session.scalars(query.order_by(TaskRow.created_at.desc(), TaskRow.id)
                           .limit(limit)).all()


def customer_tasks_since(session: Session, customer_id: str, since: datetime,
                         states: Sequence[str]) -> Sequence[TaskRow]:
    return session.scalars(select(TaskRow).where(
        TaskRow.customer_id == customer_id, TaskRow.created_at >= since,
        TaskRow.state.in_(list(states)))).all()


def pending_callbacks(session: Session, customer_id: str, *, for_update: bool = False
                      ) -> Sequence[TaskRow]:
    query = select(TaskRow).where(TaskRow.customer_id == customer_id,
                                  TaskRow.kind == "callback", TaskRow.state == "pending")
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).all()


def last_agents_of(session: Session, customer_ids: Sequence[str], limit: int = 3
                   ) -> dict[str, list[str]]:
    """``last_agents`` for several customers in one read."""
    rows = [row for chunk in _chunks(sorted(set(customer_ids)))
            for row in session.execute(_LAST_AGENTS, {"ids": list(chunk)})]
    latest: dict[str, list[tuple[Any, str]]] = {}
    for customer_id, agent_id, at in rows:
        latest.setdefault(str(customer_id), []).append((at, str(agent_id)))
    return {customer_id: [agent for _, agent in sorted(pairs, key=lambda p: p[0],
                                                       reverse=True)[:limit]]
            for customer_id, pairs in latest.items()}


def waiting_summary(session: Session, now: datetime) -> list[tuple[str, int, datetime | None]]:
    """Per queue: tasks waiting now (due callbacks included) and the oldest one's entry."""
    rows = session.execute(
        select(TaskRow.queue, func.count(), func.min(TaskRow.queued_at))
        .where(TaskRow.state == "pending",
               or_(TaskRow.not_before.is_(None), TaskRow.not_before <= now))
        .group_by(TaskRow.queue)).all()
    return [(str(r[0]), int(r[1]), r[2]) for r in rows]


def scheduled_count(session: Session, now: datetime) -> dict[str, int]:
    rows = session.execute(select(TaskRow.queue, func.count()).where(
        TaskRow.state == "pending", TaskRow.not_before > now).group_by(TaskRow.queue)).all()
    return {str(r[0]): int(r[1]) for r in rows}


# -- offers ---------------------------------------------------------------------------------

def open_offer(session: Session, task_id: str, agent_id: str) -> TaskOffer | None:
    return session.scalars(select(TaskOffer).where(
        TaskOffer.task_id == task_id, TaskOffer.agent_id == agent_id,
        TaskOffer.outcome == "offered").order_by(TaskOffer.id.desc()).limit(1)).first()


def close_offer(session: Session, task_id: str, agent_id: str, outcome: str,
                now: datetime) -> None:
    session.execute(update(TaskOffer).where(
        TaskOffer.task_id == task_id, TaskOffer.agent_id == agent_id,
        TaskOffer.outcome == "offered").values(outcome=outcome, decided_at=now))


def offers_of_task(session: Session, task_id: str) -> Sequence[TaskOffer]:
    return session.scalars(select(TaskOffer).where(TaskOffer.task_id == task_id)
                           .order_by(TaskOffer.id)).all()


# -- overrides ------------------------------------------------------------------------------

def active_overrides(session: Session, customer_ids: Sequence[str], now: datetime
                     ) -> Sequence[RoutingOverride]:
    rows = [row for chunk in _chunks(sorted(set(customer_ids)))
            for row in session.scalars(_ACTIVE_OVERRIDES, {"ids": list(chunk), "now": now})]
    return sorted(rows, key=lambda row: row.created_at)


def override(session: Session, override_id: str) -> RoutingOverride | None:
    return session.get(RoutingOverride, override_id)


def pending_tasks_of_many(session: Session, customer_ids: Sequence[str]) -> list[TaskRow]:
    """The waiting tasks of these customers, row-locked, in id order."""
    rows: list[TaskRow] = []
    for chunk in _chunks(sorted(set(customer_ids))):
        rows += session.scalars(select(TaskRow).where(
            TaskRow.customer_id.in_(chunk), TaskRow.state == "pending")
            .order_by(TaskRow.id).with_for_update()).all()
    return rows


def pending_tasks_of(session: Session, customer_id: str) -> Sequence[TaskRow]:
    return session.scalars(select(TaskRow).where(
        TaskRow.customer_id == customer_id, TaskRow.state == "pending").with_for_update()).all()


# -- erasure --------------------------------------------------------------------------------

def task_ids_of_customers(session: Session, customer_ids: Sequence[str]) -> list[str]:
    ids: list[str] = []
    for chunk in _chunks(sorted(set(customer_ids))):
        ids += session.scalars(select(TaskRow.id).where(TaskRow.customer_id.in_(chunk))).all()
    return ids


def scrub_tasks(session: Session, task_ids: Sequence[str], reason: str, now: datetime
                ) -> int:
    """Erasure: who was behind the tasks (identifiers, the customer snapshot, attributes,
    notes and captured data) goes; the task's routing facts (queue, times, agent) stay."""
    scrubbed = 0
    for chunk in _chunks(sorted(set(task_ids))):
        result = session.execute(
            update(TaskRow).where(TaskRow.id.in_(chunk))
            .values(customer_id=None, identifiers={}, attributes={}, context={}, result={},
                    reason=reason, version=TaskRow.version + 1, changed_at=now))
        scrubbed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return scrubbed


def delete_overrides_of(session: Session, customer_ids: Sequence[str]) -> int:
    result = session.execute(delete(RoutingOverride).where(
        RoutingOverride.customer_id.in_(list(customer_ids))))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# -- statistics -----------------------------------------------------------------------------

COUNTERS = ("offered", "answered", "answered_in_sl", "abandoned", "abandoned_short",
            "wait_seconds", "handled", "handle_seconds", "missed", "busy_seconds",
            "staffed_seconds")


def add_stats(session: Session, rows: Sequence[tuple[datetime, str, str, dict[str, float]]]
              ) -> None:
    """Increment counters in place (insert the interval's row the first time): concurrent
    writers add up instead of overwriting each other. One statement for all the rows."""
    if rows:
        session.execute(_stats_upsert(session.get_bind().dialect.name), [
            {"bucket": bucket, "scope": scope, "key": key,
             **{name: values.get(name, 0) for name in COUNTERS}}
            for bucket, scope, key, values in rows])


@lru_cache(maxsize=4)
def _stats_upsert(dialect: str) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(RoutingStat)
    return statement.on_conflict_do_update(
        index_elements=["bucket", "scope", "key"],
        set_={name: getattr(RoutingStat, name) + getattr(statement.excluded, name)
              for name in COUNTERS})


def stats_since(session: Session, since: datetime) -> Sequence[RoutingStat]:
    return session.scalars(select(RoutingStat).where(RoutingStat.bucket >= since)).all()


# -- the dispatcher's lease -----------------------------------------------------------------

def take_lease(session: Session, name: str, holder: str, now: datetime,
               until: datetime) -> bool:
    """Hold (or renew) the lease if it is free, expired or already ours."""
    taken = session.execute(update(RoutingLease).where(
        RoutingLease.name == name,
        or_(RoutingLease.holder == holder, RoutingLease.expires_at < now),
    ).values(holder=holder, expires_at=until))
    if getattr(taken, "rowcount", 0):
        return True
    if session.get(RoutingLease, name) is None:
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        inserted = session.execute(insert(RoutingLease).values(
            name=name, holder=holder, expires_at=until).on_conflict_do_nothing())
        return bool(getattr(inserted, "rowcount", 0))
    return False


def release_lease(session: Session, name: str, holder: str) -> None:
    session.execute(update(RoutingLease).where(RoutingLease.name == name,
                                               RoutingLease.holder == holder)
                    .values(expires_at=datetime(1970, 1, 1, tzinfo=UTC)))
