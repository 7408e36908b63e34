"""Abandoned calls and callbacks (S14).

A callback is a task like any other (kind ``callback``, channel voice) with a not-before time,
a window, a number of attempts and a final outcome. It is created by the abandoned-call policy,
scheduled by the customer (a window they chose), or requested by another system (the CRM
closes an investigation). When the customer gets through by themselves first, their waiting
callbacks are canceled as ``recontacted``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from circulo.config import Settings
from circulo.customers import service as customers
from circulo.customers.traits import has_consent
from circulo.errors import Conflict, ValidationFailed
from circulo.identity import service as identity
from circulo.routing import intake, service, stats
from circulo.routing import repository as repo
from circulo.routing.abandonment import AbandonDecision, AbandonFacts, decide
from circulo.routing.models import TaskRow
from circulo.routing.policy import RoutingConfig

MAX_AHEAD = timedelta(days=90)
RETRY_OUTCOMES = ("no_answer", "busy", "voicemail", "failed")
FINAL_OUTCOMES = ("reached", "wrong_number", "declined")
OUTCOMES = FINAL_OUTCOMES + RETRY_OUTCOMES


def _has_phone(session: Session, task: TaskRow) -> bool:
    if task.identifiers.get("phone") or task.identifiers.get("phones"):
        return True
    if not task.customer_id:
        return False
    points = identity.contact_points_of(session, [task.customer_id]).get(task.customer_id, [])
    return any(kind == "phone" for kind, _ in points)


def abandon(session: Session, task_id: str, config: RoutingConfig, *, settings: Settings,
            policies: customers.Policies, now: datetime) -> tuple[TaskRow, AbandonDecision]:
    """The customer hung up (or closed the chat) while waiting: record it and let the
    abandoned-call policy decide what happens next."""
    agent, task = service.locked(session, task_id)
    if task.state not in ("pending", "reserved"):
        raise Conflict(f"task '{task_id}' is {task.state}: only a waiting contact can be "
                       "abandoned", field="task_id")
    if agent is not None and task.state == "reserved":
        service.withdraw_offer(session, agent, task, now)
    waited = max(0.0, (now - task.queued_at).total_seconds())
    policy = config.abandoned
    service.finish(task, "abandoned", "abandoned", now)
    stats.abandoned(session, task.queue, waited, waited < policy.short_abandon, now)

    recontacted = callback_pending = False
    consent: dict[str, Any] = {}
    if task.customer_id:
        since = now - timedelta(seconds=policy.recontact_window)
        others = repo.customer_tasks_since(
            session, task.customer_id, min(since, task.created_at),
            ("pending", "reserved", "assigned", "wrapping", "completed"))
        recontacted = any(o.id != task.id and o.kind == "contact"
                          and o.created_at >= task.created_at for o in others)
        callback_pending = bool(repo.pending_callbacks(session, task.customer_id))
        try:
            consent = customers.active_root(session, task.customer_id).consent
        except Exception:
            consent = {}
    facts = AbandonFacts(
        channel=task.channel, waited=waited, has_phone=_has_phone(session, task),
        recontacted=recontacted, callback_pending=callback_pending,
        sms_allowed=has_consent(consent, "sms", "service") is not False,
    )
    context = {"task": {"id": task.id, "queue": task.queue, "channel": task.channel,
                        "priority": task.priority, "language": task.language,
                        "attributes": task.attributes, "waited": waited},
               "customer": task.context}
    decision = decide(policy, facts, context, task.queue)
    if decision.queue is not None and decision.queue not in config.queues:
        decision = AbandonDecision("ignore", "queue_gone")
    outcome: dict[str, Any] = {"decision": decision.action, "reason": decision.reason}
    if decision.action in ("callback", "winback"):
        callback, _ = intake.create_task(session, intake.NewTask(
            queue=decision.queue or task.queue, channel="voice",
            identifiers={"customer_id": task.customer_id} if task.customer_id
            else task.identifiers,
            priority=decision.priority, skills=task.skills, language=task.language,
            attributes={**task.attributes, "abandoned_task": task.id,
                        "winback": decision.action == "winback"},
            source="routing", external_id=f"abandoned:{task.id}",
            reason="winback" if decision.action == "winback" else "abandoned_call",
            kind="callback", not_before=now + timedelta(seconds=decision.delay),
            window_end=now + timedelta(seconds=policy.recontact_window)
            + timedelta(seconds=decision.delay),
            max_attempts=policy.callback_attempts, parent_id=task.id,
        ), config, settings=settings, policies=policies, now=now)
        outcome["callback_id"] = callback.id
    task.result = {"abandon": outcome}
    prefix = service.EVENT_PREFIX[task.channel]
    service.record_event(session, task, f"{prefix}.abandoned", "abandoned",
                         {"waited_seconds": round(waited, 1), **outcome},
                         settings=settings, policies=policies, now=now)
    if decision.action == "sms":
        service.record_event(session, task, "callback.sms_requested", "sms",
                             {"reason": "abandoned_call", "waited_seconds": round(waited, 1)},
                             settings=settings, policies=policies, now=now)
    return task, decision


def check_window(start: datetime, end: datetime, now: datetime) -> None:
    """Refuse a callback window that cannot happen."""
    problems = []
    if end <= start:
        problems.append({"field": "window_end", "code": "window_inverted",
                         "detail": "the window must end after it starts"})
    if end <= now:
        problems.append({"field": "window_end", "code": "window_past",
                         "detail": "the window has already ended"})
    if start > now + MAX_AHEAD:
        problems.append({"field": "window_start", "code": "window_too_far",
                         "detail": f"at most {MAX_AHEAD.days} days ahead"})
    if problems:
        raise ValidationFailed("impossible callback window", errors=problems)


def schedule(session: Session, new: intake.NewTask, config: RoutingConfig, *,
             settings: Settings, policies: customers.Policies, now: datetime
             ) -> tuple[TaskRow, bool]:
    """A callback the customer or another system asked for."""
    if new.not_before is None or new.window_end is None:
        raise ValidationFailed("a callback needs a window", errors=[
            {"field": "window_end", "code": "missing", "detail": "required"}])
    check_window(new.not_before, new.window_end, now)
    task, created = intake.create_task(session, new, config, settings=settings,
                                        policies=policies, now=now)
    if created and not _has_phone(session, task):
        raise ValidationFailed("no phone number to call back", errors=[{
            "field": "identifiers.phone", "code": "no_phone",
            "detail": "give a phone, or identify a customer Círculo has a phone for"}])
    return task, created


def after_attempt(session: Session, task: TaskRow, outcome: str, properties: dict[str, Any],
                  config: RoutingConfig, *, settings: Settings, policies: customers.Policies,
                  now: datetime) -> None:
    """A callback attempt is over: done if the customer was reached (or cannot be), tried
    again later while attempts and the window allow, otherwise failed."""
    if outcome not in OUTCOMES:
        raise ValidationFailed(f"unknown callback outcome '{outcome}'", errors=[{
            "field": "outcome", "code": "invalid_value",
            "detail": f"expected one of {', '.join(OUTCOMES)}"}])
    retry_at = now + timedelta(seconds=config.abandoned.retry_after)
    attempt = {"attempt": task.attempts, "outcome": outcome, **properties}
    task.result = {**task.result, "attempts": [*task.result.get("attempts", []), attempt]}
    if outcome in RETRY_OUTCOMES and task.attempts < task.max_attempts \
            and (task.window_end is None or retry_at < task.window_end):
        task.state = "pending"
        task.agent_id = None
        task.assigned_at = None
        task.ended_at = None
        task.not_before = retry_at
        task.queued_at = retry_at
        task.declined = {}
        task.version += 1
        task.changed_at = now
        service.record_event(session, task, "callback.retry_scheduled",
                             f"retry:{task.attempts}", {**attempt,
                                                        "not_before": retry_at.isoformat()},
                             settings=settings, policies=policies, now=now)
        return
    # reached, wrong_number, declined end as they are; tries that ran out end unreached
    service.finish(task, "completed", outcome if outcome in FINAL_OUTCOMES else "unreached",
                   now)
    event_type = "callback.completed" if outcome == "reached" else "callback.failed"
    service.record_event(session, task, event_type, "completed",
                         {**attempt, "final_outcome": task.outcome}, settings=settings,
                         policies=policies, now=now)
