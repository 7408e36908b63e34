"""The customer side of the desk (issue 16; S1, S12) without a browser: the panel fragment
and page, search, notes, viewers, suggestions, who is calling; and the faults: an expired
session, a forged CSRF token, a double click, another agent's task, an unknown customer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from circulo.app import create_app
from circulo.clock import FixedClock
from circulo.context import AppContext
from circulo.customers import desk
from circulo.customers.models import Event
from circulo.journeys.models import Suggestion
from circulo.privacy import erasure
from tests.conftest import Api, make_key
from tests.web.customer_world import PASSWORD, World, build, make_users, ring_shared


@pytest.fixture
def app_client(ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx.settings, ctx=ctx), follow_redirects=False) as client:
        yield client


@pytest.fixture
def world(ctx: AppContext, app_client: TestClient) -> World:
    make_users(ctx.db, ctx.clock.now())
    api = Api(app_client, make_key(ctx, ["admin"]))
    return build(api.post, lambda url, **kw: app_client.put(
        url, headers={**api.headers, **kw.pop("headers", {})}, **kw), ctx.clock.now())


def sign_in(ctx: AppContext, client: TestClient, username: str = "ana") -> str:
    """A signed-in browser of its own (cookie jar); answers the session's CSRF token."""
    form = client.get("/sign-in")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token
    answer = client.post("/sign-in", data={"username": username, "password": PASSWORD,
                                           "login_token": token.group(1)})
    assert answer.status_code == 303, answer.text
    page = client.get("/desk")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    return csrf.group(1)


def other_browser(ctx: AppContext) -> TestClient:
    return TestClient(create_app(ctx.settings, ctx=ctx), follow_redirects=False)


HX = {"HX-Request": "true"}


def test_panel_shows_badges_dispute_before_history_ivr_words_activity_and_wait(
        ctx: AppContext, app_client: TestClient, world: World, clock: FixedClock) -> None:
    sign_in(ctx, app_client)
    clock.advance(timedelta(minutes=12))
    panel = app_client.get(f"/desk/customers/{world.maria}/panel?task={world.task}",
                           headers=HX)
    assert panel.status_code == 200, panel.text
    html = panel.text
    assert "<html" not in html  # a fragment
    assert "María López" in html
    assert re.search(r'class="badge badge-gold" data-code="vip">VIP<', html)
    assert 'data-code="open_dispute"' in html
    assert html.index('id="cust-records"') < html.index('id="cust-timeline"')
    assert "D-77" in html and "Cargo duplicado" in html
    assert "cargo duplicado en la factura" in html and "F-2291" in html  # the IVR
    assert "Ha esperado 12 minutos" in html
    assert "Segundo contacto sobre esto hoy" in html  # the call about "factura" earlier
    assert "Facturas" in html and "tienda.example/cuenta/facturas" in html  # the website
    assert "Nadie más está viendo este cliente." in html
    assert panel.headers["content-security-policy"].startswith("default-src 'self'")
    assert ' style=' not in html and "<script" not in html


def test_the_panel_in_english_and_the_full_page(ctx: AppContext, app_client: TestClient,
                                                 world: World) -> None:
    sign_in(ctx, app_client)
    page = app_client.get(f"/desk/customers/{world.maria}?lang=en")
    assert page.status_code == 200
    assert '<html lang="en">' in page.text and "What they already said" in page.text
    assert "/static/web/cust.css" in page.text and 'id="customer"' in page.text


def test_timeline_filtered_by_channel(ctx: AppContext, app_client: TestClient,
                                      world: World) -> None:
    sign_in(ctx, app_client)
    everything = app_client.get(f"/desk/customers/{world.maria}/timeline", headers=HX).text
    assert "Consulta sobre mi pedido" in everything and "factura" in everything
    email = app_client.get(f"/desk/customers/{world.maria}/timeline?channel=email",
                           headers=HX).text
    assert "Consulta sobre mi pedido" in email and "Llamada atendida" not in email
    nothing = app_client.get(f"/desk/customers/{world.maria}/timeline?channel=sms",
                             headers=HX).text
    assert "Nada en este canal." in nothing


