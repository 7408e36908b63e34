"""Routing end to end through the API: S13 (VIP and at-risk customers wait less, without
starving anyone), S14 (abandoned call -> the policy decides -> a callback is scheduled, tried,
retried, and ends), offers, presence, overrides, statistics and bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from circulo.clock import FixedClock
from circulo.context import AppContext
from circulo.routing.dispatcher import dispatcher_of
from tests.conftest import Api, assert_problem, ok
from tests.factories import event
from tests.routing.helpers import POLICY, available, call, setup_center

AGENT = {"skills": {"billing": 3}, "languages": ["es", "en"],
         "queues": ["general", "callbacks", "vip"]}


def _customers(api: Api) -> None:
    api.send(
        event("customer.updated", source="crm", identifiers={"phone": "+34600000001"},
              traits={"name": "Vera Vip", "tier": "vip"}),
        event("customer.updated", source="crm", identifiers={"phone": "+34600000002"},
              traits={"name": "Rita Risk", "churn_risk": 0.85}),
        event("customer.updated", source="crm", identifiers={"phone": "+34600000003"},
              traits={"name": "Nico Normal", "tier": "standard"}),
    )


def _tick(ctx: AppContext, clock: FixedClock, seconds: float, api: Api | None = None,
          *agents: str) -> None:
    """Time passes and the routing loop runs (``circulo serve`` does this continuously);
    the named agents' desktops kept sending heartbeats meanwhile."""
    clock.advance(timedelta(seconds=seconds))
    for agent in agents:
        assert api is not None
        assert api.post(f"/v1/agents/{agent}/heartbeat").status_code == 204
    dispatcher_of(ctx).run_once()


def _handle(api: Api, task_id: str, agent: str, **wrap: Any) -> dict[str, Any]:
    ok(api.post(f"/v1/tasks/{task_id}/accept", json={"agent_id": agent}))
    return ok(api.post(f"/v1/tasks/{task_id}/complete", json={"agent_id": agent, **wrap}))


def test_s13_vip_and_at_risk_customers_are_answered_first(api: Api, ctx: AppContext,
                                                          clock: FixedClock) -> None:
    setup_center(api, [{"id": "ana", **AGENT}])
    _customers(api)
    available(api, "ana")
    busy = call(api, "+34699999999")  # ana takes the first call
    assert busy["agent_id"] == "ana"
    ok(api.post(f"/v1/tasks/{busy['id']}/accept", json={"agent_id": "ana"}))
    normal = call(api, "+34600000003")
    clock.advance(timedelta(seconds=5))
    risk = call(api, "+34600000002")
    clock.advance(timedelta(seconds=5))
    vip = call(api, "+34600000001")
    assert [t["state"] for t in (normal, risk, vip)] == ["pending"] * 3
    # The IVR announces positions: the VIP is first although they called last.
    assert ok(api.get(f"/v1/tasks/{vip['id']}"))["position"] == 1
    assert ok(api.get(f"/v1/tasks/{risk['id']}"))["position"] == 2
    assert ok(api.get(f"/v1/tasks/{normal['id']}"))["position"] == 3
    assert vip["customer"]["tier"] == "vip"

    order = []
    for _ in range(3):
        ok(api.post(f"/v1/tasks/{busy['id']}/complete",
                    json={"agent_id": "ana", "disposition": "resolved"}))
        offered = ok(api.get("/v1/agents/ana/tasks"))
        assert len(offered) == 1 and offered[0]["state"] == "reserved"
        busy = offered[0]
        order.append(busy["id"])
        ok(api.post(f"/v1/tasks/{busy['id']}/accept", json={"agent_id": "ana"}))
    assert order == [vip["id"], risk["id"], normal["id"]]


def test_s13_ageing_means_nobody_waits_forever(api: Api, ctx: AppContext,
                                               clock: FixedClock) -> None:
    """A standard caller who has waited long enough overtakes a VIP who just arrived: +1
    point per 10 s, so 100 points of VIP priority are worth 1,000 s of waiting."""
    setup_center(api, [{"id": "ana", **AGENT}])
    _customers(api)
    available(api, "ana")
    busy = call(api, "+34699999999")
    ok(api.post(f"/v1/tasks/{busy['id']}/accept", json={"agent_id": "ana"}))
    normal = call(api, "+34600000003")
    _tick(ctx, clock, 1001, api, "ana")
    vip = call(api, "+34600000001")
    assert ok(api.get(f"/v1/tasks/{normal['id']}"))["position"] == 1
    ok(api.post(f"/v1/tasks/{busy['id']}/complete", json={"agent_id": "ana"}))
    assert ok(api.get(f"/v1/tasks/{normal['id']}"))["agent_id"] == "ana"
    assert ok(api.get(f"/v1/tasks/{vip['id']}"))["state"] == "pending"


