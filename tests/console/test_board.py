"""The console's service on a real database: the board by queue, priority class, site and
agent; the alerts from real events and tasks; batched changes; acknowledging; moving an
agent between queues, which routing obeys at once and which is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from circulo.clock import FixedClock
from circulo.console import board as console
from circulo.console import repository
from circulo.context import AppContext
from circulo.errors import NotFound, ValidationFailed
from circulo.routing.dispatcher import dispatcher_of
from circulo.web.console import compute
from tests.conftest import Api, ok
from tests.console.helpers import AGENT, NORMAL, RISK, VIP, customers
from tests.factories import event
from tests.routing.helpers import available, call, setup_center


def test_the_board_shows_waiting_by_priority_class_per_queue_site_and_agent(
        api: Api, ctx: AppContext, clock: FixedClock) -> None:
    setup_center(api, [{"id": "ana", "name": "Ana", **AGENT}])
    customers(api)
    call(api, NORMAL)
    clock.advance(timedelta(seconds=30))
    call(api, RISK)
    clock.advance(timedelta(seconds=20))
    call(api, VIP)
    clock.advance(timedelta(seconds=10))
    board = compute(ctx)
    rows = board.rows
    general = rows["q:general"]
    assert (general["waiting"], general["longest_wait"], general["vip_waiting"],
            general["vip_longest"], general["target"]) == (3, 60, 1, 10, 80.0)
    assert [(rows[f"c:{c}"]["waiting"], rows[f"c:{c}"]["longest_wait"])
            for c in ("vip", "at_risk", "other")] == [(1, 10), (1, 30), (1, 60)]
    assert rows["a:ana"]["presence"] == "offline" and rows["a:ana"]["queues"] == [
        "general", "callbacks", "vip"]
    assert rows["s:madrid"]["staffed"] == 0
    assert [a.kind for a in board.alerts] == []  # the VIP has waited 10 s of 60

    clock.advance(timedelta(seconds=55))
    (alert,) = compute(ctx).alerts
    assert (alert.kind, alert.customer_name, alert.value) == ("vip_wait", "Vera Vip", 65)


def test_only_changed_rows_travel_and_everything_the_first_time(
        api: Api, ctx: AppContext, clock: FixedClock) -> None:
    setup_center(api, [{"id": f"a{n}", **AGENT} for n in range(20)])
    first = compute(ctx)
    rows, removed = console.changes(None, first)
    assert rows == first.rows and removed == []
    assert console.changes(first.rows, compute(ctx)) == ({}, [])
    call(api)
    rows, removed = console.changes(first.rows, compute(ctx))
    assert set(rows) == {"q:general", "c:other"} and removed == []
    assert rows["q:general"]["waiting"] == 1
    available(api, "a3")
    second = compute(ctx)
    rows, _ = console.changes(first.rows, second)
    assert "a:a3" in rows and not any(k.startswith("a:") and k != "a:a3" for k in rows)


def test_an_angry_customer_event_raises_an_alert_until_acknowledged(
        api: Api, ctx: AppContext, clock: FixedClock) -> None:
    setup_center(api, [{"id": "ana", **AGENT}])
    ids = customers(api)
    waiting = call(api, NORMAL)
    clock.advance(timedelta(seconds=5))
    api.send(event("chat.message", source="chat", at=clock.now(),
                   identifiers={"phone": NORMAL},
                   properties={"text": "¡Esto es una vergüenza!", "sentiment": "negative"}),
             event("chat.message", source="chat", at=clock.now(),
                   identifiers={"phone": RISK}, properties={"sentiment": "negative"}))
    (alert,) = compute(ctx).alerts  # Rita is not in a queue: no alert about her
    assert (alert.kind, alert.task_id, alert.customer_id, alert.customer_name) == (
        "angry", waiting["id"], ids[NORMAL], "Nico Normal")
    with ctx.db.unit_of_work() as session:
        assert console.acknowledge(session, alert.key, "user:sara", clock.now()) is True
    with ctx.db.unit_of_work() as session:  # a double click changes nothing
        assert console.acknowledge(session, alert.key, "user:sara", clock.now()) is False
    assert compute(ctx).alerts == []
    with ctx.db.unit_of_work() as session, pytest.raises(ValidationFailed):
        console.acknowledge(session, "drop table", "user:sara", clock.now())


def test_a_customer_abandoning_three_times_today_raises_an_alert(
        api: Api, ctx: AppContext, clock: FixedClock) -> None:
    setup_center(api, [{"id": "ana", **AGENT}])
    ids = customers(api)
    for attempt in range(3):
        task = call(api, NORMAL)
        clock.advance(timedelta(seconds=30))
        ok(api.post(f"/v1/tasks/{task['id']}/abandon"))
        kinds = [a.kind for a in compute(ctx).alerts]
        assert ("abandons" in kinds) == (attempt == 2)
    alert = next(a for a in compute(ctx).alerts if a.kind == "abandons")
    assert (alert.customer_id, alert.value, alert.key) == (ids[NORMAL], 3,
                                                           f"abandons:{task['id']}")


def test_service_level_below_target_raises_an_alert(
        api: Api, ctx: AppContext, clock: FixedClock) -> None:
    setup_center(api, [{"id": "ana", **AGENT}])
    for _ in range(5):  # each answered after 30 s, past the 20 s threshold
        ok(api.post("/v1/agents/ana/presence", json={"presence": "away"}))
        task = call(api)
        clock.advance(timedelta(seconds=30))
        dispatcher_of(ctx).run_once()  # her wrap-up ends
        available(api, "ana")
        dispatcher_of(ctx).run_once()
        ok(api.post(f"/v1/tasks/{task['id']}/accept", json={"agent_id": "ana"}))
        ok(api.post(f"/v1/tasks/{task['id']}/complete", json={"agent_id": "ana"}))
    board = compute(ctx)
    assert board.rows["q:general"]["below_target"] is True
    assert [(a.kind, a.queue, a.target) for a in board.alerts] == [
        ("service_level", "general", 80.0)]


def test_reassigning_an_agent_routes_at_once_and_is_audited(
        api: Api, ctx: AppContext, clock: FixedClock) -> None:
    setup_center(api, [{"id": "ana", **{**AGENT, "queues": ["callbacks"]}}])
    available(api, "ana")
    task = call(api)
    dispatcher_of(ctx).run_once()
    assert ok(api.get(f"/v1/tasks/{task['id']}"))["state"] == "pending"  # not her queue
    with ctx.db.unit_of_work() as session:
        queues = dispatcher_of(ctx).config(session).queues
        with pytest.raises(ValidationFailed) as refused:
            console.reassign(session, "ana", ["general", "nope"], queues, "user:sara",
                             clock.now())
        assert refused.value.errors[0]["code"] == "unknown_queue"
        with pytest.raises(NotFound):
            console.reassign(session, "ghost", ["general"], queues, "user:sara", clock.now())
    with ctx.db.unit_of_work() as session:
        queues = dispatcher_of(ctx).config(session).queues
        console.reassign(session, "ana", console.parse_queues(" general, callbacks,general "),
                         queues, "user:sara", clock.now())
    dispatcher_of(ctx).after_change()  # as the console's route does once committed
    assert ok(api.get(f"/v1/tasks/{task['id']}"))["agent_id"] == "ana"
    assert ok(api.get("/v1/agents/ana"))["queues"] == ["general", "callbacks"]
    with ctx.db.unit_of_work(write=False) as session:
        (audit,) = repository.actions_of(session, "ana")
        assert (audit.action, audit.actor, audit.detail) == (
            "agent.queues_changed", "user:sara",
            {"before": ["callbacks"], "after": ["general", "callbacks"]})


def test_a_row_that_went_away_is_named_in_the_batch() -> None:
    from datetime import UTC, datetime
    before = {"a:x": {"kind": "agent", "name": "X"}, "a:y": {"kind": "agent", "name": "Y"}}
    now = console.Board(datetime(2026, 12, 6, tzinfo=UTC),
                        {"a:y": {"kind": "agent", "name": "Y"}})
    assert console.changes(before, now) == ({}, ["a:x"])
