"""Users and cookie sessions (issue 16, item 1): sign in, who am I, sign out, expiry, sign-out
everywhere, CSRF, roles, and routing actions that act only as the signed-in agent."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from circulo.app import create_app
from circulo.auth import users
from circulo.clock import FixedClock
from circulo.context import AppContext
from circulo.db import Database
from tests.conftest import Api, assert_problem, custom_api, make_key, ok
from tests.routing.helpers import available, call, setup_center

PASSWORD = "correct horse battery"
AGENT = {"skills": {"billing": 3}, "languages": ["es"], "queues": ["general"]}


def _user(ctx: AppContext, username: str = "ana", role: str = "agent",
          agent_id: str | None = "ana") -> None:
    with ctx.db.unit_of_work() as session:
        users.create_user(session, users.UserSpec(
            username=username, name=username.title(), role=role, agent_id=agent_id),
            PASSWORD, ctx.clock.now())


@pytest.fixture
def client(ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx.settings, ctx=ctx)) as test_client:
        yield test_client


def _sign_in(client: TestClient, username: str = "ana",
             password: str = PASSWORD) -> dict[str, Any]:
    return ok(client.post("/v1/session", json={"username": username, "password": password}))


def test_sign_in_who_am_i_and_sign_out(ctx: AppContext, client: TestClient) -> None:
    _user(ctx)
    assert_problem(client.get("/v1/session"), 401, "unauthorized")
    signed = _sign_in(client, "ANA")  # user names are case-insensitive
    assert signed["user"]["username"] == "ana" and signed["user"]["role"] == "agent"
    assert signed["user"]["agent_id"] == "ana" and signed["csrf_token"]
    cookie = client.cookies.get("circulo_session")
    assert cookie and len(cookie) >= 43
    header = next(v for k, v in client.post(
        "/v1/session", json={"username": "ana", "password": PASSWORD}).headers.items()
        if k == "set-cookie")
    assert "HttpOnly" in header and "SameSite=lax" in header and "Path=/" in header
    me = ok(client.get("/v1/session"))
    assert me["user"]["username"] == "ana"
    assert me["csrf_token"] == client.get("/v1/session").json()["csrf_token"]
    ok(client.get("/v1/agents"))  # read scope through the session
    csrf = {"X-CSRF-Token": me["csrf_token"]}
    assert client.delete("/v1/session", headers=csrf).status_code == 204
    assert_problem(client.get("/v1/session"), 401, "unauthorized")


def test_the_password_is_argon2_and_never_answered_or_logged(
        ctx: AppContext, client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    _user(ctx)
    with ctx.db.unit_of_work(write=False) as session:
        stored = users.find_user(session, "ana")
        assert stored is not None
        assert stored.password_hash.startswith("$argon2id$")
        digest = stored.password_hash
    with caplog.at_level(logging.DEBUG):
        texts = [client.post("/v1/session", json={"username": "ana", "password": PASSWORD}).text,
                 client.get("/v1/session").text]
    for text in [*texts, caplog.text]:
        assert digest not in text and PASSWORD not in text and "argon2" not in text


def test_wrong_password_and_unknown_user_answer_alike_and_are_throttled(
        database: Database, clock: FixedClock) -> None:
    with custom_api(database, clock, auth_failure_limit="3/minute") as api:
        ctx: AppContext = api.client.app.state.ctx  # type: ignore[attr-defined]
        _user(ctx)
        wrong = api.client.post("/v1/session", json={"username": "ana", "password": "x" * 14})
        unknown = api.client.post("/v1/session", json={"username": "nobody",
                                                       "password": "x" * 14})
        first = assert_problem(wrong, 401, "unauthorized")
        second = assert_problem(unknown, 401, "unauthorized")
        assert first["detail"] == second["detail"]
        api.client.post("/v1/session", json={"username": "ana", "password": "y" * 14})
        # the fourth try, even right, is refused: three failures in the window
        assert_problem(api.client.post("/v1/session", json={"username": "ana",
                                                            "password": PASSWORD}),
                       429, "too_many_requests")


def test_csrf_is_needed_for_state_changes_by_session_not_for_reads_or_keys(
        ctx: AppContext, client: TestClient) -> None:
    _user(ctx, "sara", "supervisor", None)
    me = _sign_in(client, "sara")
    setup_center(Api(client, make_key(ctx, ["admin"])), [{"id": "ana", **AGENT}])
    presence = {"presence": "available"}
    # a supervisor session has the routing scope; still acts only as its own agent (none)
    ok(client.get("/v1/agents"))
    assert_problem(client.post("/v1/tasks", json={"queue": "general", "channel": "voice"}),
                   403, "csrf_failed")
    assert_problem(client.post("/v1/tasks", json={"queue": "general", "channel": "voice"},
                               headers={"X-CSRF-Token": "forged" + me["csrf_token"][6:]}),
                   403, "csrf_failed")
    ok(client.post("/v1/tasks", json={"queue": "general", "channel": "voice"},
                   headers={"X-CSRF-Token": me["csrf_token"]}), 201)
    # an API key needs no CSRF token, even with a session cookie beside it
    key = make_key(ctx, ["routing"])
    ok(client.post("/v1/agents/ana/presence", json=presence,
                   headers={"Authorization": f"Bearer {key}"}))


def test_sessions_expire_when_idle_and_after_their_lifetime(
        database: Database, clock: FixedClock) -> None:
    with custom_api(database, clock, session_idle_timeout=600,
                    session_lifetime=3600) as api:
        ctx: AppContext = api.client.app.state.ctx  # type: ignore[attr-defined]
        _user(ctx)
        client = api.client
        _sign_in(client)
        clock.advance(timedelta(seconds=599))
        ok(client.get("/v1/session"))
        clock.advance(timedelta(seconds=601))  # idle for more than 600 s
        assert_problem(client.get("/v1/session"), 401, "unauthorized")
        _sign_in(client)
        for _ in range(7):  # active every 500 s, yet the lifetime ends at 3600 s
            clock.advance(timedelta(seconds=500))
            ok(client.get("/v1/session"))
        clock.advance(timedelta(seconds=500))
        assert_problem(client.get("/v1/session"), 401, "unauthorized")


def test_sign_out_everywhere_ends_every_session(ctx: AppContext) -> None:
    _user(ctx)
    app = create_app(ctx.settings, ctx=ctx)
    with TestClient(app) as laptop, TestClient(app) as phone:
        _sign_in(laptop)
        csrf = _sign_in(phone)["csrf_token"]
        assert phone.post("/v1/session/everywhere", headers={"X-CSRF-Token": csrf}
                          ).status_code == 204
        assert_problem(laptop.get("/v1/session"), 401, "unauthorized")
        assert_problem(phone.get("/v1/session"), 401, "unauthorized")
        _sign_in(laptop)  # signing in again works
        ok(laptop.get("/v1/session"))


def test_a_disabled_user_cannot_sign_in_and_loses_its_sessions(
        ctx: AppContext, client: TestClient) -> None:
    _user(ctx)
    _sign_in(client)
    with ctx.db.unit_of_work() as session:
        users.disable_user(session, "ana", ctx.clock.now())
    assert_problem(client.get("/v1/session"), 401, "unauthorized")
    assert_problem(client.post("/v1/session", json={"username": "ana", "password": PASSWORD}),
                   401, "unauthorized")


def test_an_agent_session_acts_only_as_its_own_agent(ctx: AppContext,
                                                     client: TestClient) -> None:
    api = Api(client, make_key(ctx, ["admin"]))
    setup_center(api, [{"id": "ana", **AGENT}, {"id": "bea", **AGENT}])
    _user(ctx)
    available(api, "bea")
    theirs = call(api)
    assert theirs["agent_id"] == "bea"
    csrf = {"X-CSRF-Token": _sign_in(client)["csrf_token"]}
    # the agent role may not act for bea, nor create tasks (routing for itself only)
    for url, body in ((f"/v1/tasks/{theirs['id']}/accept", {"agent_id": "bea"}),
                      (f"/v1/tasks/{theirs['id']}/complete", {"agent_id": "bea"}),
                      ("/v1/agents/bea/presence", {"presence": "away"})):
        assert_problem(client.post(url, json=body, headers=csrf), 403, "forbidden")
    assert_problem(client.post("/v1/agents/bea/heartbeat", headers=csrf), 403, "forbidden")
    assert_problem(client.get("/v1/agents/bea/tasks"), 403, "forbidden")
    assert_problem(client.post("/v1/tasks", json={"queue": "general", "channel": "voice"},
                               headers=csrf), 403, "forbidden")
    # as itself it can
    ok(client.post("/v1/agents/ana/presence", json={"presence": "available"}, headers=csrf))
    mine = call(api)
    assert mine["agent_id"] == "ana"
    ok(client.post(f"/v1/tasks/{mine['id']}/accept", json={"agent_id": "ana"}, headers=csrf))
    ok(client.post(f"/v1/tasks/{mine['id']}/complete", json={"agent_id": "ana"},
                   headers=csrf))
    # an API key with the routing scope still acts for any agent
    ok(api.post(f"/v1/tasks/{theirs['id']}/accept", json={"agent_id": "bea"}))


def test_passwords_too_short_or_equal_to_the_username_are_refused(ctx: AppContext) -> None:
    from circulo.errors import ValidationFailed

    with ctx.db.unit_of_work() as session:
        for password in ("short", "margarita.lopez", "MARGARITA.LOPEZ"):
            with pytest.raises(ValidationFailed):
                users.create_user(session, users.UserSpec(
                    username="margarita.lopez", name="M", role="agent"), password,
                    ctx.clock.now())
        with pytest.raises(ValidationFailed):
            users.create_user(session, users.UserSpec(username="x", name="X", role="boss"),
                              PASSWORD, ctx.clock.now())


def test_an_unknown_user_costs_the_same_argon2_work_as_a_wrong_password(
        ctx: AppContext, client: TestClient) -> None:
    _user(ctx)

    def fastest(username: str) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            client.post("/v1/session", json={"username": username, "password": "w" * 14})
            times.append(time.perf_counter() - started)
        return min(times)

    known, unknown = fastest("ana"), fastest("nobody")
    # argon2 takes tens of ms; without the dummy hash an unknown name answers in ~1 ms
    assert unknown > 0.5 * known, (known, unknown)


def test_roles_map_to_scopes_supervisors_review_identity_agents_do_not(
        ctx: AppContext) -> None:
    _user(ctx, "sara", "supervisor", None)
    _user(ctx)
    app = create_app(ctx.settings, ctx=ctx)
    with TestClient(app) as supervisor, TestClient(app) as agent:
        for client, username, status in ((supervisor, "sara", 404), (agent, "ana", 403)):
            me = _sign_in(client, username)
            response = client.post("/v1/identity/suggestions/nope/accept",
                                   headers={"X-CSRF-Token": me["csrf_token"]})
            assert response.status_code == status, response.text
        assert _sign_in(agent)["user"]["scopes"] == ["read", "routing:self"]
        # no role but admin changes the policy or agents
        assert agent.put("/v1/agents/ana", json={}, headers={
            "X-CSRF-Token": _sign_in(agent)["csrf_token"]}).status_code == 403


def test_odd_credentials_answer_401_never_500(ctx: AppContext, client: TestClient) -> None:
    _user(ctx)
    for body, status, code in (
            ('{"username": "ana", "password": "\\ud800\\ud800\\ud800\\ud800x"}', 422,
             "validation_failed"),
            ('{"username": "\\ud800", "password": "a long enough passphrase"}', 422,
             "validation_failed"),
            ('{"username": "' + "a" * 200 + '", "password": "a long enough passphrase"}', 401,
             "unauthorized"),
            ('{"username": "ana", "password": "' + "p" * 5000 + '"}', 422, "validation_failed")):
        response = client.post("/v1/session", content=body,
                               headers={"Content-Type": "application/json"})
        assert_problem(response, status, code)
    client.cookies.set("circulo_session", "x" * 5000)
    assert_problem(client.get("/v1/session"), 401, "unauthorized")


def test_an_agent_session_decides_journey_suggestions_only_as_itself(
        ctx: AppContext, client: TestClient) -> None:
    _user(ctx)
    csrf = {"X-CSRF-Token": _sign_in(client)["csrf_token"]}
    # its own agent passes (no such suggestion: 404); another agent is refused
    for verb in ("accept", "dismiss"):
        assert_problem(client.post(f"/v1/suggestions/nope/{verb}", json={"agent_id": "ana"},
                                   headers=csrf), 404, "not_found")
        assert_problem(client.post(f"/v1/suggestions/nope/{verb}", json={"agent_id": "bea"},
                                   headers=csrf), 403, "forbidden")