def test_case_owner_first_with_a_bounded_wait(api: Api, ctx: AppContext,
                                              clock: FixedClock) -> None:
    setup_center(api, [{"id": "ana", **AGENT}, {"id": "owner", **AGENT}])
    api.send(event("ticket.opened", source="helpdesk", identifiers={"phone": "+34600000009"},
                   record={"kind": "ticket", "key": "T-9", "status": "open",
                           "data": {"owner": "owner"}}))
    available(api, "ana")
    task = call(api, "+34600000009", attributes={"topic": "billing"})
    assert task["customer"]["case_owner"] == "owner"
    assert task["state"] == "pending"  # ana is free, but the owner gets the first 30 s
    _tick(ctx, clock, 10)
    available(api, "owner")
    assert ok(api.get(f"/v1/tasks/{task['id']}"))["agent_id"] == "owner"

    ok(api.post(f"/v1/tasks/{task['id']}/reject", json={"agent_id": "owner"}))
    # The owner declined; nobody else may take it until the owner step times out ...
    _tick(ctx, clock, 5)
    assert ok(api.get(f"/v1/tasks/{task['id']}"))["state"] == "pending"
    # ... then the step widens (billing experts: nobody has 4) and then everyone.
    _tick(ctx, clock, 16)
    assert ok(api.get(f"/v1/tasks/{task['id']}"))["state"] == "pending"
    _tick(ctx, clock, 20)
    assert ok(api.get(f"/v1/tasks/{task['id']}"))["agent_id"] == "ana"


def test_language_and_skills_pick_the_agent(api: Api, ctx: AppContext) -> None:
    setup_center(api, [
        {"id": "es1", "skills": {"billing": 2}, "languages": ["es"], "queues": ["general"]},
        {"id": "en1", "skills": {"billing": 2, "cards": 3}, "languages": ["en"],
         "queues": ["general"]},
    ])
    available(api, "es1")
    available(api, "en1")
    english = call(api, language="en")
    assert english["agent_id"] == "en1"
    cards = ok(api.post("/v1/tasks", json={"queue": "general", "channel": "chat",
                                           "skills": {"cards": 2}, "language": "es"}), 201)
    assert cards["state"] == "pending"  # nobody speaks Spanish and knows cards
    spanish = call(api, language="es")
    assert spanish["agent_id"] == "es1"


def test_chat_capacity_and_voice_exclusivity(api: Api) -> None:
    setup_center(api, [{"id": "ana", **AGENT, "capacity": {"voice": 1, "chat": 2}}])
    available(api, "ana")
    chats = [ok(api.post("/v1/tasks", json={"queue": "general", "channel": "chat"}), 201)
             for _ in range(3)]
    assert [c["agent_id"] for c in chats] == ["ana", "ana", None]
    voice = call(api)
    assert voice["state"] == "pending"  # on chats: no call on top
    for chat in chats[:2]:
        ok(api.post(f"/v1/tasks/{chat['id']}/accept", json={"agent_id": "ana"}))
        ok(api.post(f"/v1/tasks/{chat['id']}/complete", json={"agent_id": "ana"}))
    # The freed capacity went to the waiting work, highest priority first (oldest here).
    held = {t["id"] for t in ok(api.get("/v1/agents/ana/tasks"))}
    assert chats[2]["id"] in held


def test_offline_and_timeouts_return_offers_to_the_queue(api: Api, ctx: AppContext,
                                                         clock: FixedClock) -> None:
    setup_center(api, [{"id": "ana", **AGENT}, {"id": "bea", **AGENT}])
    available(api, "ana")
    task = call(api)
    assert task["agent_id"] == "ana"
    ok(api.post("/v1/agents/ana/presence", json={"presence": "offline"}))
    assert ok(api.get(f"/v1/tasks/{task['id']}"))["state"] == "pending"
    available(api, "bea")
    assert ok(api.get(f"/v1/tasks/{task['id']}"))["agent_id"] == "bea"
    # bea lets the offer ring out: after 15 s it returns and counts as missed.
    _tick(ctx, clock, 16)
    view = ok(api.get(f"/v1/tasks/{task['id']}"))
    assert view["state"] == "pending"
    assert ok(api.get("/v1/agents/bea"))["state"] == "idle"
    stats = ok(api.get("/v1/routing/stats"))
    assert next(a for a in stats["agents"] if a["id"] == "bea")["missed"] == 1
    # An agent whose desktop goes silent is set offline.
    _tick(ctx, clock, 61)
    assert ok(api.get("/v1/agents/bea"))["presence"] == "offline"


