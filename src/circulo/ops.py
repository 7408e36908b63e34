"""What the background work has still to do, read for /metrics (docs/operations.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from circulo.connectors import repository as outbox
from circulo.journeys import repository as journeys
from circulo.routing import repository as routing


@dataclass(frozen=True, slots=True)
class QueueWait:
    queue: str
    waiting: int
    oldest_seconds: float


@dataclass(frozen=True, slots=True)
class Backlog:
    outbox: int
    outbox_oldest_seconds: float
    journeys_inbox: int
    journeys_lag_seconds: float
    queues: tuple[QueueWait, ...]


def _age(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


def backlog(session: Session, now: datetime) -> Backlog:
    """Three indexed aggregate queries: cheap enough for every scrape."""
    undelivered, oldest = outbox.undelivered(session)
    waiting_events, first = journeys.inbox_summary(session)
    return Backlog(
        outbox=undelivered, outbox_oldest_seconds=_age(now, oldest),
        journeys_inbox=waiting_events, journeys_lag_seconds=_age(now, first),
        queues=tuple(QueueWait(queue, count, _age(now, since))
                     for queue, count, since in routing.waiting_summary(session, now)))