def test_notes_are_shared_and_a_double_click_writes_one(ctx: AppContext,
                                                        app_client: TestClient,
                                                        world: World) -> None:
    csrf = sign_in(ctx, app_client)
    form = {"csrf_token": csrf, "note_id": "n-form-1",
            "text": "Prefiere que la llamen por la tarde"}
    first = app_client.post(f"/desk/customers/{world.maria}/notes", data=form, headers=HX)
    again = app_client.post(f"/desk/customers/{world.maria}/notes", data=form, headers=HX)
    assert first.status_code == again.status_code == 200
    assert again.text.count("Prefiere que la llamen por la tarde") == 1
    with ctx.db.unit_of_work(write=False) as session:
        notes = desk.notes_of(session, world.maria)
    assert [(n.author, n.text) for n in notes] == [("Ana Pérez",
                                                     "Prefiere que la llamen por la tarde")]
    with other_browser(ctx) as luis:
        sign_in(ctx, luis, "luis")
        seen = luis.get(f"/desk/customers/{world.maria}/panel", headers=HX).text
        assert "Prefiere que la llamen por la tarde" in seen and "por Ana Pérez" in seen
        # 10:00 UTC is 11:00 in Madrid, the users' zone
        assert ">11:00<" in seen
    empty = app_client.post(f"/desk/customers/{world.maria}/notes",
                            data={**form, "note_id": "n-form-2", "text": "   "}, headers=HX)
    assert empty.status_code == 422 and "entre 1 y 2000" in empty.text


def test_forged_csrf_and_expired_session_change_nothing(ctx: AppContext,
                                                        app_client: TestClient,
                                                        world: World, clock: FixedClock) -> None:
    sign_in(ctx, app_client)
    forged = app_client.post(f"/desk/customers/{world.maria}/notes", headers=HX,
                             data={"csrf_token": "forged", "note_id": "x", "text": "hola"})
    assert forged.status_code == 403 and "Solicitud rechazada" in forged.text
    with ctx.db.unit_of_work(write=False) as session:
        assert desk.notes_of(session, world.maria) == []
    clock.advance(timedelta(seconds=ctx.settings.session_lifetime + 60))
    expired = app_client.get(f"/desk/customers/{world.maria}/viewers", headers=HX)
    assert expired.status_code == 401 and expired.headers["hx-redirect"] == "/sign-in"
    assert "Su sesión ha caducado" in expired.text
    page = app_client.get(f"/desk/customers/{world.maria}")
    assert page.status_code == 303 and page.headers["location"] == "/sign-in"


def test_who_else_is_looking_expires_after_30_seconds(ctx: AppContext, app_client: TestClient,
                                                      world: World, clock: FixedClock) -> None:
    sign_in(ctx, app_client)
    app_client.get(f"/desk/customers/{world.maria}/panel", headers=HX)
    with other_browser(ctx) as luis:
        sign_in(ctx, luis, "luis")
        seen = luis.get(f"/desk/customers/{world.maria}/viewers", headers=HX).text
        assert "Ana Pérez también está viendo este cliente" in seen
        clock.advance(timedelta(seconds=31))
        assert "Nadie más" in luis.get(f"/desk/customers/{world.maria}/viewers",
                                       headers=HX).text
        app_client.get(f"/desk/customers/{world.maria}/viewers", headers=HX)  # heartbeat
        assert "Ana Pérez también" in luis.get(f"/desk/customers/{world.maria}/viewers",
                                               headers=HX).text


def test_unknown_customer_is_a_404_with_a_message(ctx: AppContext, app_client: TestClient,
                                                  world: World) -> None:
    sign_in(ctx, app_client)
    fragment = app_client.get("/desk/customers/nobody/panel", headers=HX)
    assert fragment.status_code == 404 and "no existe" in fragment.text
    page = app_client.get("/desk/customers/nobody")
    assert page.status_code == 404 and '<html lang="es">' in page.text and "no existe" in page.text
    assert app_client.get("/desk/tasks/nope/who", headers=HX).status_code == 404


@pytest.mark.parametrize("query", ["0034 600 12 34 56", "600123456", "+34 600 123 456",
                                   "MARIA@example.com", "maría", "López", "crm:C-1",
                                   "C-1"])
def test_search_finds_maria_however_she_is_asked_for(ctx: AppContext, app_client: TestClient,
                                                     world: World, query: str) -> None:
    sign_in(ctx, app_client)
    hits = app_client.get("/desk/search", params={"q": query}, headers=HX)
    if query == "C-1":  # a CRM id is not an account number: nothing, and said so
        assert "Ningún cliente coincide" in hits.text
        return
    assert hits.status_code == 200
    assert f'href="/desk/customers/{world.maria}"' in hits.text, hits.text
    page = app_client.get("/desk/search", params={"q": query})
    assert '<html lang="es">' in page.text and "María López" in page.text