def test_wrap_up_holds_the_agent_then_frees_them(api: Api, ctx: AppContext,
                                                 clock: FixedClock) -> None:
    setup_center(api, [{"id": "ana", **AGENT}])
    available(api, "ana")
    first = call(api, "+34600000003")
    ok(api.post(f"/v1/tasks/{first['id']}/accept", json={"agent_id": "ana"}))
    second = call(api)
    clock.advance(timedelta(seconds=120))
    ok(api.post(f"/v1/tasks/{first['id']}/end", json={"agent_id": "ana"}))
    assert ok(api.get("/v1/agents/ana"))["state"] == "wrap_up"
    assert ok(api.get(f"/v1/tasks/{second['id']}"))["state"] == "pending"
    _tick(ctx, clock, 31)  # the queue's 30 s of wrap-up ran out
    assert ok(api.get(f"/v1/tasks/{first['id']}"))["outcome"] == "wrap_up_timeout"
    assert ok(api.get(f"/v1/tasks/{second['id']}"))["agent_id"] == "ana"
    timeline = ok(api.get(f"/v1/customers/{first['customer_id']}/timeline"))
    types = [e["type"] for e in timeline["events"]]
    assert {"call.queued", "call.answered", "call.wrapped_up"} <= set(types)
    stats = ok(api.get("/v1/routing/stats"))["queues"]["general"]
    assert stats["handled"] == 1 and stats["average_handle_time"] == 151.0


def test_s14_abandoned_call_becomes_a_callback_tried_until_it_ends(
        api: Api, ctx: AppContext, clock: FixedClock) -> None:
    setup_center(api, [{"id": "ana", **AGENT}])
    _customers(api)
    waiting = call(api, "+34600000003")  # nobody is logged in
    clock.advance(timedelta(seconds=40))
    answer = ok(api.post(f"/v1/tasks/{waiting['id']}/abandon"))
    assert answer["decision"] == "callback" and answer["task"]["state"] == "abandoned"
    callback = ok(api.get(f"/v1/tasks/{answer['callback_id']}"))
    assert callback["kind"] == "callback" and callback["queue"] == "callbacks"
    assert callback["parent_id"] == waiting["id"] and callback["max_attempts"] == 2
    stats = ok(api.get("/v1/routing/stats"))["queues"]["general"]
    assert stats["abandoned"] == 1 and stats["abandonment_rate"] == 100.0

    available(api, "ana")
    offered = ok(api.get(f"/v1/tasks/{callback['id']}"))
    assert offered["agent_id"] == "ana"
    ok(api.post(f"/v1/tasks/{callback['id']}/accept", json={"agent_id": "ana"}))
    retry = ok(api.post(f"/v1/tasks/{callback['id']}/complete",
                        json={"agent_id": "ana", "outcome": "no_answer"}))
    assert retry["state"] == "pending" and retry["not_before"]
    _tick(ctx, clock, 300, api, "ana")
    assert ok(api.get(f"/v1/tasks/{callback['id']}"))["agent_id"] is None  # not yet due
    _tick(ctx, clock, 301, api, "ana")
    assert ok(api.get(f"/v1/tasks/{callback['id']}"))["agent_id"] == "ana"
    ok(api.post(f"/v1/tasks/{callback['id']}/accept", json={"agent_id": "ana"}))
    final = ok(api.post(f"/v1/tasks/{callback['id']}/complete",
                        json={"agent_id": "ana", "outcome": "busy"}))
    assert final["state"] == "completed" and final["outcome"] == "unreached"
    assert [a["outcome"] for a in final["result"]["attempts"]] == ["no_answer", "busy"]
    timeline = ok(api.get(f"/v1/customers/{waiting['customer_id']}/timeline"))
    types = [e["type"] for e in timeline["events"]]
    assert {"call.abandoned", "callback.scheduled", "callback.retry_scheduled",
            "callback.failed"} <= set(types)


