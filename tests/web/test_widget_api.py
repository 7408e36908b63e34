"""The CRM widget's HTTP API (issue 16, item 4; S5): minting tokens with a `widget` key or a
session, CORS for configured origins only, click-to-dial through routing (no double dial),
the banner's calls, accept/end/wrap-up as the token's agent only, a wrap-up twice recorded
once, and the wrap-up event carrying the CRM record to the CRM connector."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from circulo.auth import users
from circulo.clock import FixedClock
from circulo.connectors.models import OutboxMessage
from circulo.context import AppContext
from circulo.db import Database
from circulo.routing.models import AgentRow
from tests.conftest import Api, assert_problem, custom_api, make_key, ok
from tests.routing.helpers import POLICY, available, call, setup_center
from tests.web.widget_helpers import crm_config

PASSWORD = "correct horse battery"
AGENT = {"skills": {"billing": 3}, "languages": ["es"], "queues": ["general"]}
CRM_ORIGIN = "https://crm.example.com"


@pytest.fixture
def api(database: Database, clock: FixedClock) -> Iterator[Api]:
    with custom_api(database, clock, widget_origins=[CRM_ORIGIN]) as client:
        yield client


def _center(api: Api, ctx: AppContext) -> None:
    setup_center(api, [{"id": "ana", **AGENT}, {"id": "luis", **AGENT}])
    with ctx.db.unit_of_work() as session:
        for name in ("ana", "luis"):
            users.create_user(session, users.UserSpec(
                username=name, name=name.title(), role="agent", agent_id=name,
                language="en" if name == "luis" else "es"), PASSWORD, ctx.clock.now())


def _ctx(api: Api) -> AppContext:
    ctx: AppContext = api.client.app.state.ctx  # type: ignore[attr-defined]
    return ctx


def _token(api: Api, user: str = "ana", **body: Any) -> str:
    key = make_key(_ctx(api), ["widget"], "crm")
    answer = ok(api.client.post("/v1/widget-tokens", json={"user": user, **body},
                                headers={"Authorization": f"Bearer {key}"}), 201)
    assert answer["user"]["agent_id"] == user and answer["expires_in"] == 900
    return str(answer["token"])


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_minting_needs_the_widget_scope_never_reaches_other_users_and_refuses_bad_bodies(
        api: Api) -> None:
    ctx = _ctx(api)
    _center(api, ctx)
    client = api.client
    assert_problem(client.post("/v1/widget-tokens", json={"user": "ana"}), 401,
                   "unauthorized")
    routing_key = make_key(ctx, ["routing"], "ivr")
    assert_problem(client.post("/v1/widget-tokens", json={"user": "ana"},
                               headers=_as(routing_key)), 403, "forbidden")
    key = make_key(ctx, ["widget"], "crm")
    for body in ({}, {"user": "ana", "extra": 1}, {"user": ""}, {"user": 5},
                 {"user": "ana", "scopes": ["admin"]}):
        problem = client.post("/v1/widget-tokens", json=body, headers=_as(key))
        assert_problem(problem, 422, "validation_failed")
    assert_problem(client.post("/v1/widget-tokens", content=b"{", headers={
        **_as(key), "Content-Type": "application/json"}), 422, "validation_failed")
    assert_problem(client.post("/v1/widget-tokens", json={"user": "nobody"},
                               headers=_as(key)), 404, "not_found")
    # a signed-in user mints for itself only, with its CSRF token
    signed = ok(client.post("/v1/session", json={"username": "ana", "password": PASSWORD}))
    assert_problem(client.post("/v1/widget-tokens", json={}), 403, "csrf_failed")
    csrf = {"X-CSRF-Token": signed["csrf_token"]}
    assert_problem(client.post("/v1/widget-tokens", json={"user": "luis"}, headers=csrf),
                   403, "forbidden")
    own = ok(client.post("/v1/widget-tokens", json={}, headers=csrf), 201)
    client.cookies.clear()
    me = ok(client.get("/v1/widget/me", headers=_as(own["token"])))
    assert me["user"] == {"name": "Ana", "agent_id": "ana"} and me["language"] == "es"
    assert me["texts"]["accept"] == "Aceptar"
    assert ok(client.get("/v1/widget/me?lang=en", headers=_as(own["token"])))["texts"][
        "accept"] == "Accept"


def test_cors_answers_configured_origins_only_and_never_with_credentials(api: Api) -> None:
    _center(api, _ctx(api))
    token = _token(api)
    client = api.client
    preflight = client.options("/v1/widget/calls", headers={
        "Origin": CRM_ORIGIN, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == CRM_ORIGIN
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in preflight.headers
    answer = client.get("/v1/widget/calls", headers={**_as(token), "Origin": CRM_ORIGIN})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == CRM_ORIGIN
    expired = client.get("/v1/widget/calls", headers={"Authorization": "Bearer cw_x_y",
                                                      "Origin": CRM_ORIGIN})
    assert_problem(expired, 401, "unauthorized")  # readable by the page: CORS headers too
    assert expired.headers["access-control-allow-origin"] == CRM_ORIGIN
    evil = client.get("/v1/widget/calls", headers={**_as(token),
                                                   "Origin": "https://evil.example"})
    assert_problem(evil, 403, "origin_not_allowed")
    assert "access-control-allow-origin" not in evil.headers


def test_click_to_dial_creates_one_outbound_call_for_the_agent_with_the_crm_record(
        api: Api) -> None:
    ctx = _ctx(api)
    _center(api, ctx)
    token = _token(api)
    client = api.client
    assert_problem(client.post("/v1/widget/dial", json={"phone": "+34600111222",
                                                        "request_id": "click-0001"}),
                   401, "unauthorized")
    for body in ({"phone": "+34600111222"}, {"phone": "call me", "request_id": "click-0001"},
                 {"phone": "+34600111222", "request_id": "short"},
                 {"phone": "+34600111222", "request_id": "click-0001", "agent": "luis"}):
        assert_problem(client.post("/v1/widget/dial", json=body, headers=_as(token)), 422,
                       "validation_failed")
    body = {"phone": "+34 600 11 12 22", "request_id": "click-0001", "crm_record": "C-4711"}
    first = ok(client.post("/v1/widget/dial", json=body, headers=_as(token)), 201)["call"]
    again = ok(client.post("/v1/widget/dial", json=body, headers=_as(token)), 200)["call"]
    assert again["id"] == first["id"]  # a double click dials once
    assert first["state"] == "assigned" and first["direction"] == "outbound"
    assert first["phone"] == "+34600111222" and first["crm_record"] == "C-4711"
    task = ok(api.get(f"/v1/tasks/{first['id']}"))
    assert task["agent_id"] == "ana" and task["state"] == "assigned"
    assert task["attributes"]["crm_record"] == "C-4711"
    other = dict(body, request_id="click-0002")
    problem = client.post("/v1/widget/dial", json=other, headers=_as(token))
    assert_problem(problem, 409, "conflict")  # already on a call
    assert len(ok(api.get("/v1/tasks?agent_id=ana"))) == 1
    read_only = _token(api, scopes=["calls:read"])
    assert_problem(client.post("/v1/widget/dial", json=other, headers=_as(read_only)), 403,
                   "forbidden")


def test_incoming_call_accept_end_wrap_up_reaches_the_crm_connector_once(
        api: Api, tmp_path: Any, database: Database, clock: FixedClock) -> None:
    crm = crm_config(tmp_path / "crm.yaml", CRM_ORIGIN)
    with custom_api(database, clock, widget_origins=[CRM_ORIGIN],
                    crm_connectors=crm) as api:
        ctx = _ctx(api)
        _center(api, ctx)
        ana, luis = _token(api), _token(api, "luis")
        client = api.client
        available(api, "ana")
        incoming = call(api, "+34600999888")
        offered = ok(client.get("/v1/widget/calls", headers=_as(ana)))["calls"]
        assert [c["id"] for c in offered] == [incoming["id"]]
        assert offered[0]["state"] == "reserved" and offered[0]["phone"] == "+34600999888"
        assert ok(client.get("/v1/widget/calls", headers=_as(luis)))["calls"] == []
        task_id = incoming["id"]
        # another agent's token cannot touch it
        for action in ("accept", "reject", "end"):
            assert_problem(client.post(f"/v1/widget/calls/{task_id}/{action}",
                                       headers=_as(luis)), 403, "forbidden")
        assert ok(client.post(f"/v1/widget/calls/{task_id}/accept",
                              headers=_as(ana)))["call"]["state"] == "assigned"
        assert_problem(client.post(f"/v1/widget/calls/{task_id}/accept", headers=_as(ana)),
                       409, "conflict")  # a double click on accept
        assert ok(client.post(f"/v1/widget/calls/{task_id}/end",
                              headers=_as(ana)))["call"]["state"] == "wrapping"
        wrap = {"disposition": "resolved", "notes": "Cambio de tarifa",
                "crm_record": "C-4711"}
        assert_problem(client.post(f"/v1/widget/calls/{task_id}/wrap-up", json=wrap,
                                   headers=_as(luis)), 403, "forbidden")
        assert_problem(client.post(f"/v1/widget/calls/{task_id}/wrap-up",
                                   json={**wrap, "disposition": "nonsense"},
                                   headers=_as(ana)), 422, "validation_failed")
        done = ok(client.post(f"/v1/widget/calls/{task_id}/wrap-up", json=wrap,
                              headers=_as(ana)))["call"]
        assert done["state"] == "completed" and done["outcome"] == "resolved"
        assert_problem(client.post(f"/v1/widget/calls/{task_id}/wrap-up", json=wrap,
                                   headers=_as(ana)), 409, "conflict")
        assert_problem(client.post("/v1/widget/calls/nope/accept", headers=_as(ana)), 404,
                       "not_found")
        # an offer withdrawn (the caller hung up) as the agent accepts: 409, not 403
        withdrawn = call(api, "+34600777666")
        assert ok(client.get("/v1/widget/calls", headers=_as(ana)))["calls"][0]["id"] == \
            withdrawn["id"]
        ok(api.post(f"/v1/tasks/{withdrawn['id']}/cancel", json={"reason": "hung up"}))
        problem = assert_problem(client.post(f"/v1/widget/calls/{withdrawn['id']}/accept",
                                             headers=_as(ana)), 409, "conflict")
        assert "no longer offered" in problem["detail"]
        with ctx.db.unit_of_work() as session:
            rows = list(session.scalars(select(OutboxMessage).where(
                OutboxMessage.destination == "crm:samplecrm")))
        assert len(rows) == 1  # the second wrap-up recorded nothing
        properties = rows[0].payload["data"]["properties"]
        assert properties["crm_record"] == "C-4711"
        assert properties["disposition"] == "resolved"
        assert properties["notes"] == "Cambio de tarifa"


def test_a_revoked_token_stops_at_once(api: Api) -> None:
    ctx = _ctx(api)
    _center(api, ctx)
    token = _token(api)
    client = api.client
    ok(client.get("/v1/widget/calls", headers=_as(token)))
    key = make_key(ctx, ["widget"], "crm")
    assert client.post("/v1/widget-tokens/revoke", json={"token": token},
                       headers=_as(key)).status_code == 204
    assert_problem(client.get("/v1/widget/calls", headers=_as(token)), 401, "unauthorized")
    other = _token(api)
    assert client.delete("/v1/widget/token", headers=_as(other)).status_code == 204
    assert_problem(client.get("/v1/widget/me", headers=_as(other)), 401, "unauthorized")
    assert_problem(client.post("/v1/widget-tokens/revoke", json={"token": other}), 401,
                   "unauthorized")


def test_looking_at_the_calls_is_the_agents_heartbeat_written_sparingly(
        api: Api, clock: FixedClock) -> None:
    ctx = _ctx(api)
    _center(api, ctx)
    token = _token(api)

    def last_seen() -> Any:
        with ctx.db.unit_of_work(write=False) as session:
            row = session.get(AgentRow, "ana")
            assert row is not None
            return row.last_seen

    start = clock.now()
    ok(api.client.get("/v1/widget/calls", headers=_as(token)))
    assert last_seen() == start
    clock.advance(timedelta(seconds=5))  # every 1.5 s from each tab: no write each time
    ok(api.client.get("/v1/widget/calls", headers=_as(token)))
    assert last_seen() == start
    clock.advance(timedelta(seconds=10))  # a fifth of the 60 s timeout has passed
    ok(api.client.get("/v1/widget/calls", headers=_as(token)))
    assert last_seen() == start + timedelta(seconds=15)


def test_the_widget_offers_the_queues_wrap_up_codes_like_the_desk(api: Api) -> None:
    """A queue that lists its codes (routing policy ``wrapup_codes``) gives the widget those
    codes, labelled in the widget's language, and refuses any other; a queue listing none
    keeps the widget's general list."""
    ctx = _ctx(api)
    _center(api, ctx)
    policy = POLICY.replace("""    wrap_up: 30s
""", """    wrap_up: 30s
    wrapup_codes:
      - {code: retained, es: Cliente retenido, en: Customer retained}
      - {code: refund, es: Reembolso, en: Refund}
""", 1)
    ok(api.client.put("/v1/routing/policy", content=policy,
                      headers={**api.headers, "Content-Type": "application/yaml"}))
    token = _token(api)
    client = api.client
    available(api, "ana")
    incoming = call(api, "+34600999888")
    [offered] = ok(client.get("/v1/widget/calls?lang=en", headers=_as(token)))["calls"]
    assert offered["codes"] == [{"code": "retained", "label": "Customer retained"},
                                {"code": "refund", "label": "Refund"}]
    ok(client.post(f"/v1/widget/calls/{incoming['id']}/accept", headers=_as(token)))
    ok(client.post(f"/v1/widget/calls/{incoming['id']}/end", headers=_as(token)))
    problem = assert_problem(client.post(
        f"/v1/widget/calls/{incoming['id']}/wrap-up", json={"disposition": "resolved"},
        headers=_as(token)), 422, "validation_failed")
    assert "retained, refund" in problem["errors"][0]["detail"]
    done = ok(client.post(f"/v1/widget/calls/{incoming['id']}/wrap-up",
                          json={"disposition": "refund"}, headers=_as(token)))["call"]
    assert done["outcome"] == "refund"
