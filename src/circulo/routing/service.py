"""Routing rules with side effects: the policy in force, agents and presence, and every task
transition. Each function runs inside the caller's unit of work and never commits.

Concurrency (ADR 0008): every change to a task that holds or frees an agent's capacity locks
the agent's row first, then the task's (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` serialises writers), and checks the state it expects before writing. So a
task is never assigned twice and an agent never holds more than their capacity, whichever
process decided.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from circulo.config import Settings
from circulo.customers import service as customers
from circulo.errors import Conflict, NotFound, ValidationFailed
from circulo.ingest import service as ingest
from circulo.routing import repository as repo
from circulo.routing import stats
from circulo.routing.engine import has_room
from circulo.routing.models import AgentRow, RoutingPolicyVersion, TaskOffer, TaskRow
from circulo.routing.policy import (
    EMPTY,
    AgentSpec,
    PolicyError,
    RoutingConfig,
    parse_data,
    parse_yaml,
)

EVENT_PREFIX = {"voice": "call", "chat": "chat", "email": "email", "sms": "sms",
                "whatsapp": "whatsapp", "social": "social", "backoffice": "task"}
COMPLETED_EVENT = {"voice": "call.wrapped_up", "chat": "chat.completed",
                   "email": "email.replied", "backoffice": "task.completed"}
EVENT_CHANNEL = {"backoffice": "other"}
PRESENCES = ("available", "away", "offline")


# -- the policy in force ----------------------------------------------------------------------

POLICY_RECHECK_SECONDS = 1.0


@dataclass
class PolicyCache:
    """The parsed configuration of the latest version, re-read only when a new one lands."""

    version: int | None = None
    config: RoutingConfig = EMPTY
    checked: float = 0.0

    def get(self, session: Session) -> RoutingConfig:
        """A policy put in force by this process is seen at once (``apply_policy`` clears
        the version); one put by another process within ``POLICY_RECHECK_SECONDS``."""
        clock = time.monotonic()
        if self.version is not None and clock - self.checked < POLICY_RECHECK_SECONDS:
            return self.config
        self.checked = clock
        version = repo.latest_policy_version(session)
        if version != self.version:
            row = repo.latest_policy(session)
            self.config = parse_data(row.document) if row else EMPTY
            self.version = row.version if row else None
        return self.config


def _policy_problem(error: PolicyError) -> ValidationFailed:
    return ValidationFailed(f"the routing policy cannot be used: {error}",
                            errors=[{"field": "policy", "code": "invalid_policy",
                                     "detail": str(error)}])


def parse_policy(text: str | None, data: Any, origin: str = "") -> RoutingConfig:
    try:
        return parse_yaml(text, origin) if text is not None else parse_data(data)
    except PolicyError as exc:
        raise _policy_problem(exc) from exc


def apply_policy(session: Session, config: RoutingConfig, text: str | None, *, actor: str,
                 now: datetime, cache: PolicyCache) -> tuple[int, bool]:
    """Put a checked configuration in force: (version, whether it is new). Its agents are
    created or updated. A queue that still has waiting tasks cannot disappear."""
    current = repo.latest_policy(session)
    if current is not None and current.document == config.source:
        return current.version, False
    waiting = {queue for queue, count, _ in repo.waiting_summary(session, now) if count}
    waiting |= set(repo.scheduled_count(session, now))
    dropped = sorted(waiting - set(config.queues))
    if dropped:
        raise Conflict(f"queue '{dropped[0]}' has waiting tasks: route or cancel them before "
                       "removing it", field="queues")
    row = RoutingPolicyVersion(document=config.source, text=text, created_by=actor,
                               created_at=now)
    repo.add_policy(session, row)
    for spec in config.agents:
        define_agent(session, spec, now)
    cache.version = None  # re-read on next use
    return row.version, True


# -- agents -----------------------------------------------------------------------------------

def define_agent(session: Session, spec: AgentSpec, now: datetime) -> AgentRow:
    row = repo.agent(session, spec.id, for_update=True)
    if row is not None:
        _account(session, row, now)
    else:
        row = AgentRow(id=spec.id, presence="offline", presence_since=now, activity="idle",
                       activity_since=now, load={}, reserved=0, assigned=0, wrapping=0,
                       free_since=now, created_at=now, changed_at=now, active=True,
                       version=0)
        repo.add(session, row)
    row.name = spec.name
    row.site = spec.site
    row.skills = dict(spec.skills)
    row.languages = list(spec.languages)
    row.queues = list(spec.queues)
    row.teams = list(spec.teams)
    row.capacity = dict(spec.capacity)
    row.wrap_up = spec.wrap_up
    row.active = True
    row.changed_at = now
    row.version = (row.version or 0) + 1
    session.flush()
    return row


def get_agent(session: Session, agent_id: str, *, for_update: bool = False) -> AgentRow:
    row = repo.agent(session, agent_id, for_update=for_update)
    if row is None or not row.active:
        raise NotFound(f"agent '{agent_id}' does not exist", field="agent_id")
    return row


def list_agents(session: Session) -> Sequence[AgentRow]:
    return repo.agents(session)


def tasks_in_hand(session: Session, agent_id: str) -> Sequence[TaskRow]:
    get_agent(session, agent_id)
    return repo.tasks_of_agent(session, agent_id, repo.HOLDING)


def find_tasks(session: Session, *, states: Sequence[str] | None, queue: str | None,
               customer_id: str | None, agent_id: str | None, limit: int
               ) -> Sequence[TaskRow]:
    return repo.tasks_page(session, states=states, queue=queue, customer_id=customer_id,
                           agent_id=agent_id, limit=limit)


def _activity(row: AgentRow) -> str:
    if row.assigned:
        return "busy"
    if row.wrapping:
        return "wrap_up"
    if row.reserved:
        return "reserved"
    return "idle"


def _account(session: Session, row: AgentRow, now: datetime) -> None:
    """Add the span since the agent's last change to their staffed and busy time."""
    span = max(0.0, (now - row.changed_at).total_seconds())
    if span and row.presence != "offline":
        working = row.activity != "idle"
        staffed = working or row.presence == "available"
        if staffed:
            stats.agent_time(session, row.id, row.site, now, staffed=span,
                             busy=span if working else 0.0)