def test_s14_the_policy_decides(api: Api, ctx: AppContext, clock: FixedClock) -> None:
    setup_center(api, [{"id": "ana", **AGENT}])
    _customers(api)
    decisions = {}
    for name, phone, waited in (("short", "+34600000003", 3), ("vip", "+34600000001", 30),
                                ("unknown", "+34655555555", 30)):
        task = call(api, phone)
        clock.advance(timedelta(seconds=waited))
        decisions[name] = ok(api.post(f"/v1/tasks/{task['id']}/abandon"))
    assert decisions["short"]["decision"] == "ignore"
    assert decisions["short"]["reason"] == "short_abandon"
    assert decisions["vip"]["decision"] == "winback"
    assert ok(api.get(f"/v1/tasks/{decisions['vip']['callback_id']}"))["queue"] == "vip"
    # A number nobody knew becomes a new profile, so the "known" rule gives a callback.
    assert decisions["unknown"]["decision"] == "callback"

    # Recontacted: the caller rings again before we call back -> the callback is dropped.
    again = call(api, "+34600000002")
    clock.advance(timedelta(seconds=30))
    first = ok(api.post(f"/v1/tasks/{again['id']}/abandon"))
    assert first["decision"] == "callback"
    redial = call(api, "+34600000002")
    available(api, "ana")
    # The redial (at risk: +60) outranks the waiting callbacks, so ana is offered it.
    assert ok(api.get(f"/v1/tasks/{redial['id']}"))["agent_id"] == "ana"
    ok(api.post(f"/v1/tasks/{redial['id']}/accept", json={"agent_id": "ana"}))
    canceled = ok(api.get(f"/v1/tasks/{first['callback_id']}"))
    assert canceled["state"] == "canceled" and canceled["outcome"] == "recontacted"


def test_customer_and_crm_callbacks_with_windows(api: Api, clock: FixedClock) -> None:
    setup_center(api)
    now = clock.now()
    body = {"queue": "callbacks", "identifiers": {"phone": "+34600000003"},
            "window_start": (now + timedelta(hours=2)).isoformat(),
            "window_end": (now + timedelta(hours=3)).isoformat(),
            "reason": "investigation_closed", "source": "crm", "external_id": "CASE-7"}
    created = ok(api.post("/v1/callbacks", json=body), 201)
    assert created["not_before"].startswith("2026-11-24T12:00")
    assert ok(api.post("/v1/callbacks", json=body))["id"] == created["id"]  # idempotent
    bad = assert_problem(api.post("/v1/callbacks", json={
        **body, "external_id": "CASE-8", "window_end": (now + timedelta(hours=1)).isoformat()}),
        422, "validation_failed")
    assert bad["errors"][0]["field"] == "window_end"
    past = assert_problem(api.post("/v1/callbacks", json={
        **body, "external_id": "CASE-9", "window_start": (now - timedelta(hours=3)).isoformat(),
        "window_end": (now - timedelta(hours=2)).isoformat()}), 422, "validation_failed")
    assert {e["code"] for e in past["errors"]} == {"window_past"}
    nophone = assert_problem(api.post("/v1/callbacks", json={
        **body, "external_id": "CASE-10", "identifiers": {"email": "x@example.com"}}),
        422, "validation_failed")
    assert nophone["errors"][0]["code"] == "no_phone"
    stats = ok(api.get("/v1/routing/stats"))["queues"]["callbacks"]
    assert stats["scheduled_callbacks"] == 1


def test_routing_override_sends_the_customer_to_a_dedicated_team(
        api: Api, clock: FixedClock) -> None:
    setup_center(api, [{"id": "ana", **AGENT}, {"id": "fraud1", **AGENT, "teams": ["fraud"]}])
    _customers(api)
    available(api, "ana")
    task = call(api, "+34600000003")
    customer_id = task["customer_id"]
    ok(api.post(f"/v1/tasks/{task['id']}/accept", json={"agent_id": "ana"}))
    ok(api.post(f"/v1/tasks/{task['id']}/complete", json={"agent_id": "ana"}))
    override = ok(api.post(f"/v1/customers/{customer_id}/routing-overrides", json={
        "team": "fraud", "priority_boost": 200, "ttl_seconds": 3600,
        "ivr": {"message": {"es": "Hola Nico", "en": "Hello Nico"}},
        "reason": "suspected fraud"}), 201)
    assert override["team"] == "fraud"
    task = call(api, "+34600000003")
    assert task["state"] == "pending" and task["ivr"]["message"]["en"] == "Hello Nico"
    available(api, "fraud1")
    assert ok(api.get(f"/v1/tasks/{task['id']}"))["agent_id"] == "fraud1"
    listed = ok(api.get(f"/v1/customers/{customer_id}/routing-overrides"))
    assert [o["id"] for o in listed] == [override["id"]]
    ok(api.delete(f"/v1/routing-overrides/{override['id']}"))
    assert ok(api.get(f"/v1/customers/{customer_id}/routing-overrides")) == []
    problem = assert_problem(api.post(f"/v1/customers/{customer_id}/routing-overrides",
                                      json={"queue": "nope", "ttl_seconds": 60}),
                             422, "validation_failed")
    assert problem["errors"][0]["field"] == "queue"


