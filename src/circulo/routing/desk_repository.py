"""The queries of the agent's desk: its callbacks and the history of its offers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from circulo.routing.models import TaskOffer, TaskRow


def waiting_callbacks(session: Session, queues: Sequence[str], until: datetime,
                      limit: int = 20) -> Sequence[TaskRow]:
    """Callbacks waiting in these queues that are due by ``until``, soonest first."""
    if not queues:
        return []
    return session.scalars(
        select(TaskRow).where(TaskRow.kind == "callback", TaskRow.state == "pending",
                              TaskRow.queue.in_(list(queues)), TaskRow.queued_at <= until)
        .order_by(TaskRow.queued_at, TaskRow.id).limit(limit)).all()


def offers_to(session: Session, agent_id: str, task_ids: Sequence[str]
              ) -> dict[str, TaskOffer]:
    """The latest offer of each of these tasks to this agent."""
    if not task_ids:
        return {}
    latest: dict[str, TaskOffer] = {}
    for offer in session.scalars(
            select(TaskOffer).where(TaskOffer.agent_id == agent_id,
                                    TaskOffer.task_id.in_(list(task_ids)))
            .order_by(TaskOffer.id)):
        latest[offer.task_id] = offer
    return latest


def callbacks_mark(session: Session, queues: Sequence[str], until: datetime
                   ) -> tuple[int, datetime | None]:
    """How many callbacks of these queues are due by ``until``, and their latest change: a
    cheap sign that the desk's list of callbacks changed."""
    if not queues:
        return 0, None
    count, latest = session.execute(
        select(func.count(), func.max(TaskRow.changed_at)).where(
            TaskRow.kind == "callback", TaskRow.state == "pending",
            TaskRow.queue.in_(list(queues)), TaskRow.queued_at <= until)).one()
    return int(count), latest
