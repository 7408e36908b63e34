"""What the background work has still to do, read for /metrics (docs/operations.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from circulo.connectors import repository as outbox
from circulo.journeys import repository as journeys
from circulo.routing import repository as routing
from circulo.textan import repository as text_inbox


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
    text_inbox: int
    text_failed: int
    text_lag_seconds: float
    queues: tuple[QueueWait, ...]


def _age(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


def backlog(session: Session, now: datetime) -> Backlog:
    """A few indexed aggregate queries: cheap enough for every scrape."""
    undelivered, oldest = outbox.undelivered(session)
    waiting_events, first = journeys.inbox_summary(session)
    texts, failed, oldest_text = text_inbox.summary(session)
    return Backlog(
        outbox=undelivered, outbox_oldest_seconds=_age(now, oldest),
        journeys_inbox=waiting_events, journeys_lag_seconds=_age(now, first),
        text_inbox=texts, text_failed=failed, text_lag_seconds=_age(now, oldest_text),
        queues=tuple(QueueWait(queue, count, _age(now, since))
                     for queue, count, since in routing.waiting_summary(session, now)))