def _changed(session: Session, row: AgentRow, now: datetime) -> None:
    """After counts or presence changed: account time, derive the activity, stamp it."""
    activity = _activity(row)
    if activity != row.activity:
        row.activity = activity
        row.activity_since = now
    row.changed_at = now
    row.version = (row.version or 0) + 1


def set_presence(session: Session, agent_id: str, presence: str, reason: str | None,
                 now: datetime) -> AgentRow:
    if presence not in PRESENCES:
        raise ValidationFailed(f"presence must be one of {', '.join(PRESENCES)}",
                               errors=[{"field": "presence", "code": "invalid_value",
                                        "detail": f"got {presence!r}"}])
    row = get_agent(session, agent_id, for_update=True)
    _account(session, row, now)
    if presence != "available":
        revoke_offers(session, row, now, outcome="revoked")
    if presence != row.presence:
        row.presence = presence
        row.presence_since = now
    row.away_reason = reason if presence == "away" else None
    if presence != "offline":
        row.last_seen = now
    _changed(session, row, now)
    return row


def heartbeat(session: Session, agent_id: str, now: datetime) -> AgentRow:
    row = get_agent(session, agent_id, for_update=True)
    row.last_seen = now
    return row


def revoke_offers(session: Session, row: AgentRow, now: datetime, *, outcome: str) -> int:
    """The agent cannot take their offers (offline, away, silent): the tasks wait again."""
    revoked = 0
    for task in repo.tasks_of_agent(session, row.id, ("reserved",), for_update=True):
        _unreserve(session, row, task, now, outcome=outcome)
        revoked += 1
    return revoked


