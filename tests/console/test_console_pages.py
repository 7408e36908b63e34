"""The console's pages and stream without a browser: who may open them, the CSRF check on
every change, clear messages for an unknown queue or a decided suggestion, the stream's
batched updates, and a stream whose session ends sending the page to sign-in."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from circulo.app import create_app
from circulo.clock import FixedClock
from circulo.context import AppContext
from circulo.db import Database
from tests.conftest import Api, custom_api, ok
from tests.console.helpers import AGENT, PASSWORD, customers, person
from tests.identity.test_review_queue import two_anas
from tests.routing.helpers import call, setup_center


@pytest.fixture
def client(ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx.settings, ctx=ctx), follow_redirects=False) as test_client:
        yield test_client


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def sign_in(client: TestClient, username: str) -> str:
    """Signs in; returns the session's CSRF token as the console page carries it."""
    form = client.get("/sign-in")
    done = client.post("/sign-in", data={"username": username, "password": PASSWORD,
                                         "login_token": hidden(form.text, "login_token")})
    assert done.status_code == 303, done.text
    return hidden(client.get("/console").text if username != "agent" else
                  client.get("/desk").text, "csrf_token")


def events_of(text: str) -> list[tuple[str, str]]:
    found = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        kind = next((line[7:] for line in block.splitlines() if line.startswith("event: ")), "")
        data = "\n".join(line[6:] for line in block.splitlines() if line.startswith("data: "))
        if kind:
            found.append((kind, data))
    return found


