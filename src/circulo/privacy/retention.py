"""Storage limitation (GDPR article 5(1)(e)): events older than
``CIRCULO_EVENT_RETENTION_DAYS`` are deleted, with the finished outbox messages that copied
them, a batch per transaction so that ingest never waits long behind a purge.

Indicators are not recomputed: they are aggregates kept incrementally (counts and sums per
day for 90 days, lifetime totals), so a customer's lifetime value and contact counts stay
what they were. Traits, consent and records stay too: they are the profile's current state,
not the history. Undoing a merge rebuilds both profiles from the events that remain, so after
a purge it loses what only purged events said (docs/privacy.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from circulo.context import AppContext
from circulo.db import Database
from circulo.privacy import repository as repo

BATCH = 1000
EVERY_SECONDS = 3600.0
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Purged:
    events: int
    messages: int
    before: datetime


def purge(db: Database, days: int, now: datetime, batch: int = BATCH) -> Purged:
    """Delete what is older than ``days``; each batch is its own transaction."""
    before = now - timedelta(days=days)
    events = _in_batches(db, repo.old_event_ids, repo.delete_events, before, batch)
    messages = _in_batches(db, repo.old_finished_messages, repo.delete_messages, before, batch)
    if events or messages:
        db.checkpoint()
    return Purged(events, messages, before)


def _in_batches(db: Database, find: Callable[[Session, datetime, int], list[str]],
                drop: Callable[[Session, Sequence[str]], int], before: datetime,
                batch: int) -> int:
    removed = 0
    while True:
        with db.unit_of_work() as session:
            ids = find(session, before, batch)
            removed += drop(session, ids) if ids else 0
        if len(ids) < batch:
            return removed


def run_forever(ctx: AppContext, stop: threading.Event) -> None:
    days = ctx.settings.event_retention_days
    while days is not None and not stop.is_set():
        try:
            purged = purge(ctx.db, days, ctx.clock.now())
            if purged.events or purged.messages:
                log.info("retention: %d event(s) and %d outbox message(s) before %s deleted",
                         purged.events, purged.messages, purged.before.isoformat())
        except Exception:  # the next hour retries; serving goes on
            log.exception("retention purge failed")
        stop.wait(EVERY_SECONDS)


def run_in_thread(ctx: AppContext, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=run_forever, args=(ctx, stop), name="retention",
                              daemon=True)
    thread.start()
    return thread