def _unreserve(session: Session, agent: AgentRow, task: TaskRow, now: datetime, *,
               outcome: str) -> None:
    task.state = "pending"
    task.agent_id = None
    task.reserved_until = None
    task.declined = {**task.declined, agent.id: now.isoformat()}
    task.version += 1
    task.changed_at = now
    agent.reserved -= 1
    agent.load = _less(agent.load, task.channel)
    agent.free_since = now
    repo.close_offer(session, task.id, agent.id, outcome, now)
    if outcome in ("rejected", "timeout"):
        stats.missed(session, agent.id, agent.site, now)
    _changed(session, agent, now)


def withdraw_offer(session: Session, agent: AgentRow, task: TaskRow, now: datetime) -> None:
    """Take back an offer for a reason that is not the agent's (the customer left, the task
    was withdrawn): the task waits again and nothing counts against the agent."""
    _account(session, agent, now)
    _unreserve(session, agent, task, now, outcome="revoked")


def finish(task: TaskRow, state: str, outcome: str, now: datetime) -> None:
    """A task reaches a final state: completed, canceled or abandoned."""
    task.state = state
    task.outcome = outcome
    task.completed_at = now
    task.version += 1
    task.changed_at = now


def _less(load: dict[str, int], channel: str) -> dict[str, int]:
    return {**load, channel: max(0, load.get(channel, 0) - 1)}


# -- tasks: creation ----------------------------------------------------------------------------

def check_task_fields(config: RoutingConfig, queue: str, channel: str, skills: dict[str, int],
                      where: str = "") -> None:
    if not config.queues:
        raise Conflict("no routing policy is in force: PUT /v1/routing/policy first",
                       field="queue")
    if queue not in config.queues:
        raise ValidationFailed(f"unknown queue '{queue}'", errors=[{
            "field": f"{where}queue", "code": "unknown_queue",
            "detail": f"known queues: {', '.join(sorted(config.queues))}"}])
    if channel not in config.queues[queue].channels:
        raise ValidationFailed(f"queue '{queue}' does not take {channel}", errors=[{
            "field": f"{where}channel", "code": "channel_not_in_queue",
            "detail": f"queue '{queue}' takes {', '.join(config.queues[queue].channels)}"}])
    for skill, level in skills.items():
        if skill not in config.skills:
            raise ValidationFailed(f"unknown skill '{skill}'", errors=[{
                "field": f"{where}skills.{skill}", "code": "unknown_skill",
                "detail": f"declared skills: {', '.join(sorted(config.skills)) or 'none'}"}])
        if not 1 <= level <= 5:
            raise ValidationFailed("a proficiency is between 1 and 5", errors=[{
                "field": f"{where}skills.{skill}", "code": "invalid_value",
                "detail": f"got {level}"}])


def record_event(session: Session, task: TaskRow, event_type: str, key: str,
                 properties: dict[str, Any], *, settings: Settings,
                 policies: customers.Policies, now: datetime) -> str | None:
    """A fact of the task on the customer's timeline (and to webhook subscribers). Returns the
    customer it resolved to; a task with nobody behind it records nothing."""
    return record_events(session, [(task, event_type, key, properties)], settings=settings,
                         policies=policies, now=now)[0]


def record_events(session: Session, facts: Sequence[tuple[TaskRow, str, str, dict[str, Any]]],
                  *, settings: Settings, policies: customers.Policies, now: datetime
                  ) -> list[str | None]:
    """Several tasks' facts in one ingest (one identity resolution for a batch): the customer
    each resolved to, in order."""
    events: list[dict[str, Any]] = []
    positions: list[int] = []
    for position, (task, event_type, key, properties) in enumerate(facts):
        identifiers = {"customer_id": task.customer_id} if task.customer_id \
            else task.identifiers
        if not identifiers:
            continue
        events.append({
            "type": event_type, "source": "routing", "id": f"{task.id}:{key}",
            "occurred_at": now.isoformat(),
            "channel": EVENT_CHANNEL.get(task.channel, task.channel),
            "identifiers": identifiers,
            "properties": {"task_id": task.id, "queue": task.queue, "kind": task.kind,
                           **properties}})
        positions.append(position)
    customers_of: list[str | None] = [None] * len(facts)
    if not events:
        return customers_of
    result = ingest.ingest(session, {"events": events}, settings=settings, policies=policies,
                           now=now, actor="routing")
    for item in result.results:
        customers_of[positions[item.index]] = item.customer_id
    return customers_of


