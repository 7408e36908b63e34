"""The journeys in force, as an ``Engine``, cached per database and re-checked at most once a
second; and the inbox writer the ingest pipeline calls for every batch it stores.

The inbox is written in the ingest transaction, only for events some journey listens to
(its trigger, a count, or a wait), so an installation's events cost nothing more than one set
lookup when no journey cares about them, and nothing a journey needs is ever lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from circulo import hooks
from circulo.journeys import repository as repo
from circulo.journeys.definition import Journey, JourneyError, parse_data
from circulo.journeys.engine import Engine

CHECK_SECONDS = 1.0
REPLIES = frozenset({"sms.received"})  # may answer callback slots a journey offered
RUNNER = "journeys_runner"  # in ``Session.info``: the runner's own sessions
log = logging.getLogger(__name__)
_last_ingest = 0.0  # when this process last stored events from anyone but the runner


def ingest_active(within: float) -> bool:
    """Whether this process stored events from a source (not the runner) in the last
    ``within`` seconds: a runner that is behind then leaves ingest most of the time."""
    return time.monotonic() - _last_ingest < within


@dataclass
class _Cached:
    engine: Engine
    stamp: Any
    checked: float


_cache: dict[str, _Cached] = {}
_lock = threading.Lock()


def _key(session: Session) -> str:
    return str(session.get_bind().engine.url)


def engine(session: Session) -> Engine:
    """The engine for the journeys saved in this database, rebuilt when they change."""
    key = _key(session)
    cached = _cache.get(key)
    now = time.monotonic()
    if cached is not None and now - cached.checked < CHECK_SECONDS:
        return cached.engine
    stamp = repo.stamp(session)
    if cached is not None and cached.stamp == stamp:
        cached.checked = now
        return cached.engine
    built = build(session)
    with _lock:
        _cache[key] = _Cached(built, stamp, now)
    return built


def invalidate(session: Session) -> None:
    _cache.pop(_key(session), None)


def build(session: Session) -> Engine:
    rows = {r.key: r for r in repo.journeys(session)}
    versions: dict[tuple[str, int], Journey] = {}
    for stored in repo.all_versions(session):
        try:
            versions[(stored.key, stored.version)] = parse_data(stored.document)
        except JourneyError:  # saved by an older release that checked less: never runs
            log.exception("journey %s v%s no longer loads", stored.key, stored.version)
    active = [versions[(r.key, r.active_version)] for r in rows.values()
              if r.status == "active" and r.active_version is not None
              and (r.key, r.active_version) in versions]
    return Engine(active, versions, {r.key: r.active_version for r in rows.values()
                                     if r.active_version is not None})


def on_events_stored(session: Session, accepted: hooks.Accepted) -> None:
    """The ingest subscriber: what journeys listen to goes to their inbox."""
    enqueue(session, accepted.rows, accepted.view, accepted.now)


def enqueue(session: Session, events: Iterable[Mapping[str, Any]],
            view: Callable[[Mapping[str, Any]], dict[str, Any]], now: datetime) -> int:
    """Put the stored events some journey listens to in the inbox (the caller's
    transaction). ``view`` makes what journeys read of a stored event row: id, type,
    customer_id, occurred_at (ISO), channel, source, properties, traits, record."""
    global _last_ingest
    if not session.info.get(RUNNER):
        _last_ingest = time.monotonic()
    current = engine(session)
    if not current.versions:
        return 0
    rows = []
    for event in events:
        if event["type"] in REPLIES or current.watches(str(event["type"])):
            v = view(event)
            rows.append({"event_id": v["id"], "customer_id": v.get("customer_id"),
                         "type": v["type"], "payload": v, "created_at": now, "attempts": 0})
    if rows:
        repo.enqueue(session, rows)
    return len(rows)
