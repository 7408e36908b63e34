"""``circulo journeys try``: replay stored history through one journey, acting on nothing.

The events of the period go through the same engine in the order they happened, on a
clock that follows them, so counts, waits and timers behave as they would have. What the
engine cannot know from the log is the customer as they were then: conditions read each
customer's profile as it is today (said in the report).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from circulo.config import Settings
from circulo.customers import service as customers
from circulo.documents import duration
from circulo.errors import ValidationFailed
from circulo.ingest.service import stored_event_view
from circulo.journeys.definition import Journey
from circulo.journeys.engine import CustomerState, Decisions, Engine, Instance
from circulo.journeys.processing import tz_of
from circulo.routing.customer_context import snapshots

PAGE = 2000


def since_seconds(text: str) -> float:
    try:
        return duration(text, "since")
    except ValueError as exc:
        raise ValidationFailed(str(exc), errors=[{"field": "since", "code": "invalid",
                                                  "detail": "expected e.g. 30d, 12h"}]) from exc


def _events(session: Session, since: datetime) -> Iterator[dict[str, Any]]:
    after: tuple[datetime, str] | None = None
    while True:
        page = customers.events_since(session, since, after=after, limit=PAGE)
        for row in page:
            yield stored_event_view({
                "id": row.id, "type": row.type, "source": row.source,
                "client_id": row.client_id, "channel": row.channel,
                "occurred_at": row.occurred_at, "profile_id": row.profile_id,
                "resolution": row.resolution, "identifiers": row.identifiers,
                "traits": row.traits, "properties": row.properties, "extra": row.extra})
        if len(page) < PAGE:
            return
        after = (page[-1].occurred_at, page[-1].id)


def replay(session: Session, journey: Journey, *, since: float, settings: Settings,
           policies: customers.Policies, now: datetime, examples: int = 5) -> dict[str, Any]:
    engine = Engine([journey], {(journey.key, 0): journey}, {journey.key: 0})
    zone = ZoneInfo(settings.timezone)
    start = now - timedelta(seconds=since)
    states: dict[str, CustomerState] = {}
    views: dict[str, dict[str, Any]] = {}
    waiting: dict[str, list[Instance]] = {}
    timers: list[tuple[float, str, Instance]] = []
    report: dict[str, Any] = {"entered": 0, "customers": set(), "actions": Counter(),
                              "exits": Counter(), "examples": [], "errors": Counter()}
    trail: dict[str, dict[str, Any]] = {}
    counter = iter(range(1, 1 << 62))

    def new_id() -> str:
        return f"dry{next(counter)}"

    def view(customer_id: str) -> dict[str, Any]:
        if customer_id not in views:
            views.update(snapshots(session, [customer_id], policies, now, full=True))
        return views.get(customer_id) or {"known": False, "id": customer_id}

    def take(decided: Decisions, at: float) -> None:
        for instance in decided.started:
            report["entered"] += 1
            report["customers"].add(instance.customer_id)
            if len(report["examples"]) < examples:
                example: dict[str, Any] = {"customer_id": instance.customer_id,
                           "name": view(str(instance.customer_id)).get("name"),
                           "entered_at": datetime.fromtimestamp(at, zone).isoformat(),
                           "trigger": (instance.vars.get("event") or {}).get("type"),
                           "actions": []}
                report["examples"].append(example)
                trail[instance.id] = example
        for effect in decided.effects:
            report["actions"][effect.action.kind] += 1
            if effect.instance_id in trail:
                trail[effect.instance_id]["actions"].append(
                    {"step": effect.step, "kind": effect.action.kind,
                     "at": datetime.fromtimestamp(at, zone).isoformat()})
        for instance in [*decided.started, *decided.changed]:
            if instance.status == "waiting" and instance.due_at is not None:
                heapq.heappush(timers, (instance.due_at, instance.id, instance))
                waiting.setdefault(str(instance.customer_id), []).append(instance)
            elif instance.status == "done":
                report["exits"][instance.exit or ""] += 1
                if instance.id in trail:
                    trail[instance.id]["exit"] = instance.exit
        for failure in decided.errors:
            report["errors"][f"{failure.rule}: {failure.reason}"] += 1

    def fire_until(moment: float) -> None:
        while timers and timers[0][0] <= moment:
            due, _, instance = heapq.heappop(timers)
            if instance.status != "waiting" or instance.due_at != due:
                continue
            customer_id = str(instance.customer_id)
            customer = view(customer_id)
            decided = engine.on_timer(instance, customer, states.setdefault(
                customer_id, CustomerState()), now=due, tz=tz_of(customer, zone))
            take(decided, due)

    def fan_out(event: dict[str, Any], at: float) -> None:
        for audience in engine.audiences.matching(str(event["type"])):
            assert audience.audience is not None  # noqa: S101
            found = Decisions()
            chosen = engine.audience(audience, event, customers.open_records_of_kind(
                session, audience.audience.kind), found)
            take(found, at)
            for customer_id, record in chosen.items():
                customer = view(customer_id)
                take(engine.enter(audience, event, customer,
                                  states.setdefault(customer_id, CustomerState()), now=at,
                                  tz=tz_of(customer, zone), new_id=new_id,
                                  extra={"record": dict(record)}), at)

    replayed = 0
    for event in _events(session, start):
        customer_id = event.get("customer_id")
        at = datetime.fromisoformat(event["occurred_at"]).timestamp()
        if engine.audiences.matching(str(event["type"])):
            fire_until(at)
            replayed += 1
            fan_out(event, at)
            continue
        if not customer_id:
            continue
        fire_until(at)
        replayed += 1
        customer = view(customer_id)
        pending = [i for i in waiting.get(customer_id, []) if i.status == "waiting"]
        waiting[customer_id] = pending
        decided = engine.on_event(event, customer, states.setdefault(customer_id,
                                                                     CustomerState()),
                                  pending, now=at, tz=tz_of(customer, zone), new_id=new_id)
        take(decided, at)
    fire_until(now.timestamp())
    still = sum(1 for _, _, i in timers if i.status == "waiting")
    return {
        "journey": journey.key, "since": start.isoformat(), "until": now.isoformat(),
        "events_replayed": replayed, "entered": report["entered"],
        "customers": len(report["customers"]), "still_waiting": still,
        "actions": dict(report["actions"]), "exits": dict(report["exits"]),
        "errors": dict(report["errors"]), "examples": report["examples"],
        "note": {"en": "Conditions read each customer's profile (and an audience's open "
                       "records) as they are today; counts and timers follow the replayed "
                       "events. Nothing was sent or changed.",
                 "es": "Las condiciones leen el perfil de cada cliente (y los registros "
                       "abiertos de una audiencia) tal como son hoy; los recuentos y "
                       "temporizadores siguen los eventos reproducidos. No se ha enviado ni "
                       "cambiado nada."},
    }
