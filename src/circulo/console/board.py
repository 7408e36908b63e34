"""The supervisor's console: the live board (queues, sites, agents, waiting by priority
class), the alerts, moving an agent between queues, the journeys' activity.

The figures come from routing's live statistics (``routing.stats.snapshot``: the counters
kept per transition); this module only adds what the board needs on top (the waiting
contacts by priority class, the alerts' inputs) and cuts the result into rows keyed by id,
so a stream can send only the rows that changed (``changes``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from circulo.console import repository as repo
from circulo.console.alerts import (
    Abandons,
    Alert,
    Contact,
    Mood,
    QueueLevel,
    Thresholds,
    decide,
)
from circulo.customers import service as customers
from circulo.errors import ValidationFailed
from circulo.journeys import service as journeys
from circulo.routing import service as routing
from circulo.routing import stats
from circulo.routing.models import AgentRow
from circulo.routing.policy import AgentSpec, Queue

CLASSES = ("vip", "at_risk", "other")  # the priority classes the board compares (S13)
ACK_MEMORY = timedelta(days=2)  # an alert's key names its hour or task: older acks are moot


@dataclass(frozen=True, slots=True)
class BoardRules:
    thresholds: Thresholds = field(default_factory=Thresholds)
    at_risk_churn: float = 0.6
    mood_window: timedelta = field(default_factory=lambda: timedelta(minutes=30))


@dataclass(frozen=True, slots=True)
class Board:
    """What the board shows at ``as_of``: rows keyed ``q:`` queue, ``c:`` priority class,
    ``s:`` site, ``a:`` agent (plain values, ready for JSON), and the open alerts."""

    as_of: datetime
    rows: dict[str, dict[str, Any]]
    alerts: list[Alert] = field(default_factory=list)


def _class_of(tier: str | None, churn: float | None, rules: BoardRules) -> str:
    if (tier or "").lower() == "vip":
        return "vip"
    if churn is not None and churn >= rules.at_risk_churn:
        return "at_risk"
    return "other"


def _whole(value: float | None) -> int | None:
    return None if value is None else round(value)


def board(session: Session, now: datetime, since: datetime, queues: Mapping[str, Queue],
          rules: BoardRules) -> Board:
    """The board now; ``since`` is the start of the local day (the figures' period)."""
    snap = stats.snapshot(session, now, since, {n: q.sl_seconds for n, q in queues.items()})
    contacts = [Contact(task_id=r[0], queue=r[1], state=r[2], customer_id=r[3],
                        customer_name=r[4], vip=_class_of(r[5], r[6], rules) == "vip",
                        at_risk=_class_of(r[5], r[6], rules) == "at_risk", queued_at=r[7])
                for r in repo.active_contacts(session, now)]
    rows: dict[str, dict[str, Any]] = {}
    waits: dict[str, list[float]] = {c: [] for c in CLASSES}
    vip_by_queue: dict[str, list[float]] = {}
    for contact in contacts:
        if contact.state != "pending":
            continue
        waited = max(0.0, (now - contact.queued_at).total_seconds())
        kind = "vip" if contact.vip else "at_risk" if contact.at_risk else "other"
        waits[kind].append(waited)
        if contact.vip:
            vip_by_queue.setdefault(contact.queue, []).append(waited)
    for name, q in snap["queues"].items():
        vip = vip_by_queue.get(name, [])
        target = queues[name].sl_target if name in queues else None
        rows[f"q:{name}"] = {
            "kind": "queue", "name": name, "waiting": q["waiting"],
            "longest_wait": _whole(q["longest_wait"]), "service_level": q["service_level"],
            "target": target, "below_target": q["service_level"] is not None
            and target is not None and q["service_level"] < target,
            "abandonment_rate": q["abandonment_rate"], "answered": q["answered"],
            "abandoned": q["abandoned"], "agents_available": q["agents_available"],
            "vip_waiting": len(vip), "vip_longest": _whole(max(vip)) if vip else 0}
    for kind in CLASSES:
        found = waits[kind]
        rows[f"c:{kind}"] = {"kind": "class", "name": kind, "waiting": len(found),
                             "longest_wait": _whole(max(found)) if found else 0,
                             "average_wait": _whole(sum(found) / len(found)) if found else 0}
    staffed: dict[str, int] = {}
    available: dict[str, int] = {}
    for agent in snap["agents"]:
        if agent["presence"] != "offline":
            staffed[agent["site"]] = staffed.get(agent["site"], 0) + 1
        if agent["presence"] == "available":
            available[agent["site"]] = available.get(agent["site"], 0) + 1
        rows[f"a:{agent['id']}"] = {
            "kind": "agent", "name": agent["name"] or agent["id"], "id": agent["id"],
            "site": agent["site"], "presence": agent["presence"], "state": agent["state"],
            "state_since": agent["state_since"], "queues": agent["queues"],
            "handled": agent["handled"], "occupancy": _whole(agent["occupancy"]),
            "missed": agent["missed"]}
    for name, s in snap["sites"].items():
        rows[f"s:{name}"] = {
            "kind": "site", "name": name, "service_level": s["service_level"],
            "occupancy": _whole(s["occupancy"]), "answered": s["answered"],
            "handled": s["handled"], "staffed": staffed.get(name, 0),
            "available": available.get(name, 0)}
    return Board(now, rows, open_alerts(session, now, since, contacts, snap["queues"],
                                        queues, rules))


def open_alerts(session: Session, now: datetime, since: datetime, contacts: Sequence[Contact],
                figures: Mapping[str, Mapping[str, Any]], queues: Mapping[str, Queue],
                rules: BoardRules) -> list[Alert]:
    customers = [c.customer_id for c in contacts if c.customer_id]
    moods = [Mood(*row) for row in repo.negative_events(session, customers,
                                                        now - rules.mood_window)]
    levels = [QueueLevel(name, f["service_level"], queues[name].sl_target, f["answered"])
              for name, f in figures.items() if name in queues]
    abandons = [Abandons(*row) for row in repo.abandons_since(
        session, since, rules.thresholds.abandons_per_day)]
    return decide(now, contacts, moods, levels, abandons, rules.thresholds,
                  repo.acknowledged(session, now - ACK_MEMORY))


def changes(before: Mapping[str, dict[str, Any]] | None, now: Board
            ) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The rows that are new or differ from ``before``, and the keys that went away: what
    one batched update carries (everything, the first time)."""
    if before is None:
        return dict(now.rows), []
    changed = {key: row for key, row in now.rows.items() if before.get(key) != row}
    return changed, sorted(key for key in before if key not in now.rows)


def acknowledge(session: Session, key: str, actor: str, now: datetime) -> bool:
    """Take an alert off every supervisor's board; True if it was not acknowledged yet."""
    key = key.strip()
    if not key or len(key) > 120 or key.split(":", 1)[0] not in {
            "angry", "service_level", "vip_wait", "abandons"}:
        raise ValidationFailed("no such alert", errors=[{
            "field": "key", "code": "unknown_alert", "detail": key[:120]}])
    return repo.acknowledge(session, key, actor, now)


def parse_queues(text: str) -> list[str]:
    """``billing, support`` → the names, in order, without blanks or repeats."""
    names: list[str] = []
    for part in text.replace(";", ",").split(","):
        name = part.strip()
        if name and name not in names:
            names.append(name)
    return names


def reassign(session: Session, agent_id: str, names: Sequence[str],
             queues: Mapping[str, Queue], actor: str, now: datetime) -> AgentRow:
    """Put the agent on these queues (routing's agent definition: the dispatcher sees the
    new version at once) and audit the change. Unknown queues are refused by name."""
    unknown = [name for name in names if name not in queues]
    if unknown:
        raise ValidationFailed(f"unknown queue: {', '.join(unknown)}", errors=[{
            "field": "queues", "code": "unknown_queue",
            "detail": f"known queues: {', '.join(sorted(queues)) or 'none'}"}])
    if not names:
        raise ValidationFailed("name at least one queue", errors=[{
            "field": "queues", "code": "missing", "detail": "an agent serves a queue"}])
    row = routing.get_agent(session, agent_id, for_update=True)
    before = list(row.queues)
    if before == list(names):
        return row
    spec = AgentSpec(id=row.id, name=row.name, site=row.site, skills=dict(row.skills),
                     languages=tuple(row.languages), queues=tuple(names),
                     teams=tuple(row.teams), capacity=dict(row.capacity), wrap_up=row.wrap_up)
    agent = routing.define_agent(session, spec, now)
    repo.audit(session, "agent.queues_changed", agent_id, actor,
               {"before": before, "after": list(names)}, now)
    return agent


def agents(session: Session) -> Sequence[AgentRow]:
    return routing.list_agents(session)


@dataclass(frozen=True, slots=True)
class JourneyActivity:
    key: str
    name: Any  # a text or {es:, en:}
    status: str
    entered: int
    running: int
    errors: int
    actions: dict[str, dict[str, int]]
    recent: list[journeys.RecentAction]
    names: dict[str, str]  # customer id -> name, for the recent actions


def journey_activity(session: Session, recent: int = 8) -> list[JourneyActivity]:
    """Each journey with its counters and its latest actions (whom they touched, by name)."""
    out = []
    for view in journeys.views(session):
        counters = view["counters"]
        done = journeys.recent_actions(session, view["key"], recent)
        profiles = customers.load_profiles(session, {a.customer_id for a in done
                                                     if a.customer_id})
        out.append(JourneyActivity(view["key"], view["name"], view["status"],
                                   counters["entered"], counters["running"],
                                   counters["errors"], counters["actions"], done,
                                   {p.id: p.display_name for p in profiles.values()
                                    if p.display_name}))
    return out
