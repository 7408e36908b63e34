"""The engine alone, without a database: events and timers in, decisions out."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from circulo.journeys.definition import Journey, parse_data
from circulo.journeys.engine import CustomerState, Decisions, Engine, Instance

KNOWN = {"call.abandoned", "call.completed", "survey.answered", "task.completed"}
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC).timestamp()
MADRID = ZoneInfo("Europe/Madrid")
CUSTOMER = {"id": "c1", "tier": "premium"}


def _journey(key: str, **body: Any) -> Journey:
    body.setdefault("steps", [{"name": "act", "do": [{"tag": key}], "end": True}])
    return parse_data({"journey": key, **body}, KNOWN)


def _engine(*journeys: Journey) -> Engine:
    return Engine(list(journeys), {(j.key, 1): j for j in journeys},
                  {j.key: 1 for j in journeys})


def _event(event_type: str, n: int = 0, at: float = NOW, **properties: Any) -> dict[str, Any]:
    return {"id": f"e{n}", "type": event_type, "customer_id": "c1",
            "occurred_at": datetime.fromtimestamp(at, UTC).isoformat(),
            "properties": properties}


def _ids() -> Any:
    counter = itertools.count(1)
    return lambda: f"i{next(counter)}"


def test_every_journey_on_a_type_is_started_and_the_others_are_not_looked_at() -> None:
    engine = _engine(_journey("a", trigger="call.abandoned"),
                     _journey("b", trigger="call.*"),
                     _journey("c", trigger="survey.answered"))
    decided = engine.on_event(_event("call.abandoned"), CUSTOMER, CustomerState(), [],
                              now=NOW, tz=MADRID, new_id=_ids())
    assert [i.journey for i in decided.started] == ["a", "b"]
    assert [(e.journey, e.action.kind) for e in decided.effects] == [("a", "tag"),
                                                                      ("b", "tag")]
    assert engine.watches("survey.answered") and not engine.watches("order.placed")


def test_counts_over_a_window_are_kept_incrementally() -> None:
    engine = _engine(_journey("four-abandons", trigger="call.abandoned",
                              when='count("call.abandoned", within="4h") >= 4'))
    state, ids = CustomerState(), _ids()
    started = []
    for n, hours_ago in enumerate([5, 3, 2, 1, 0]):
        at = NOW - hours_ago * 3600
        started += engine.on_event(_event("call.abandoned", n, at), CUSTOMER, state, [],
                                   now=at, tz=MADRID, new_id=ids).started
    assert len(started) == 1  # the first call is outside the 4 h window of the fourth
    assert len(state.counts[next(iter(state.counts))]) == 4  # trimmed to what windows need


def test_re_entry_and_a_frequency_cap() -> None:
    engine = _engine(_journey("capped", trigger="call.completed",
                              limits={"reentry": "always", "cap": {"max": 2, "per": "1d"}}),
                     _journey("once", trigger="call.completed", limits={"reentry": "never"}))
    state, ids = CustomerState(), _ids()
    entered = [[i.journey for i in engine.on_event(
        _event("call.completed", n), CUSTOMER, state, [], now=NOW + n, tz=MADRID,
        new_id=ids).started] for n in range(3)]
    assert entered == [["capped", "once"], ["capped"], []]


def _waiting() -> tuple[Engine, CustomerState, Instance]:
    """An instance waiting up to an hour for task.completed (then thanks, else chase)."""
    journey = _journey("wait", trigger="call.abandoned", steps=[
        {"name": "wait", "wait": {"for": "task.completed", "up_to": "1h"},
         "on_event": "thanks", "on_timeout": "chase"},
        {"name": "thanks", "do": [{"tag": "reached"}], "end": True},
        {"name": "chase", "do": [{"tag": "unreached"}], "end": True}])
    engine = _engine(journey)
    state = CustomerState()
    [instance] = engine.on_event(_event("call.abandoned"), CUSTOMER, state, [], now=NOW,
                                 tz=MADRID, new_id=_ids()).started
    return engine, state, instance


def test_a_wait_for_an_event_gives_up_on_its_timer() -> None:
    engine, state, instance = _waiting()
    assert (instance.status, instance.due_at) == ("waiting", NOW + 3600)
    other = engine.on_event(_event("call.completed", 1), CUSTOMER, state, [instance],
                            now=NOW + 60, tz=MADRID, new_id=_ids())
    assert other.changed == [] and instance.status == "waiting"
    decided = engine.on_timer(instance, CUSTOMER, state, now=NOW + 3600, tz=MADRID)
    assert [e.step for e in decided.effects] == ["chase"]
    assert instance.status == "done" and "wait" not in state.active


def test_a_waiting_instance_wakes_on_its_event() -> None:
    engine, state, instance = _waiting()
    decided = engine.on_event(_event("task.completed", 1), CUSTOMER, state, [instance],
                              now=NOW + 60, tz=MADRID, new_id=_ids())
    assert [e.step for e in decided.effects] == ["thanks"]
    assert instance.exit == "thanks" and instance.due_at is None


def test_an_audience_takes_each_customer_once_with_their_first_matching_record() -> None:
    journey = parse_data({
        "journey": "incident", "trigger": "carrier.incident",
        "audience": {"records": "shipment",
                     "where": "record.data.carrier == event.properties.carrier"},
        "when": 'record.status != "delayed"',
        "steps": [{"name": "act", "do": [{"tag": "incident"}], "end": True}]},
        {*KNOWN, "carrier.incident"})
    engine = _engine(journey)
    assert engine.triggers.matching("carrier.incident") == []  # never per customer
    event = _event("carrier.incident", carrier="TR")
    records = [("c1", {"key": "S3", "status": "created", "data": {"carrier": "TR"}}),
               ("c2", {"key": "S2", "status": "created", "data": {"carrier": "XX"}}),
               ("c1", {"key": "S1", "status": "created", "data": {"carrier": "TR"}}),
               ("c3", {"key": "S0", "status": "delayed", "data": {"carrier": "TR"}})]
    chosen = engine.audience(journey, event, records, Decisions())
    assert {c: r["key"] for c, r in chosen.items()} == {"c1": "S3", "c3": "S0"}
    entered = [engine.enter(journey, event, {"id": c}, CustomerState(), now=NOW, tz=MADRID,
                            new_id=_ids(), extra={"record": r}).started
               for c, r in chosen.items()]
    assert [[i.vars["record"]["key"] for i in started] for started in entered] == [["S3"], []]
