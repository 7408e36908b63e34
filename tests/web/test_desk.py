"""The agent's desk without a browser (issue 16): presence, the offer with its explanation,
accept (twice: one effect), end, wrap-up with the queue's codes (twice: one CRM write), the
stream (a reconnect shows the standing offer; an ended session sends the page to sign in),
click-to-dial, and the faults: forged CSRF, another agent's task, a withdrawn or expired
offer, a user who is no agent."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from circulo.app import create_app
from circulo.auth import users
from circulo.clock import FixedClock
from circulo.config import Settings
from circulo.connectors.models import OutboxMessage
from circulo.context import AppContext
from circulo.db import Database
from circulo.routing.models import TaskRow
from circulo.routing.policy import PolicyError, parse_yaml
from circulo.wiring import build_context
from tests.conftest import TEST_EGRESS_ALLOW, Api, make_key, ok, wipe

PASSWORD = "correct horse battery"
POLICY = """
skills: [billing]
queues:
  general:
    channels: [voice, chat]
    reservation_timeout: 20s
    priority:
      - when: task.channel == "voice"
        add: 5
      - when: task.channel == "chat"
        add: 1
    steps:
      - name: everyone
    wrapup_codes:
      - {code: resolved, es: Resuelto, en: Resolved}
      - {code: follow_up, es: Requiere seguimiento, en: Needs follow-up}
agents:
  - {id: ana, name: Ana Pérez, queues: [general]}
  - {id: beto, name: Beto Gil, queues: [general]}
"""


@pytest.fixture
def desk(database: Database, clock: FixedClock, tmp_path: Path) -> Iterator[tuple[Api, AppContext]]:
    crm = tmp_path / "crm.yaml"
    crm.write_text(yaml.safe_dump({"connectors": {"intranet": {
        "type": "generic_rest", "event_types": ["call.wrapped_up"],
        "config": {"base_url": "http://127.0.0.1:9/api",
                   "create_contact": {"path": "/contacts", "id_path": "$.id",
                                      "body": {"phone": "{phone}"}},
                   "log_activity": {"path": "/contacts/{contact_id}/activities"}}}}}))
    settings = Settings(database_url=database.url, egress_allow=TEST_EGRESS_ALLOW,
                        crm_connectors=crm,
                        screen_pop_urls={"crm": "https://crm.example.com/c/{customer_id}"})
    ctx = build_context(settings, clock, db=database)
    try:
        with TestClient(create_app(settings, ctx=ctx), follow_redirects=False) as client:
            api = Api(client, make_key(ctx, ["admin"]))
            ok(client.put("/v1/routing/policy", content=POLICY,
                          headers={**api.headers, "Content-Type": "application/yaml"}))
            with ctx.db.unit_of_work() as session:
                for name, agent in (("ana", "ana"), ("beto", "beto"), ("sara", None)):
                    users.create_user(session, users.UserSpec(
                        username=name, name=name.title(), role="agent" if agent else
                        "supervisor", agent_id=agent, language="es"), PASSWORD, clock.now())
            yield api, ctx
    finally:
        wipe(database)


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


class Desk:
    """One signed-in person's browser, as plain HTTP (their own cookie jar)."""

    def __init__(self, api: Api, username: str) -> None:
        self.client = TestClient(api.client.app, follow_redirects=False)
        form = self.client.get("/sign-in")
        signed = self.client.post("/sign-in", data={
            "username": username, "password": PASSWORD,
            "login_token": hidden(form.text, "login_token")})
        assert signed.status_code == 303, signed.text
        self.csrf = hidden(self.client.get("/desk").text, "csrf_token")

    def post(self, path: str, token: str | None = None, **data: str) -> Any:
        return self.client.post(path, data={"csrf_token": token or self.csrf, **data},
                                headers={"HX-Request": "true"})

    def available(self) -> None:
        assert self.post("/desk/presence", presence="available").status_code == 200


def call(api: Api, phone: str = "600111222", channel: str = "voice") -> str:
    return str(ok(api.post("/v1/tasks", json={
        "queue": "general", "channel": channel, "identifiers": {"phone": phone},
        "reason": "factura"}), 201)["id"])


def task(ctx: AppContext, task_id: str) -> TaskRow:
    with ctx.db.unit_of_work(write=False) as session:
        row = session.get(TaskRow, task_id)
        assert row is not None
        session.expunge(row)
        return row