# -- tasks: the offer and after -------------------------------------------------------------

def get_task(session: Session, task_id: str, *, for_update: bool = False) -> TaskRow:
    task = repo.task(session, task_id, for_update=for_update)
    if task is None:
        raise NotFound(f"task '{task_id}' does not exist", field="task_id")
    return task


def get_tasks(session: Session, task_ids: Sequence[str]) -> list[TaskRow]:
    """The tasks that exist among these."""
    return repo.tasks_by_ids(session, task_ids)


def locked(session: Session, task_id: str) -> tuple[AgentRow | None, TaskRow]:
    """The task and the agent holding it, both locked, agent first (the lock order everyone
    keeps). A transition never holds two agents' locks: if the task moved to another agent
    between the look and the lock, it is refused (the caller may retry) rather than locking a
    second agent, which could deadlock against a transition of that agent."""
    seen = get_task(session, task_id)
    agent = repo.agent(session, seen.agent_id, for_update=True) if seen.agent_id else None
    task = get_task(session, task_id, for_update=True)
    if task.agent_id is None:
        return None, task
    if agent is not None and task.agent_id == agent.id:
        return agent, task
    raise Conflict(f"task '{task_id}' changed hands meanwhile; try again", field="task_id")


def reserve(session: Session, task_id: str, agent_id: str, step: str, config: RoutingConfig,
            now: datetime) -> bool:
    """Offer a waiting task to an agent, if both still allow it (the dispatcher decided on
    its memory; this is the check against the record)."""
    return reserve_many(session, [(task_id, agent_id, step)], config, now)[0]


def reserve_many(session: Session, offers: Sequence[tuple[str, str, str]],
                 config: RoutingConfig, now: datetime,
                 rules: Sequence[Sequence[str]] | None = None) -> list[bool]:
    """Several offers ``(task, agent, step)`` checked and written together, in order: the
    agents are locked first (in id order), then the tasks (in id order), the order every
    transition keeps. ``rules``: per offer, the priority rules that held (kept with the
    offer as the routing explanation). Whether each was written."""
    agents = {row.id: row for row in repo.agents_by_ids(
        session, [agent_id for _, agent_id, _ in offers], for_update=True)}
    tasks = {row.id: row for row in repo.tasks_by_ids(
        session, [task_id for task_id, _, _ in offers], for_update=True)}
    why = list(rules) if rules is not None else [()] * len(offers)
    return [_reserve(session, tasks.get(task_id), agents.get(agent_id), step, config, now,
                     why[n])
            for n, (task_id, agent_id, step) in enumerate(offers)]


def _reserve(session: Session, task: TaskRow | None, agent: AgentRow | None, step: str,
             config: RoutingConfig, now: datetime, rules: Sequence[str] = ()) -> bool:
    if agent is None or task is None:
        return False
    if task.state != "pending" or (task.not_before is not None and task.not_before > now):
        return False
    if not agent.active or agent.presence != "available" or task.queue not in agent.queues:
        return False
    if not has_room(agent.load, agent.capacity, task.channel, config.exclusive_channels):
        return False
    queue = config.queues.get(task.queue)
    timeout = queue.reservation_timeout if queue else 20.0
    _account(session, agent, now)
    task.state = "reserved"
    task.agent_id = agent.id
    task.reserved_until = now + timedelta(seconds=timeout)
    task.version += 1
    task.changed_at = now
    agent.reserved += 1
    agent.load = {**agent.load, task.channel: agent.load.get(task.channel, 0) + 1}
    _changed(session, agent, now)
    repo.add(session, TaskOffer(task_id=task.id, agent_id=agent.id, step=step[:100],
                                rules=[r[:300] for r in rules] or None, offered_at=now,
                                until=task.reserved_until, outcome="offered"))
    return True


