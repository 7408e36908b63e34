"""Wrap-up done: an ordinary task's outcome is recorded; a callback follows its own rules
(tried again while attempts and its window allow). Above ``service`` and ``callbacks``, so
neither imports the other's caller."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from circulo.config import Settings
from circulo.customers import service as customers
from circulo.routing import callbacks, service
from circulo.routing.models import TaskRow
from circulo.routing.policy import RoutingConfig


def complete(session: Session, task_id: str, agent_id: str | None, *, disposition: str | None,
             notes: str | None, data: dict[str, Any] | None, outcome: str | None,
             config: RoutingConfig, settings: Settings, policies: customers.Policies,
             now: datetime) -> TaskRow:
    """The agent's capacity comes back, the outcome is recorded on the customer's timeline
    (and reaches the CRM connectors); a callback that did not reach the customer is tried
    again while attempts and its window allow."""
    task, properties = service.release(session, task_id, agent_id, disposition=disposition,
                                       notes=notes, data=data, now=now)
    if task.kind == "callback" and task.reason != service.ERASED:
        callbacks.after_attempt(session, task, outcome or "reached", properties, config,
                                settings=settings, policies=policies, now=now)
    else:
        service.record_completed(session, task, outcome or disposition or "completed",
                                 properties, settings=settings, policies=policies, now=now)
    return task