def crm_writes(ctx: AppContext) -> list[dict[str, Any]]:
    with ctx.db.unit_of_work(write=False) as session:
        return [m.payload for m in session.scalars(select(OutboxMessage).where(
            OutboxMessage.event_type == "call.wrapped_up",
            OutboxMessage.destination.like("%intranet%")))]


def test_offer_explained_accepted_twice_ended_and_wrapped_up_once_reaches_the_crm_once(
        desk: tuple[Api, AppContext], clock: FixedClock) -> None:
    api, ctx = desk
    task_id = call(api)  # nobody is available: it waits
    clock.advance(timedelta(minutes=3))
    ana = Desk(api, "ana")
    ana.available()
    assert (task(ctx, task_id).state, task(ctx, task_id).agent_id) == ("reserved", "ana")

    page = ana.client.get("/desk").text
    assert f'id="task-{task_id}"' in page and "Oferta · Llamada" in page
    assert "Paso de la política: everyone" in page  # which step matched
    assert "task.channel == &#34;voice&#34; (+5)" in page  # which rule, and not the chat one
    assert "task.channel == &#34;chat&#34;" not in page
    assert "Esperó 3 min" in page and 'class="count"' in page and "factura" in page
    customer_id = task(ctx, task_id).customer_id
    assert f'hx-get="/desk/customers/{customer_id}/panel?task={task_id}"' in page
    assert f'href="https://crm.example.com/c/{customer_id}"' in page  # S4 screen pop
    assert "Alt+A" in page  # the shortcuts are on the page

    first = ana.post(f"/desk/tasks/{task_id}/accept")
    assert first.status_code == 200 and "Contacto aceptado." in first.text
    again = ana.post(f"/desk/tasks/{task_id}/accept")  # a double click
    assert again.status_code == 200 and "Este contacto ya es suyo." in again.text
    answered = task(ctx, task_id)
    assert (answered.state, answered.attempts) == ("assigned", 1)

    assert ana.post(f"/desk/tasks/{task_id}/end").status_code == 200
    assert task(ctx, task_id).state == "wrapping"
    bad = ana.post(f"/desk/tasks/{task_id}/wrap-up", code="made_up", notes="x")
    assert bad.status_code == 422 and "Elija un código de cierre" in bad.text
    done = ana.post(f"/desk/tasks/{task_id}/wrap-up", code="resolved", notes="Pagará el lunes")
    assert done.status_code == 200 and "Cierre guardado" in done.text
    twice = ana.post(f"/desk/tasks/{task_id}/wrap-up", code="follow_up", notes="otra vez")
    assert twice.status_code == 409 and "ya estaba cerrado" in twice.text
    finished = task(ctx, task_id)
    assert finished.state == "completed"
    assert finished.result == {"disposition": "resolved", "notes": "Pagará el lunes"}
    [delivery] = crm_writes(ctx)  # S2: the CRM connector's outbox got the outcome once
    outcome = delivery["data"]["properties"]
    assert (outcome["disposition"], outcome["notes"], outcome["agent_id"]) == (
        "resolved", "Pagará el lunes", "ana")


def test_forged_csrf_changes_nothing(desk: tuple[Api, AppContext]) -> None:
    api, ctx = desk
    ana = Desk(api, "ana")
    refused = ana.post("/desk/presence", token="forged" * 5, presence="available")
    assert refused.status_code == 403 and "Solicitud rechazada" in refused.text
    assert ok(api.get("/v1/agents/ana"))["presence"] == "offline"
    ana.available()
    task_id = call(api)
    forged = ana.post(f"/desk/tasks/{task_id}/accept", token="x" * 40)
    assert forged.status_code == 403 and task(ctx, task_id).state == "reserved"
    plain = ana.client.post(f"/desk/tasks/{task_id}/accept", data={})  # no token, no htmx
    assert plain.status_code == 403 and "Solicitud rechazada" in plain.text
    assert task(ctx, task_id).state == "reserved"


