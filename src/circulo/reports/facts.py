"""The facts a report reads: what the repository returns and the engine computes from."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class TaskFact(NamedTuple):
    """One routing task, as much as a report needs."""

    id: str
    kind: str  # contact | callback
    queue: str
    channel: str
    state: str
    customer_id: str | None
    reason: str | None
    agent_id: str | None
    sl_seconds: float
    created_at: datetime
    queued_at: datetime
    assigned_at: datetime | None
    completed_at: datetime | None


class SurveyFact(NamedTuple):
    """One ``survey.answered`` event: its scores and what it names about the contact."""

    occurred_at: datetime
    customer_id: str | None
    csat: float | None  # 1–5
    nps: float | None  # 0–10
    task_id: str | None
    agent_id: str | None
    queue: str | None
