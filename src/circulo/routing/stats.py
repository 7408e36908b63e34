"""Live routing statistics: counters kept per 15-minute interval and per queue, site and agent,
incremented in the transaction of each transition (never recounted from the tasks), plus what
is true right now (waiting contacts, agent states) for the supervisor's view.

Service level: ``service_level`` is answered within the queue's threshold / answered;
``service_level_abandons`` also counts abandons after the short-abandon threshold in the
denominator (answered + abandoned - short abandons), the stricter variant many centers report.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from circulo.routing import repository as repo
from circulo.routing.models import AgentRow

INTERVAL = timedelta(minutes=15)
_PENDING = "routing_stats"


def _add(session: Session, bucket: datetime, scope: str, key: str,
         values: dict[str, float]) -> None:
    """Buffer an increment; all of a transaction's increments are written at commit, in one
    global order (bucket, scope, key). Written as they came, two transitions touching the same
    queue and site rows in opposite orders deadlocked on PostgreSQL."""
    pending: dict[tuple[datetime, str, str], dict[str, float]] = session.info.setdefault(
        _PENDING, {})
    counters = pending.setdefault((bucket, scope, key), {})
    for name, value in values.items():
        counters[name] = counters.get(name, 0) + value


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        repo.add_stats(session, [(*key, values) for key, values in sorted(pending.items())])


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def bucket_of(now: datetime) -> datetime:
    return now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)


def offered(session: Session, queue: str, now: datetime) -> None:
    _add(session, bucket_of(now), "queue", queue, {"offered": 1})


def answered(session: Session, queue: str, site: str, waited: float,
             threshold: float, now: datetime) -> None:
    values = {"answered": 1, "answered_in_sl": int(waited <= threshold), "wait_seconds": waited}
    bucket = bucket_of(now)
    _add(session, bucket, "queue", queue, values)
    _add(session, bucket, "site", site, values)


def abandoned(session: Session, queue: str, waited: float, short: bool, now: datetime) -> None:
    _add(session, bucket_of(now), "queue", queue,
                   {"abandoned": 1, "abandoned_short": int(short)})


def handled(session: Session, queue: str, agent_id: str, site: str, seconds: float,
            now: datetime) -> None:
    values = {"handled": 1, "handle_seconds": seconds}
    bucket = bucket_of(now)
    _add(session, bucket, "queue", queue, values)
    _add(session, bucket, "site", site, values)
    _add(session, bucket, "agent", agent_id, values)


def missed(session: Session, agent_id: str, site: str, now: datetime) -> None:
    _add(session, bucket_of(now), "agent", agent_id, {"missed": 1})


def agent_time(session: Session, agent_id: str, site: str, now: datetime, *, staffed: float,
               busy: float) -> None:
    """A span of logged-in time, counted in the interval where it ends."""
    values = {"staffed_seconds": staffed, "busy_seconds": busy}
    bucket = bucket_of(now)
    _add(session, bucket, "agent", agent_id, values)
    _add(session, bucket, "site", site, values)


def _figures(c: dict[str, float]) -> dict[str, Any]:
    answered_n = c["answered"]
    counted = answered_n + c["abandoned"] - c["abandoned_short"]
    finished = answered_n + c["abandoned"]
    return {
        "offered": int(c["offered"]), "answered": int(answered_n),
        "abandoned": int(c["abandoned"]), "abandoned_short": int(c["abandoned_short"]),
        "service_level": round(100 * c["answered_in_sl"] / answered_n, 1) if answered_n
        else None,
        "service_level_abandons": round(100 * c["answered_in_sl"] / counted, 1) if counted
        else None,
        "average_speed_of_answer": round(c["wait_seconds"] / answered_n, 1) if answered_n
        else None,
        "abandonment_rate": round(100 * c["abandoned"] / finished, 1) if finished else None,
        "handled": int(c["handled"]),
        "average_handle_time": round(c["handle_seconds"] / c["handled"], 1) if c["handled"]
        else None,
        "occupancy": round(100 * c["busy_seconds"] / c["staffed_seconds"], 1)
        if c["staffed_seconds"] else None,
    }


def _open_span(agent: AgentRow, now: datetime) -> tuple[float, float]:
    """The agent's time since their last change, not yet in the counters."""
    if agent.presence == "offline":
        return 0.0, 0.0
    span = max(0.0, (now - agent.changed_at).total_seconds())
    working = agent.activity != "idle"
    if not working and agent.presence != "available":
        return 0.0, 0.0
    return span, span if working else 0.0


def snapshot(session: Session, now: datetime, since: datetime,
             sl_thresholds: dict[str, float]) -> dict[str, Any]:
    """Queues, sites and agents since ``since`` (the start of the local day), plus now."""
    counters: dict[tuple[str, str], dict[str, float]] = defaultdict(
        lambda: dict.fromkeys(repo.COUNTERS, 0.0))
    for row in repo.stats_since(session, bucket_of(since)):
        target = counters[(row.scope, row.key)]
        for name in repo.COUNTERS:
            target[name] += getattr(row, name) or 0
    agents = repo.agents(session)
    for agent in agents:
        staffed, busy = _open_span(agent, now)
        for scope, key in (("agent", agent.id), ("site", agent.site)):
            counters[(scope, key)]["staffed_seconds"] += staffed
            counters[(scope, key)]["busy_seconds"] += busy
    waiting = {queue: (count, oldest) for queue, count, oldest in
               repo.waiting_summary(session, now)}
    scheduled = repo.scheduled_count(session, now)
    queues = {}
    for name in sorted(set(sl_thresholds) | {k for s, k in counters if s == "queue"}):
        count, oldest = waiting.get(name, (0, None))
        queues[name] = {
            "waiting": count, "scheduled_callbacks": scheduled.get(name, 0),
            "longest_wait": round((now - oldest).total_seconds(), 1) if oldest else 0.0,
            "service_level_threshold": sl_thresholds.get(name),
            "agents_available": sum(1 for a in agents if name in a.queues
                                    and a.presence == "available"),
            **_figures(counters[("queue", name)]),
        }
    sites = {key: _figures(c) for (scope, key), c in sorted(counters.items())
             if scope == "site"}
    for agent in agents:
        sites.setdefault(agent.site, _figures(counters[("site", agent.site)]))
    return {
        "as_of": now.isoformat(), "since": since.isoformat(),
        "queues": queues, "sites": sites,
        "agents": [{
            "id": a.id, "name": a.name, "site": a.site, "presence": a.presence,
            "away_reason": a.away_reason, "state": a.activity,
            "seconds_in_state": round((now - a.activity_since).total_seconds(), 1),
            "state_since": a.activity_since.isoformat(), "queues": list(a.queues),
            "load": {k: v for k, v in a.load.items() if v},
            **{k: v for k, v in _figures(counters[("agent", a.id)]).items()
               if k in ("handled", "average_handle_time", "occupancy")},
            "missed": int(counters[("agent", a.id)]["missed"]),
        } for a in agents],
    }