def _acting(session: Session, task_id: str, agent_id: str | None, states: tuple[str, ...],
            now: datetime) -> tuple[AgentRow, TaskRow]:
    """An agent acts on a task they hold (``agent_id`` None: the system does, on their
    behalf): both locked, checked, the agent's time accounted up to now."""
    agent, task = locked(session, task_id)
    if task.state not in states or agent is None \
            or (agent_id is not None and agent.id != agent_id):
        holds = "offered to" if states == ("reserved",) else "in progress with"
        raise Conflict(f"task '{task_id}' is not {holds} agent '{agent_id}' "
                       f"(it is {task.state})", field="task_id")
    if agent_id is not None:
        agent.last_seen = now  # the agent acted: their desktop is there
    _account(session, agent, now)
    return agent, task


def accept(session: Session, task_id: str, agent_id: str, *, settings: Settings,
           policies: customers.Policies, now: datetime) -> TaskRow:
    agent, task = _acting(session, task_id, agent_id, ("reserved",), now)
    if task.reserved_until is not None and task.reserved_until < now:
        raise Conflict("the offer has expired", field="task_id")
    task.state = "assigned"
    task.assigned_at = now
    task.reserved_until = None
    task.attempts += 1
    task.version += 1
    task.changed_at = now
    agent.reserved -= 1
    agent.assigned += 1
    _changed(session, agent, now)
    repo.close_offer(session, task.id, agent.id, "accepted", now)
    waited = max(0.0, (now - task.queued_at).total_seconds())
    stats.answered(session, task.queue, agent.site, waited, task.sl_seconds, now)
    record_event(session, task, f"{EVENT_PREFIX[task.channel]}.answered", "answered",
                 {"agent_id": agent.id, "waited_seconds": round(waited, 1)},
                 settings=settings, policies=policies, now=now)
    if task.customer_id and task.kind == "contact":
        _cancel_callbacks(session, task.customer_id, now, reason="recontacted",
                          settings=settings, policies=policies)
    return task


def take_outbound(session: Session, agent: AgentRow, task: TaskRow, now: datetime) -> None:
    """The agent's own outbound contact (click-to-dial): in their hands at once, never
    offered to anybody; their capacity counts it like an accepted call."""
    _account(session, agent, now)
    agent.assigned += 1
    agent.load = {**agent.load, task.channel: agent.load.get(task.channel, 0) + 1}
    agent.last_seen = now
    _changed(session, agent, now)


def reject(session: Session, task_id: str, agent_id: str, now: datetime) -> TaskRow:
    agent, task = _acting(session, task_id, agent_id, ("reserved",), now)
    _unreserve(session, agent, task, now, outcome="rejected")
    return task


def expire_offer(session: Session, task_id: str, now: datetime) -> bool:
    agent, task = locked(session, task_id)
    if task.state != "reserved" or agent is None or task.reserved_until is None \
            or task.reserved_until >= now:
        return False
    _account(session, agent, now)
    _unreserve(session, agent, task, now, outcome="timeout")
    return True


def end(session: Session, task_id: str, agent_id: str, now: datetime) -> TaskRow:
    """The conversation is over; after-call work (wrap-up) begins."""
    agent, task = _acting(session, task_id, agent_id, ("assigned",), now)
    task.state = "wrapping"
    task.ended_at = now
    task.version += 1
    task.changed_at = now
    agent.assigned -= 1
    agent.wrapping += 1
    _changed(session, agent, now)
    return task


