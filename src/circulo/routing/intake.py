"""Contacts entering the universal queue, one at a time or in a batch.

A task is created with the contact on the customer's timeline (identity resolution), a
snapshot of what routing needs to know of the customer, and any routing override applied.
A batch does the same work once for all its items: one identity resolution, four snapshot
reads, one insert, one commit (by the caller) and one wake of the dispatcher. Sending the same
``source`` + ``external_id`` again returns the task already created, also within a batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from circulo.config import Settings
from circulo.customers import service as customers
from circulo.errors import ValidationFailed
from circulo.identity import service as identity
from circulo.ids import new_id
from circulo.routing import repository as repo
from circulo.routing import stats
from circulo.routing.customer_context import snapshots
from circulo.routing.models import TaskRow
from circulo.routing.policy import RoutingConfig
from circulo.routing.service import EVENT_PREFIX, check_task_fields, record_events


@dataclass(frozen=True, slots=True)
class NewTask:
    queue: str
    channel: str
    identifiers: dict[str, Any]
    priority: int = 0
    skills: dict[str, int] | None = None
    language: str | None = None
    attributes: dict[str, Any] | None = None
    source: str = "api"
    external_id: str | None = None
    reason: str | None = None
    kind: str = "contact"
    not_before: datetime | None = None
    window_end: datetime | None = None
    max_attempts: int = 1
    parent_id: str | None = None


@dataclass
class BatchOutcome:
    """Per item of a batch: ``(index, task, created)`` for those taken, and the problems
    (``index``, ``field``, ``code``, ``detail``) of those refused."""

    taken: list[tuple[int, TaskRow, bool]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def create_task(session: Session, new: NewTask, config: RoutingConfig, *, settings: Settings,
                policies: customers.Policies, now: datetime) -> tuple[TaskRow, bool]:
    """A contact (or callback) enters the universal queue: (task, created). Resending the same
    ``source`` + ``external_id`` returns the task already created."""
    check_task_fields(config, new.queue, new.channel, dict(new.skills or {}))
    return create_tasks(session, [new], config, settings=settings, policies=policies,
                        now=now)[0]


def create_batch(session: Session, items: Sequence[tuple[int, NewTask]],
                 config: RoutingConfig, *, settings: Settings, policies: customers.Policies,
                 now: datetime) -> BatchOutcome:
    """Items checked one by one against the policy: a bad one never sinks the others."""
    outcome = BatchOutcome()
    valid: list[tuple[int, NewTask]] = []
    for index, new in items:
        try:
            check_task_fields(config, new.queue, new.channel, dict(new.skills or {}))
        except ValidationFailed as refused:
            outcome.errors.extend({"index": index, **problem}
                                  for problem in refused.errors or [])
            continue
        valid.append((index, new))
    created = create_tasks(session, [new for _, new in valid], config, settings=settings,
                           policies=policies, now=now)
    outcome.taken = [(index, task, fresh)
                     for (index, _), (task, fresh) in zip(valid, created, strict=True)]
    return outcome


def create_tasks(session: Session, news: Sequence[NewTask], config: RoutingConfig, *,
                 settings: Settings, policies: customers.Policies, now: datetime
                 ) -> list[tuple[TaskRow, bool]]:
    """Tasks already checked against the policy (``check_task_fields``): (task, created) for
    each, in order."""
    keys = sorted({(n.source, n.external_id) for n in news if n.external_id})
    # Two requests carrying the same external id queue here instead of one of them failing
    # on the unique constraint.
    identity.lock(session, [f"task:{source}:{external_id}" for source, external_id in keys])
    known = repo.tasks_by_external(session, keys) if keys else {}
    answer: list[tuple[TaskRow, bool]] = []
    fresh: list[TaskRow] = []
    for new in news:
        key = (new.source, new.external_id) if new.external_id else None
        if key is not None and key in known:
            answer.append((known[key], False))
            continue
        task = _row(new, config, now)
        if key is not None:
            known[key] = task
        fresh.append(task)
        answer.append((task, True))
    if not fresh:
        return answer
    customer_ids = record_events(session, [(task, *_queued(task)) for task in fresh],
                                 settings=settings, policies=policies, now=now)
    contexts = snapshots(session, [c for c in customer_ids if c], policies, now)
    for task, customer_id in zip(fresh, customer_ids, strict=True):
        task.customer_id = customer_id
        _apply_context(task, contexts.get(customer_id) if customer_id else None, config)
    repo.add_all(session, fresh)
    session.flush()
    for task in fresh:
        stats.offered(session, task.queue, now)
    return answer


def _row(new: NewTask, config: RoutingConfig, now: datetime) -> TaskRow:
    return TaskRow(
        id=new_id(), source=new.source, external_id=new.external_id, kind=new.kind,
        queue=new.queue, channel=new.channel, state="pending", customer_id=None,
        identifiers=new.identifiers, priority=new.priority, skills=dict(new.skills or {}),
        language=new.language.lower() if new.language else None,
        attributes=new.attributes or {}, context={}, team=None, boost=0,
        sl_seconds=config.queues[new.queue].sl_seconds, not_before=new.not_before,
        window_end=new.window_end, attempts=0, max_attempts=new.max_attempts,
        parent_id=new.parent_id, reason=new.reason, declined={}, created_at=now,
        queued_at=max(now, new.not_before) if new.not_before else now, result={},
        version=1, changed_at=now,
    )


def _queued(task: TaskRow) -> tuple[str, str, dict[str, Any]]:
    """The timeline fact of a task entering the queue: (type, key, properties)."""
    event_type = "callback.scheduled" if task.kind == "callback" \
        else f"{EVENT_PREFIX[task.channel]}.queued"
    properties = {
        "reason": task.reason, "priority": task.priority,
        "not_before": task.not_before.isoformat() if task.not_before else None,
        "window_end": task.window_end.isoformat() if task.window_end else None}
    return event_type, "queued", {k: v for k, v in properties.items() if v not in (None, "")}


def _apply_context(task: TaskRow, context: dict[str, Any] | None,
                   config: RoutingConfig) -> None:
    """What routing knows of the customer, and a routing override (a journey's) applied."""
    context = context or {"known": False}
    override = context.get("override")
    if override:
        target = override.get("queue")
        if target in config.queues and task.channel in config.queues[target].channels:
            task.queue = target
            task.sl_seconds = config.queues[target].sl_seconds
        task.team = override.get("team")
        task.boost = int(override.get("priority_boost", 0))
    if not task.language and isinstance(context.get("language"), str):
        task.language = str(context["language"]).lower()[:8]
    task.context = context
