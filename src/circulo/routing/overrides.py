"""Routing overrides: a temporary change to how one customer is routed, with an expiry.

This is the hook journeys use (S6, S8, S18): send the customer's next calls to the VIP queue,
to a dedicated team, or ahead by some priority points, and give the IVR a personal message
and question. An override applies to the customer's tasks created while it is active and to
those already waiting when it is set.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from circulo.customers import service as customers
from circulo.errors import NotFound, ValidationFailed
from circulo.ids import new_id
from circulo.routing import repository as repo
from circulo.routing.models import RoutingOverride
from circulo.routing.policy import RoutingConfig


def set_override(session: Session, customer_id: str, *, config: RoutingConfig,
                 expires_at: datetime, queue: str | None = None, team: str | None = None,
                 priority_boost: int = 0, ivr: dict[str, Any] | None = None,
                 reason: str | None = None, source: str, now: datetime) -> RoutingOverride:
    profile = customers.active_root(session, customer_id)
    if expires_at <= now:
        raise ValidationFailed("the override would already be over", errors=[{
            "field": "expires_at", "code": "in_the_past", "detail": "must be in the future"}])
    if queue is not None and queue not in config.queues:
        raise ValidationFailed(f"unknown queue '{queue}'", errors=[{
            "field": "queue", "code": "unknown_queue",
            "detail": f"known queues: {', '.join(sorted(config.queues)) or 'none'}"}])
    if queue is None and team is None and not priority_boost and not ivr:
        raise ValidationFailed("an override must change something", errors=[{
            "field": "queue", "code": "empty_override",
            "detail": "give a queue, a team, a priority_boost or an ivr message"}])
    row = RoutingOverride(id=new_id(), customer_id=profile.id, queue=queue, team=team,
                          priority_boost=priority_boost, ivr=ivr, reason=reason, source=source,
                          expires_at=expires_at, created_at=now)
    repo.add(session, row)
    for task in repo.pending_tasks_of(session, profile.id):
        if queue is not None and task.channel in config.queues[queue].channels:
            task.queue = queue
            task.sl_seconds = config.queues[queue].sl_seconds
        task.team = team
        task.boost = priority_boost
        task.context = {**task.context, "override": view(row)}
        task.version += 1
        task.changed_at = now
    return row


def cancel_override(session: Session, override_id: str, now: datetime) -> RoutingOverride:
    row = repo.override(session, override_id)
    if row is None:
        raise NotFound(f"routing override '{override_id}' does not exist", field="override_id")
    row.canceled_at = row.canceled_at or now
    return row


def active_for(session: Session, customer_id: str, now: datetime) -> list[RoutingOverride]:
    profile = customers.active_root(session, customer_id)
    return list(repo.active_overrides(session, [profile.id], now))


def view(row: RoutingOverride) -> dict[str, Any]:
    return {"id": row.id, "customer_id": row.customer_id, "queue": row.queue,
            "team": row.team, "priority_boost": row.priority_boost, "ivr": row.ivr,
            "reason": row.reason, "source": row.source,
            "expires_at": row.expires_at.isoformat(), "created_at": row.created_at.isoformat(),
            "canceled_at": row.canceled_at.isoformat() if row.canceled_at else None}