def test_an_agent_cannot_act_on_another_agents_task(desk: tuple[Api, AppContext]) -> None:
    api, ctx = desk
    beto = Desk(api, "beto")
    beto.available()
    task_id = call(api)
    assert task(ctx, task_id).agent_id == "beto"
    ana = Desk(api, "ana")
    for action, data in (("accept", {}), ("reject", {}), ("end", {}),
                         ("wrap-up", {"code": "resolved"})):
        crafted = ana.post(f"/desk/tasks/{task_id}/{action}", **data)
        assert crafted.status_code == 403, (action, crafted.text)
        assert "Esa tarea no es suya" in crafted.text
    after = task(ctx, task_id)
    assert (after.state, after.agent_id) == ("reserved", "beto")
    beto.post(f"/desk/tasks/{task_id}/accept")
    assert ana.post(f"/desk/tasks/{task_id}/wrap-up", code="resolved").status_code == 403
    assert ana.post("/desk/tasks/nonexistent/accept").status_code == 404
    assert crm_writes(ctx) == []


def test_an_offer_withdrawn_or_expired_while_accepting_says_so(
        desk: tuple[Api, AppContext], clock: FixedClock) -> None:
    api, ctx = desk
    ana = Desk(api, "ana")
    ana.available()
    withdrawn = call(api)
    ok(api.post(f"/v1/tasks/{withdrawn}/cancel", json={"reason": "colgó"}))
    late = ana.post(f"/desk/tasks/{withdrawn}/accept")
    assert late.status_code == 409 and "La oferta se ha retirado" in late.text
    assert task(ctx, withdrawn).state == "canceled"

    expiring = call(api, phone="600333444")
    assert task(ctx, expiring).agent_id == "ana"
    clock.advance(timedelta(seconds=25))  # past the 20 s reservation
    expired = ana.post(f"/desk/tasks/{expiring}/accept")
    assert expired.status_code == 409 and "La oferta caducó" in expired.text
    assert task(ctx, expiring).state == "reserved"  # the expiry sweep returns it, not us


def test_the_stream_shows_the_standing_offer_and_sends_an_ended_session_to_sign_in(
        desk: tuple[Api, AppContext], monkeypatch: pytest.MonkeyPatch) -> None:
    from circulo.web import desk as desk_module

    monkeypatch.setattr(desk_module, "SESSION_EVERY", 0.2)
    api, ctx = desk
    assert api.client.get("/desk/stream").status_code == 401  # no session: no stream
    ana = Desk(api, "ana")
    ana.available()
    task_id = call(api)
    with ana.client.stream("GET", "/desk/stream") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = read_events(stream)
        name, first = next(events)
        # a (re)connection starts with what stands: the offer is there
        assert name == "work" and f'id="task-{task_id}"' in first
        with ctx.db.unit_of_work() as session:
            user = users.find_user(session, "ana")
            assert user is not None
            users.sign_out_everywhere(session, user.id, ctx.clock.now() + timedelta(seconds=1))
        assert next(events) == ("signin", "/sign-in")  # and the stream ends
        assert next(events, None) is None


def read_events(stream: Any) -> Iterator[tuple[str, str]]:
    name, data = "", []
    for line in stream.iter_lines():
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif not line.strip() and name:
            yield name, "\n".join(data)
            name, data = "", []


def test_an_offer_withdrawn_under_an_open_page_disappears_with_a_message(
        desk: tuple[Api, AppContext]) -> None:
    api, _ = desk
    ana = Desk(api, "ana")
    ana.available()
    task_id = call(api)
    with ana.client.stream("GET", "/desk/stream") as stream:
        events = read_events(stream)
        name, first = next(events)
        assert name == "work" and f'id="task-{task_id}"' in first
        ok(api.post(f"/v1/tasks/{task_id}/cancel", json={"reason": "colgó"}))
        assert next(events) == ("notice", "Se ha retirado una oferta: el cliente colgó o se "
                                          "canceló.")
        name, after = next(events)
        assert name == "work" and task_id not in after and 'id="nothing"' in after
        last_seen = ok(api.get("/v1/agents/ana"))["last_seen"]
        assert last_seen is not None  # the open stream keeps the agent's heartbeat


