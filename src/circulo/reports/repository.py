"""The queries of the reports: the tasks routing stored and the survey answers ingest
stored. Read-only; they read other packages' tables because a report is a read model over
them (ADR 0021)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from circulo.customers.models import Event
from circulo.reports.facts import SurveyFact, TaskFact
from circulo.routing.models import TaskRow

SURVEY = "survey.answered"


def tasks_created(session: Session, start: datetime, end: datetime) -> list[TaskFact]:
    """Tasks created in [start, end), oldest first (index ``ix_tasks_created``)."""
    rows = session.execute(
        select(TaskRow.id, TaskRow.kind, TaskRow.queue, TaskRow.channel, TaskRow.state,
               TaskRow.customer_id, TaskRow.reason, TaskRow.agent_id, TaskRow.sl_seconds,
               TaskRow.created_at, TaskRow.queued_at, TaskRow.assigned_at,
               TaskRow.completed_at)
        .where(TaskRow.created_at >= start, TaskRow.created_at < end)
        .order_by(TaskRow.created_at))
    return [TaskFact._make(row) for row in rows]


def _number(value: Any, low: float, high: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if low <= number <= high else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def surveys(session: Session, start: datetime, end: datetime) -> list[SurveyFact]:
    """``survey.answered`` events that occurred in [start, end) (index
    ``ix_events_type_time``): ``csat`` 1–5 and ``nps`` 0–10, out-of-range values ignored."""
    rows = session.execute(
        select(Event.occurred_at, Event.profile_id, Event.properties)
        .where(Event.type == SURVEY, Event.occurred_at >= start, Event.occurred_at < end))
    out: list[SurveyFact] = []
    for occurred_at, profile_id, properties in rows:
        props = properties or {}
        csat, nps = _number(props.get("csat"), 1, 5), _number(props.get("nps"), 0, 10)
        if csat is None and nps is None:
            continue
        out.append(SurveyFact(occurred_at, profile_id, csat, nps, _text(props.get("task_id")),
                              _text(props.get("agent_id")), _text(props.get("queue"))))
    return out