def test_strangers_go_to_sign_in_and_agents_get_a_clear_403(client: TestClient,
                                                           ctx: AppContext) -> None:
    for path in ("/console", "/console/identity", "/console/journeys"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/sign-in"
    assert client.get("/console/stream").status_code == 401
    person(ctx.db, "agent", "agent", ctx.clock.now(), agent_id="ana")
    sign_in(client, "agent")
    for path in ("/console", "/console/identity", "/console/journeys"):
        page = client.get(path)
        assert page.status_code == 403
        assert "Solo los supervisores y administradores pueden abrir la consola" in page.text
    assert client.get("/console/stream").status_code == 403
    assert 'href="/console"' not in client.get("/desk").text  # not in an agent's bar


def test_reassign_refuses_a_forged_token_and_names_an_unknown_queue(
        client: TestClient, ctx: AppContext, api: Api) -> None:
    setup_center(api, [{"id": "ana", "name": "Ana", **{**AGENT, "queues": ["callbacks"]}}])
    person(ctx.db, "sara", "supervisor", ctx.clock.now())
    csrf = sign_in(client, "sara")
    page = client.get("/console")
    assert page.status_code == 200 and 'href="/console" aria-current="page"' in page.text
    forged = client.post("/console/agents", data={"agent_id": "ana", "queues": "general",
                                                  "csrf_token": "forged"})
    assert forged.status_code == 403 and "Solicitud rechazada" in forged.text
    assert ok(api.get("/v1/agents/ana"))["queues"] == ["callbacks"]
    unknown = client.post("/console/agents", data={"agent_id": "ana", "queues": "general, vipp",
                                                   "csrf_token": csrf})
    assert unknown.status_code == 422
    assert ("Cola desconocida: vipp. Colas existentes: callbacks, general, vip."
            in unknown.text)
    assert ok(api.get("/v1/agents/ana"))["queues"] == ["callbacks"]
    assert client.post("/console/agents", data={"agent_id": "ghost", "queues": "general",
                                                 "csrf_token": csrf}).status_code == 404
    done = client.post("/console/agents", data={"agent_id": "ana", "queues": "general, vip",
                                                "csrf_token": csrf})
    assert done.status_code == 200 and "Ana atiende ahora: general, vip." in done.text
    assert ok(api.get("/v1/agents/ana"))["queues"] == ["general", "vip"]


def test_the_stream_sends_everything_then_only_changes(client: TestClient, ctx: AppContext,
                                                       api: Api, clock: FixedClock) -> None:
    setup_center(api, [{"id": f"a{n}", **AGENT} for n in range(5)])
    customers(api)
    person(ctx.db, "sara", "supervisor", ctx.clock.now(), language="en")
    sign_in(client, "sara")
    with client.stream("GET", "/console/stream?limit=1") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        (first,) = events_of(stream.read().decode())
    kind, data = first
    message = json.loads(data)
    assert kind == "board" and message["alerts"] == []
    assert {k for k in message["rows"] if k.startswith("a:")} == {f"a:a{n}" for n in range(5)}
    assert message["rows"]["q:general"]["waiting"] == 0
    call(api, "+34600000001")  # Vera, a VIP
    clock.advance(timedelta(seconds=90))
    with client.stream("GET", "/console/stream?limit=1") as stream:
        (again,) = events_of(stream.read().decode())
    message = json.loads(again[1])
    assert message["rows"]["c:vip"] == {"kind": "class", "name": "vip", "waiting": 1,
                                        "longest_wait": 90, "average_wait": 90}
    (alert,) = message["alerts"]
    # 10:00 UTC is 11:00 in Madrid: the supervisor's zone
    assert alert["text"] == ("VIP waiting: Vera Vip has waited in general since 11:00:00 "
                             "(threshold: 60 s).")


def test_a_stream_whose_session_expires_sends_the_page_to_sign_in(
        database: Database, clock: FixedClock) -> None:
    with custom_api(database, clock, console_interval=0.2) as api:
        person(database, "sara", "supervisor", clock.now())
        client = api.client
        client.follow_redirects = False
        sign_in(client, "sara")
        with client.stream("GET", "/console/stream?limit=50") as stream:
            seen: list[str] = []
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    seen.append(line[7:])
                    if line == "event: board":
                        clock.advance(timedelta(hours=2))  # past the idle timeout
                if line.startswith("data: /sign-in"):
                    break
        assert seen == ["board", "signed-out"]


def test_identity_review_accepts_once_and_says_so_on_a_second_click(
        client: TestClient, ctx: AppContext, api: Api) -> None:
    _, _, suggestion = two_anas(api)
    person(ctx.db, "sara", "supervisor", ctx.clock.now())
    csrf = sign_in(client, "sara")
    page = client.get("/console/identity")
    assert page.status_code == 200 and "Ana García y Ana García" in page.text
    assert "Discrepa" in page.text and "Coincide" in page.text
    url = f"/console/identity/{suggestion['id']}/accept"
    assert client.post(url, data={"csrf_token": "forged"}).status_code == 403
    assert ok(api.get(f"/v1/identity/suggestions/{suggestion['id']}"))["status"] == "open"
    done = client.post(url, data={"csrf_token": csrf})
    assert done.status_code == 200 and "Fusionados: Ana García y Ana García." in done.text
    again = client.post(url, data={"csrf_token": csrf})  # a double click
    assert again.status_code == 409 and "no se ha cambiado nada" in again.text
    merges = ok(api.get("/v1/merges"))["merges"]
    assert [m["reason"] for m in merges] == ["reviewed"]  # one merge, not two
    assert merges[0]["actor"] == "user:sara"
    assert client.post("/console/identity/nope/reject",
                       data={"csrf_token": csrf}).status_code == 404


def test_the_journeys_page_lists_journeys(client: TestClient, ctx: AppContext) -> None:
    person(ctx.db, "sara", "supervisor", ctx.clock.now(), language="en")
    sign_in(client, "sara")
    page = client.get("/console/journeys")
    assert page.status_code == 200 and "No journeys defined." in page.text


def test_an_unknown_or_forged_acknowledgement_changes_nothing(
        client: TestClient, ctx: AppContext) -> None:
    person(ctx.db, "sara", "supervisor", ctx.clock.now())
    csrf = sign_in(client, "sara")
    assert client.post("/console/alerts/ack", data={"key": "vip_wait:t1",
                                                    "csrf_token": "x"}).status_code == 403
    assert client.post("/console/alerts/ack", data={"key": "nonsense",
                                                    "csrf_token": csrf}).status_code == 422
    done = client.post("/console/alerts/ack", data={"key": "vip_wait:t1", "csrf_token": csrf})
    assert done.status_code == 200 and "Alerta marcada como vista." in done.text