def release(session: Session, task_id: str, agent_id: str | None, *, disposition: str | None,
            notes: str | None, data: dict[str, Any] | None, now: datetime
            ) -> tuple[TaskRow, dict[str, Any]]:
    """Wrap-up done: the agent's capacity comes back and the task keeps its result; the
    properties its outcome event carries. What the outcome is: ``wrapup.complete``."""
    agent, task = _acting(session, task_id, agent_id, ("assigned", "wrapping"), now)
    if task.reason == ERASED:  # the customer was erased mid-call: keep nothing about them
        notes, data = None, None
    was = task.state
    task.ended_at = task.ended_at or now
    handle = max(0.0, (now - (task.assigned_at or now)).total_seconds())
    if was == "assigned":
        agent.assigned -= 1
    else:
        agent.wrapping -= 1
    agent.load = _less(agent.load, task.channel)
    agent.free_since = now
    _changed(session, agent, now)
    task.result = {**task.result, **{k: v for k, v in {
        "disposition": disposition, "notes": notes, "data": data or None}.items()
        if v is not None}}
    stats.handled(session, task.queue, agent.id, agent.site, handle, now)
    properties = {"agent_id": agent.id, "duration": round(handle), **(data or {}),
                  **{k: v for k, v in {"disposition": disposition, "notes": notes}.items()
                     if v is not None}}
    return task, properties


def record_completed(session: Session, task: TaskRow, outcome: str,
                     properties: dict[str, Any], *, settings: Settings,
                     policies: customers.Policies, now: datetime) -> None:
    """The task is over: its outcome on the customer's timeline (and so to the CRM)."""
    finish(task, "completed", outcome, now)
    event_type = COMPLETED_EVENT.get(task.channel, f"{EVENT_PREFIX[task.channel]}.completed")
    record_event(session, task, event_type, "completed", properties, settings=settings,
                 policies=policies, now=now)


def cancel(session: Session, task_id: str, reason: str | None, now: datetime) -> TaskRow:
    """Withdraw a task nobody is working on yet (the chat was closed, the CRM solved it)."""
    agent, task = locked(session, task_id)
    if task.state not in ("pending", "reserved"):
        raise Conflict(f"task '{task_id}' is {task.state}: only a waiting task can be "
                       "canceled", field="task_id")
    if agent is not None and task.state == "reserved":
        withdraw_offer(session, agent, task, now)
    finish(task, "canceled", reason or "canceled", now)
    return task


ERASED = "customer_erased"  # a scrubbed task's reason: its notes are never kept


def erase_customers(session: Session, customer_ids: Sequence[str], now: datetime
                    ) -> dict[str, int]:
    """Erasure: the customers' waiting and offered tasks (callbacks included) are canceled,
    so no agent is offered them again; every task of theirs, whatever its state, loses who
    was behind it. A task in an agent's hands stays theirs to finish (it records nothing)."""
    task_ids = repo.task_ids_of_customers(session, customer_ids)
    canceled = 0
    for task in get_tasks(session, task_ids):
        if task.state in ("pending", "reserved"):
            cancel(session, task.id, ERASED, now)
            canceled += 1
    return {"tasks_canceled": canceled,
            "tasks": repo.scrub_tasks(session, task_ids, ERASED, now),
            "routing_overrides": repo.delete_overrides_of(session, customer_ids)}


def _cancel_callbacks(session: Session, customer_id: str, now: datetime, *, reason: str,
                      settings: Settings, policies: customers.Policies) -> None:
    for callback in repo.pending_callbacks(session, customer_id, for_update=True):
        finish(callback, "canceled", reason, now)
        record_event(session, callback, "callback.canceled", "canceled", {"reason": reason},
                     settings=settings, policies=policies, now=now)


def hold_lease(session: Session, name: str, holder: str, now: datetime,
               until: datetime) -> bool:
    """A named lease (the dispatcher's, the journeys runner's): one process works, the
    others stand by until it expires."""
    return repo.take_lease(session, name, holder, now, until)


def drop_lease(session: Session, name: str, holder: str) -> None:
    repo.release_lease(session, name, holder)