def test_search_by_customer_number(ctx: AppContext, app_client: TestClient,
                                   world: World) -> None:
    sign_in(ctx, app_client)
    hits = app_client.get("/desk/search", params={"q": world.maria}, headers=HX).text
    assert "por n.º de cliente" in hits and "María López" in hits


def test_suggestion_accept_is_recorded_once(ctx: AppContext, app_client: TestClient,
                                            world: World) -> None:
    now = ctx.clock.now()
    with ctx.db.unit_of_work() as session:
        session.add(Suggestion(id="s-1", customer_id=world.maria, journey="winback",
                               code="offer_refund",
                               text={"es": "Ofrezca el reembolso del cargo",
                                     "en": "Offer to refund the charge"},
                               status="open", created_at=now,
                               expires_at=now + timedelta(days=1)))
    csrf = sign_in(ctx, app_client)
    assert "Ofrezca el reembolso" in app_client.get(
        f"/desk/customers/{world.maria}/panel", headers=HX).text
    url = f"/desk/customers/{world.maria}/suggestions/s-1/accepted"
    first = app_client.post(url, data={"csrf_token": csrf}, headers=HX)
    second = app_client.post(url, data={"csrf_token": csrf}, headers=HX)
    assert first.status_code == second.status_code == 200
    assert "Aceptada" in first.text and "Ofrezca el reembolso" not in first.text
    with ctx.db.unit_of_work(write=False) as session:
        accepted = session.query(Event).filter(Event.type == "suggestion.accepted").all()
    assert len(accepted) == 1 and accepted[0].properties["by"] == "agent:ana"
    dismissed = app_client.post(f"/desk/customers/{world.maria}/suggestions/s-1/dismissed",
                                data={"csrf_token": csrf}, headers=HX)
    assert dismissed.status_code == 409 and "ya no está disponible" in dismissed.text


def test_ambiguous_caller_is_confirmed_only_by_the_agent_holding_the_task(
        ctx: AppContext, app_client: TestClient, world: World) -> None:
    api = Api(app_client, make_key(ctx, ["admin"], "pbx"))
    shared = ring_shared(api.post, "luis")
    ana_csrf = sign_in(ctx, app_client)
    who = app_client.get(f"/desk/tasks/{shared}/who", headers=HX)
    assert who.status_code == 200
    assert "Juan Ruiz" in who.text and "Pilar Ruiz" in who.text
    assert "Comparte teléfono +34911222333" in who.text
    assert "Solo el agente que tiene esta tarea" in who.text  # Ana sees, cannot choose
    refused = app_client.post(f"/desk/tasks/{shared}/who", headers=HX,
                              data={"csrf_token": ana_csrf, "customer_id": world.juan})
    assert refused.status_code == 403
    with other_browser(ctx) as luis:
        luis_csrf = sign_in(ctx, luis, "luis")
        who = luis.get(f"/desk/tasks/{shared}/who", headers=HX).text
        assert f'name="customer_id" value="{world.pilar}"' in who
        forged = luis.post(f"/desk/tasks/{shared}/who", headers=HX,
                           data={"csrf_token": ana_csrf, "customer_id": world.pilar})
        assert forged.status_code == 403
        assert _task_customer(ctx, shared) is None  # nothing linked unasked
        wrong = luis.post(f"/desk/tasks/{shared}/who", headers=HX,
                          data={"csrf_token": luis_csrf, "customer_id": world.maria})
        assert wrong.status_code == 409 and "no es uno de los candidatos" in wrong.text
        chosen = luis.post(f"/desk/tasks/{shared}/who", headers=HX,
                           data={"csrf_token": luis_csrf, "customer_id": world.pilar})
        assert chosen.status_code == 200 and "Pilar Ruiz" in chosen.text
        assert 'id="cust-panel"' in chosen.text
        twice = luis.post(f"/desk/tasks/{shared}/who", headers=HX,
                          data={"csrf_token": luis_csrf, "customer_id": world.pilar})
        assert twice.status_code == 200  # a double click: the same answer
        other = luis.post(f"/desk/tasks/{shared}/who", headers=HX,
                          data={"csrf_token": luis_csrf, "customer_id": world.juan})
        assert other.status_code == 409 and "ya tiene otro cliente" in other.text
    assert _task_customer(ctx, shared) == world.pilar
    with ctx.db.unit_of_work(write=False) as session:
        confirmed = session.query(Event).filter(Event.type == "identity.confirmed").all()
        queued = session.query(Event).filter(Event.client_id == f"{shared}:queued").one()
    assert len(confirmed) == 1 and confirmed[0].profile_id == world.pilar
    assert confirmed[0].properties["confirmed_by"] == "agent:luis"
    assert queued.profile_id == world.pilar and queued.resolution == "confirmed"
    timeline = app_client.get(f"/desk/customers/{world.pilar}/timeline", headers=HX).text
    assert "El agente confirmó quién llamaba" in timeline
    # once known, "who" answers the customer's panel
    assert 'id="cust-panel"' in app_client.get(f"/desk/tasks/{shared}/who", headers=HX).text


