"""What reading a customer's message tells routing about their waiting task (S16, S11).

The analysis worker hands over a ``TextSignal``; this module changes the customer's waiting
tasks on that channel through routing's own rows: the task's attributes gain ``urgent``,
``sentiment``, ``urgent_reasons`` and ``intent``, which the policy's priority rules read as
``task.urgent``, ``task.sentiment`` and ``task.intent`` (docs/routing.md), and a confident
e-mail intent that names a queue (or a skill) of the policy moves the e-mail there. The
version goes up, so the dispatcher re-reads the task and its priority and explanation change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from circulo.routing import repository as repo
from circulo.routing.models import TaskRow
from circulo.routing.policy import RoutingConfig


@dataclass(frozen=True, slots=True)
class TextSignal:
    customer_id: str
    channel: str
    urgent: bool
    sentiment: str
    reasons: tuple[str, ...] = ()
    intent: str | None = None
    queue: str | None = None  # where a confident intent sends the contact
    skill: str | None = None  # the skill a confident intent asks for


def apply_text_signals(session: Session, signals: Sequence[TextSignal], config: RoutingConfig,
                       now: datetime) -> list[str]:
    """The ids of the waiting tasks changed. Urgency sticks: a calmer next line does not
    take a task's urgency away (the agent still has to deal with the threat)."""
    changed: list[str] = []
    by_customer: dict[str, list[TextSignal]] = {}
    for signal in signals:
        by_customer.setdefault(signal.customer_id, []).append(signal)
    waiting: dict[str, list[TaskRow]] = {}
    for task in repo.pending_tasks_of_many(session, list(by_customer)):
        waiting.setdefault(str(task.customer_id), []).append(task)
    for customer_id in sorted(waiting):
        tasks = waiting[customer_id]
        for signal in by_customer[customer_id]:
            for task in tasks:
                if task.channel != signal.channel or task.kind != "contact":
                    continue
                attributes = dict(task.attributes or {})
                before = (dict(attributes), task.queue, dict(task.skills))
                attributes["urgent"] = bool(attributes.get("urgent") is True or signal.urgent)
                attributes["sentiment"] = signal.sentiment
                reasons = [*attributes.get("urgent_reasons", []), *signal.reasons] \
                    if isinstance(attributes.get("urgent_reasons"), list) \
                    else list(signal.reasons)
                attributes["urgent_reasons"] = sorted(set(map(str, reasons)))
                if signal.intent is not None:
                    attributes["intent"] = signal.intent
                target = config.queues.get(signal.queue) if signal.queue else None
                if target is not None and task.channel in target.channels \
                        and task.team is None:
                    task.queue = target.name
                    task.sl_seconds = target.sl_seconds
                if signal.skill is not None and signal.skill in config.skills \
                        and signal.skill not in task.skills:
                    task.skills = {**task.skills, signal.skill: 1}
                task.attributes = attributes
                if (attributes, task.queue, dict(task.skills)) != before:
                    task.version += 1
                    task.changed_at = now
                    changed.append(task.id)
    return sorted(set(changed))