def test_click_to_dial_creates_the_outbound_call_in_the_agents_hands(
        desk: tuple[Api, AppContext]) -> None:
    api, ctx = desk
    ana = Desk(api, "ana")
    offline = ana.post("/desk/dial", phone="+34 600 999 888")
    assert offline.status_code == 409 and "Póngase disponible" in offline.text
    ana.available()
    assert ana.post("/desk/dial", phone="call me", request_id="r-000001").status_code == 422
    dialed = ana.post("/desk/dial", phone="+34 600 999 888", request_id="r-000002")
    assert dialed.status_code == 200 and "Llamada saliente creada" in dialed.text
    assert "Esperó" not in dialed.text  # nobody waited for the agent's own call
    # the same form submitted twice (a double click) is one call
    again = ana.post("/desk/dial", phone="+34 600 999 888", request_id="r-000002")
    assert again.status_code == 200
    [mine] = ok(api.get("/v1/agents/ana/tasks"))  # type: ignore[arg-type]
    assert (mine["kind"], mine["state"], mine["channel"]) == ("contact", "assigned", "voice")
    assert mine["attributes"]["direction"] == "outbound"
    assert mine["customer_id"] and mine["reason"] == "click_to_dial"
    # already on a call: nothing created
    busy = ana.post("/desk/dial", phone="600 123 123", request_id="r-000003")
    assert busy.status_code == 409 and "sin otra llamada" in busy.text
    with ctx.db.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(TaskRow)) == 1


def test_a_user_without_an_agent_is_told_and_cannot_act(desk: tuple[Api, AppContext]) -> None:
    api, _ = desk
    sara = Desk(api, "sara")
    page = sara.client.get("/desk").text
    assert "no es un agente de enrutamiento" in page and 'id="presence"' not in page
    refused = sara.post("/desk/presence", presence="available")
    assert refused.status_code == 403 and "no es un agente" in refused.text


def test_wrapup_codes_are_checked_in_the_policy() -> None:
    twice = POLICY.replace("{code: follow_up,", "{code: resolved,")
    with pytest.raises(PolicyError, match="appears twice"):
        parse_yaml(twice)
    with pytest.raises(PolicyError, match="wrapup_codes"):
        parse_yaml(POLICY.replace("code: follow_up", "code: Follow Up"))
    codes = parse_yaml(POLICY).queues["general"].wrapup_codes
    assert [(c.code, c.label("en")) for c in codes] == [("resolved", "Resolved"),
                                                        ("follow_up", "Needs follow-up")]


def test_a_user_whose_agent_routing_does_not_know_gets_a_message_not_an_error(
        desk: tuple[Api, AppContext]) -> None:
    api, ctx = desk
    with ctx.db.unit_of_work() as session:
        users.create_user(session, users.UserSpec(
            username="eva", name="Eva", role="agent", agent_id="eva", language="en"),
            PASSWORD, ctx.clock.now())
    eva = Desk(api, "eva")
    assert eva.client.get("/desk/work").status_code == 200
    refused = eva.post("/desk/presence", presence="available")
    assert refused.status_code == 409 and "Your user is not an agent" in refused.text
    assert api.client.get("/desk/work").status_code == 401


def test_an_action_after_the_session_ended_sends_the_page_to_sign_in(
        desk: tuple[Api, AppContext]) -> None:
    api, ctx = desk
    ana = Desk(api, "ana")
    ana.available()
    task_id = call(api)
    with ctx.db.unit_of_work() as session:
        user = users.find_user(session, "ana")
        assert user is not None
        users.sign_out_everywhere(session, user.id, ctx.clock.now() + timedelta(seconds=1))
    late = ana.post(f"/desk/tasks/{task_id}/accept")  # htmx: 401 and where to go
    assert late.status_code == 401 and late.headers["hx-redirect"] == "/sign-in"
    plain = ana.client.post(f"/desk/tasks/{task_id}/accept", data={"csrf_token": ana.csrf})
    assert plain.status_code == 303 and plain.headers["location"] == "/sign-in"
    assert ana.client.get("/desk/stream").status_code == 401
    assert task(ctx, task_id).state == "reserved"


def test_an_offer_that_expires_under_an_open_page_says_so(
        desk: tuple[Api, AppContext], clock: FixedClock) -> None:
    from circulo.routing import service

    api, ctx = desk
    ana = Desk(api, "ana")
    ana.available()
    task_id = call(api)
    with ana.client.stream("GET", "/desk/stream") as stream:
        events = read_events(stream)
        assert f'id="task-{task_id}"' in next(events)[1]
        clock.advance(timedelta(seconds=21))  # past the queue's 20 s reservation
        with ctx.db.unit_of_work() as session:  # what routing's sweep does
            assert service.expire_offer(session, task_id, clock.now())
        assert next(events) == ("notice", "La oferta caducó sin respuesta: ha vuelto a la "
                                          "cola.")
        assert task_id not in next(events)[1]