def test_bad_policy_and_bad_tasks_get_clear_errors(api: Api) -> None:
    broken = POLICY.replace('customer.tier == "vip"\n        add: 100',
                            'customer.tier == \n        add: 100')
    problem = assert_problem(api.client.put(
        "/v1/routing/policy", content=broken,
        headers={**api.headers, "Content-Type": "application/yaml"}), 422, "validation_failed")
    assert "line 11" in problem["errors"][0]["detail"] and "invalid CEL" in problem["detail"]
    unknown_skill = POLICY.replace("skills: {billing: 4}", "skills: {plumbing: 4}")
    problem = assert_problem(api.client.put(
        "/v1/routing/policy", content=unknown_skill,
        headers={**api.headers, "Content-Type": "application/yaml"}), 422, "validation_failed")
    assert "unknown skill 'plumbing'" in problem["detail"] and "line 22" in problem["detail"]
    problem = assert_problem(api.client.put("/v1/routing/policy", json={"queues": {
        "a": {"steps": [{"agents": "agent.site == 'x'"}, {"name": "all"}]}}},
        headers=api.headers), 422, "validation_failed")
    assert "queues.a.steps[0]" in problem["detail"] and "timeout" in problem["detail"]

    assert_problem(api.post("/v1/tasks", json={"queue": "general"}), 409, "conflict")
    setup_center(api)
    problem = assert_problem(api.post("/v1/tasks", json={"queue": "nowhere"}), 422,
                             "validation_failed")
    assert problem["errors"][0]["field"] == "queue"
    problem = assert_problem(api.post("/v1/tasks", json={"queue": "vip", "channel": "chat"}),
                             422, "validation_failed")
    assert problem["errors"][0]["field"] == "channel"
    problem = assert_problem(api.post("/v1/tasks", json={"queue": "general",
                                                         "skills": {"plumbing": 2}}),
                             422, "validation_failed")
    assert problem["errors"][0]["field"] == "skills.plumbing"
    problem = assert_problem(api.client.put("/v1/agents/ana", json={
        "capacity": {"chat": -1}}, headers=api.headers), 422, "validation_failed")
    assert "capacity" in problem["errors"][0]["field"]
    problem = assert_problem(api.client.put("/v1/agents/ana", json={
        "queues": ["nowhere"]}, headers=api.headers), 422, "validation_failed")
    assert "unknown queue 'nowhere'" in problem["detail"]
    assert_problem(api.post("/v1/tasks/nope/accept", json={"agent_id": "ana"}), 404,
                   "not_found")


def test_a_queue_with_waiting_tasks_cannot_be_removed(api: Api) -> None:
    setup_center(api)
    call(api)
    smaller = POLICY.replace("  general:", "  generalx:", 1)
    assert_problem(api.client.put("/v1/routing/policy", content=smaller, headers={
        **api.headers, "Content-Type": "application/yaml"}), 409, "conflict")


def test_the_stats_stream_sends_live_figures(api: Api) -> None:
    setup_center(api, [{"id": "ana", **AGENT}])
    available(api, "ana")
    call(api)
    with api.client.stream("GET", "/v1/routing/stats/stream", params={"count": 1},
                           headers=api.headers) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        body = b"".join(response.iter_bytes()).decode()
    assert body.startswith("event: stats\ndata: ")
    assert '"agents_available":1' in body and '"state":"reserved"' in body


def test_scopes(api: Api, ctx: AppContext) -> None:
    from tests.conftest import make_key

    setup_center(api)
    reader = {"Authorization": f"Bearer {make_key(ctx, ['read'], 'reader')}"}
    assert api.client.post("/v1/tasks", json={"queue": "general"},
                           headers=reader).status_code == 403
    assert api.client.get("/v1/routing/stats", headers=reader).status_code == 200
    desk = {"Authorization": f"Bearer {make_key(ctx, ['routing'], 'desk')}"}
    assert api.client.put("/v1/routing/policy", content=POLICY,
                          headers={**desk, "Content-Type": "application/yaml"}
                          ).status_code == 403
    assert api.client.post("/v1/tasks", json={"queue": "general"},
                           headers=desk).status_code == 201
