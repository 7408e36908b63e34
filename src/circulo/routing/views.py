"""Rows as the API shows them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from circulo.routing.models import AgentRow, TaskRow

CUSTOMER_FIELDS = ("known", "id", "name", "tier", "segment", "value", "churn_risk", "language",
                   "advisor", "case_owner", "open_kinds", "last_agents", "contacts_today")


def task_view(task: TaskRow, position: int | None = None,
              expected_wait: float | None = None) -> dict[str, Any]:
    override = task.context.get("override") or {}
    return {
        "id": task.id, "kind": task.kind, "state": task.state, "queue": task.queue,
        "channel": task.channel, "customer_id": task.customer_id,
        "customer": {k: task.context[k] for k in CUSTOMER_FIELDS if k in task.context},
        "priority": task.priority, "skills": task.skills, "language": task.language,
        "attributes": task.attributes, "reason": task.reason, "team": task.team,
        "agent_id": task.agent_id,
        "position": position if task.state == "pending" else None,
        "expected_wait_seconds": round(expected_wait, 1) if expected_wait is not None
        and task.state == "pending" else None,
        "ivr": override.get("ivr"),
        "created_at": task.created_at, "queued_at": task.queued_at,
        "not_before": task.not_before, "window_end": task.window_end,
        "reserved_until": task.reserved_until, "assigned_at": task.assigned_at,
        "ended_at": task.ended_at, "completed_at": task.completed_at,
        "attempts": task.attempts, "max_attempts": task.max_attempts,
        "outcome": task.outcome, "result": task.result, "parent_id": task.parent_id,
    }


def agent_view(agent: AgentRow, now: datetime, heartbeat: timedelta) -> dict[str, Any]:
    return {
        "id": agent.id, "name": agent.name, "site": agent.site, "skills": agent.skills,
        "languages": agent.languages, "queues": agent.queues, "teams": agent.teams,
        "capacity": agent.capacity, "wrap_up": agent.wrap_up, "presence": agent.presence,
        "away_reason": agent.away_reason, "state": agent.activity,
        "state_since": agent.activity_since, "presence_since": agent.presence_since,
        "load": {k: v for k, v in agent.load.items() if v},
        "connected": agent.last_seen is not None and now - agent.last_seen <= heartbeat,
        "last_seen": agent.last_seen,
    }