def test_unknown_number_is_a_new_caller(ctx: AppContext, app_client: TestClient,
                                        world: World) -> None:
    api = Api(app_client, make_key(ctx, ["admin"], "pbx"))
    api.post("/v1/agents/luis/presence", json={"presence": "available"})
    task = api.post("/v1/tasks", json={"queue": "general", "channel": "voice",
                                       "identifiers": {"phone": "+34655000111"}}).json()
    sign_in(ctx, app_client)
    who = app_client.get(f"/desk/tasks/{task['id']}/who", headers=HX)
    assert who.status_code == 200 and "Llamante nuevo" in who.text
    assert 'name="customer_id"' not in who.text


def _task_customer(ctx: AppContext, task_id: str) -> str | None:
    from circulo.routing import service as routing
    with ctx.db.unit_of_work(write=False) as session:
        return routing.get_task(session, task_id).customer_id


def test_erasure_removes_notes_and_viewers(ctx: AppContext, world: World) -> None:
    now = ctx.clock.now()
    with ctx.db.unit_of_work() as session:
        desk.add_note(session, world.maria, "nota", author_id="u", author_name="Ana",
                      now=now)
        desk.look(session, world.maria, user_id="u", name="Ana", now=now)
    with ctx.db.unit_of_work() as session:
        result = erasure.erase(session, world.maria, ctx.settings, now)
    assert result.removed["customer_notes"] == 1 and result.removed["customer_viewers"] == 1


def test_notes_without_javascript_post_and_come_back_to_the_page(
        ctx: AppContext, app_client: TestClient, world: World) -> None:
    csrf = sign_in(ctx, app_client)
    url = f"/desk/customers/{world.maria}/notes"
    sent = app_client.post(url, data={"csrf_token": csrf, "note_id": "n-1", "text": "Sin JS"})
    assert sent.status_code == 303 and sent.headers["location"] == \
        f"/desk/customers/{world.maria}"
    assert "Sin JS" in app_client.get(sent.headers["location"]).text
    forged = app_client.post(url, data={"csrf_token": "x", "note_id": "n-2", "text": "no"})
    assert forged.status_code == 403 and '<html lang="es">' in forged.text
    assert "Solicitud rechazada" in forged.text


def test_the_timeline_shows_what_reading_each_message_found(ctx: AppContext,
                                                           app_client: TestClient,
                                                           world: World) -> None:
    from circulo.textan.worker import worker_of

    api = Api(app_client, make_key(ctx, ["admin"]))
    api.send({"type": "email.received", "source": "mail", "channel": "email",
              "identifiers": {"email": "maria@example.com"},
              "properties": {"subject": "Cargo duplicado",
                             "text": "Me habéis cobrado dos veces, es una vergüenza. Mi tarjeta "
                                     "es 4111 1111 1111 1111 y hablaré con mi abogado."}})
    sign_in(ctx, app_client)
    before = app_client.get(f"/desk/customers/{world.maria}/timeline", headers=HX).text
    assert "text-badge" not in before  # not read yet: the message, without badges
    worker_of(ctx).run_until_idle()
    spanish = app_client.get(f"/desk/customers/{world.maria}/timeline", headers=HX).text
    assert "☹</span> Negativo" in spanish
    assert "⚠</span> Urgente: amenaza legal" in spanish
    assert "Motivo: Cargo no reconocido" in spanish
    assert "4111 1111 1111 1111" not in spanish  # the redacted words are shown
    assert "Mensaje analizado" not in spanish  # no line of its own for the analysis
    english = app_client.get(f"/desk/customers/{world.maria}/timeline?lang=en",
                             headers=HX).text
    assert "Negative" in english and "Urgent: legal threat" in english
    assert "Reason: Unrecognised charge" in english
