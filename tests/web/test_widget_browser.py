"""The CRM widget in a real browser (issue 16, item 4; S5). The sample CRM page
(examples/crm-widget) is served by its own little server on another site (localhost, while
Círculo is 127.0.0.1), with a strict CSP that allows only Círculo's origin, and the widget's
one script tag. Its phone numbers become buttons; a click (a double click) creates one
outbound call in Círculo for the agent, with the page's CRM record; the wrap-up reaches the
CRM connector carrying that record (and the fake CRM receives the activity); a call offered
to the agent through the API shows the banner, which accepts, hangs up and wraps up. axe-core
finds nothing serious with the widget on the page, and the console stays clean (a script or
style the CSP blocked would be an error there)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from circulo.auth import service as auth
from circulo.auth import users, widget_tokens
from circulo.auth.models import WidgetToken
from circulo.connectors.models import OutboxMessage
from circulo.context import AppContext
from circulo.db import Database
from tests.live import free_port, serve_on
from tests.routing.helpers import POLICY
from tests.web.browser import ROOT, VIEWPORT, live_server, own_database, screenshot
from tests.web.widget_helpers import crm_config

PASSWORD = "correct horse battery"
AGENT = {"skills": {"billing": 3}, "languages": ["es"], "queues": ["general"]}

pytestmark = pytest.mark.browser


def _sample() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "crm_widget_sample", ROOT / "examples/crm-widget/serve.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@contextmanager
def sample_crm(circulo: str, key: str, user: str, port: int) -> Iterator[Any]:
    """The fake CRM of examples/crm-widget on its own port, in a thread."""
    sample = _sample()
    crm = sample.Crm(circulo, key, user)
    server = sample.make_server(crm, port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield crm
    finally:
        server.shutdown()
        server.server_close()


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def axe_violations(page: Any, base: str) -> list[dict[str, Any]]:
    """axe-core loaded from Círculo's origin, which the CRM page's CSP allows (an inline
    copy would be refused, as it should be)."""
    page.add_script_tag(url=f"{base}/static/web/vendor/axe.min.js")
    found: list[dict[str, Any]] = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.map(v => ({id: v.id, impact: v.impact,
            nodes: v.nodes.map(n => n.target.join(' '))}));
    }""")
    return [v for v in found if v["impact"] in ("serious", "critical")]


def _setup(db: Database, ctx: AppContext) -> tuple[str, str]:
    with db.unit_of_work() as session:
        users.create_user(session, users.UserSpec(
            username="ana", name="Ana Pérez", role="agent", agent_id="ana", language="es"),
            PASSWORD, ctx.clock.now())
        _, admin = auth.create_key(session, "ops", ["admin"], ctx.clock.now())
        _, widget = auth.create_key(session, "acme-crm", ["widget"], ctx.clock.now())
    return admin, widget


def _outbox(db: Database) -> list[dict[str, Any]]:
    with db.unit_of_work(write=False) as session:
        return [row.payload["data"] for row in session.scalars(select(OutboxMessage).where(
            OutboxMessage.destination == "crm:samplecrm").order_by(OutboxMessage.created_at))]


def test_widget_in_a_crm_page_dials_shows_the_banner_and_wraps_up_to_the_record(
        ctx: AppContext, browser: Any, tmp_path: Path) -> None:
    crm_port = free_port()
    crm_site = f"http://localhost:{crm_port}"
    connectors = crm_config(tmp_path / "crm.yaml", f"http://127.0.0.1:{crm_port}")
    with own_database(ctx, tmp_path) as db:
        admin, widget_key = _setup(db, ctx)
        with live_server(db.url, cli=True, CIRCULO_WIDGET_ORIGINS=crm_site,
                         CIRCULO_CRM_CONNECTORS=str(connectors)) as base, \
                httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin}"},
                             timeout=10) as api, \
                sample_crm(base, widget_key, "ana", crm_port) as crm:
            assert api.put("/v1/routing/policy", content=POLICY, headers={
                "Content-Type": "application/yaml"}).status_code == 200
            assert api.put("/v1/agents/ana", json=AGENT).status_code == 200
            # the CRM's page enforces its CSP: no bypass here
            context = browser.new_context(viewport=VIEWPORT, locale="es-ES")
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            try:
                dials_and_wraps_up(page, base, crm_site, api, db, crm, tmp_path)
                takes_an_incoming_call(page, base, api, db, tmp_path)
            finally:
                context.close()
            assert errors == [], "\n".join(errors)


def dials_and_wraps_up(page: Any, base: str, crm_site: str, api: httpx.Client, db: Database,
                       crm: Any, tmp_path: Path) -> None:
    page.goto(f"{crm_site}/")
    widget = page.get_by_role("region", name="Círculo: llamadas")
    widget.get_by_text("Sin llamadas. Pulse un número para llamar.").wait_for()
    mobile = page.get_by_role("button", name="Llamar a +34 600 123 456")
    office = page.get_by_role("button", name="Llamar a 912 345 678")
    assert mobile.is_visible() and office.is_visible()
    # a date, an amount and an e-mail stay text
    assert page.locator("button.circulo-dial").count() == 2
    assert axe_violations(page, base) == []
    screenshot(page, "widget-crm.png", tmp_path)

    mobile.dblclick()  # a double click dials once
    widget.get_by_role("heading", name="Llamada saliente").wait_for()
    assert widget.get_by_text("Ficha del CRM: C-4711").is_visible()
    tasks = api.get("/v1/tasks", params={"agent_id": "ana"}).json()
    assert len(tasks) == 1, tasks
    call = tasks[0]
    assert call["state"] == "assigned" and call["channel"] == "voice"
    assert call["attributes"]["crm_record"] == "C-4711"
    assert call["attributes"]["direction"] == "outbound"

    widget.get_by_role("button", name="Colgar").click()
    widget.get_by_role("heading", name="Cierre de la llamada").wait_for()
    widget.get_by_label("Código de cierre").select_option(label="Venta")
    widget.get_by_label("Notas").fill("Acepta la renovación de tarifa")
    assert axe_violations(page, base) == []
    widget.get_by_role("button", name="Guardar en la ficha").dblclick()  # submitted twice
    widget.get_by_text("Cierre guardado en la ficha").wait_for()
    assert api.get(f"/v1/tasks/{call['id']}").json()["outcome"] == "sale"
    deliveries = _outbox(db)
    assert len(deliveries) == 1, deliveries  # saved once
    assert deliveries[0]["properties"]["crm_record"] == "C-4711"
    assert deliveries[0]["properties"]["disposition"] == "sale"
    # the outbox worker logs it on the record in the (fake) CRM, which its page lists
    assert wait_for(lambda: crm.activities), "the CRM got no activity"
    assert crm.activities[0]["contact"] == "C-4711"
    assert crm.activities[0]["outcome"] == "sale"
    page.locator("#activities").get_by_text("C-4711 · sale").wait_for()


def takes_an_incoming_call(page: Any, base: str, api: httpx.Client, db: Database,
                           tmp_path: Path) -> None:
    assert api.post("/v1/agents/ana/presence",
                    json={"presence": "available"}).status_code == 200
    created = api.post("/v1/tasks", json={"queue": "general", "channel": "voice",
                                          "identifiers": {"phone": "+34611222333"}})
    assert created.status_code == 201, created.text
    widget = page.get_by_role("region", name="Círculo: llamadas")
    widget.get_by_role("heading", name="Llamada entrante").wait_for()
    assert widget.get_by_text("+34611222333").is_visible()
    assert widget.get_by_text("Cola: general").is_visible()
    assert widget.get_by_text("Cierre guardado en la ficha").count() == 0  # a new call
    assert axe_violations(page, base) == []
    screenshot(page, "widget-banner.png", tmp_path)

    widget.get_by_role("button", name="Aceptar").focus()  # by keyboard
    page.keyboard.press("Enter")
    widget.get_by_role("heading", name="Llamada en curso").wait_for()
    assert api.get(f"/v1/tasks/{created.json()['id']}").json()["state"] == "assigned"
    widget.get_by_role("button", name="Colgar").click()
    widget.get_by_label("Código de cierre").select_option("resolved")
    widget.get_by_role("button", name="Guardar en la ficha").click()
    widget.get_by_text("Cierre guardado en la ficha").wait_for()
    # an incoming call wrapped up on a CRM page goes to that page's record
    assert wait_for(lambda: len(_outbox(db)) == 2)
    assert _outbox(db)[1]["properties"]["crm_record"] == "C-4711"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=30)


def test_widget_faults_withdrawn_offer_restart_new_token_expired_user_in_english(
        ctx: AppContext, browser: Any, tmp_path: Path) -> None:
    crm_port, port = free_port(), free_port()
    crm_site, base = f"http://localhost:{crm_port}", f"http://127.0.0.1:{port}"
    env = {"CIRCULO_WIDGET_ORIGINS": crm_site}
    with own_database(ctx, tmp_path) as db:
        admin, widget_key = _setup(db, ctx)
        server = serve_on(db.url, port, **env)
        try:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin}"},
                              timeout=10) as api, \
                    sample_crm(base, widget_key, "ana", crm_port):
                assert api.put("/v1/routing/policy", content=POLICY, headers={
                    "Content-Type": "application/yaml"}).status_code == 200
                assert api.put("/v1/agents/ana", json=AGENT).status_code == 200
                context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
                page = context.new_page()
                errors: list[str] = []
                page.on("console", lambda m: errors.append(m.text)
                        if m.type == "error" else None)
                try:
                    withdrawn_offer(page, crm_site, api)
                    server = survives_a_restart(page, crm_site, server, db.url, port, env)
                    renews_and_loses_its_token(page, db, ctx)
                finally:
                    context.close()
                # the failures provoked (401, 409, 502, refused connections) and nothing else:
                # no script or style blocked by the CRM's CSP
                assert [e for e in errors if not any(
                    known in e for known in ("401", "409", "502", "ERR_CONNECTION_REFUSED",
                                             "Failed to fetch"))] == [], errors
        finally:
            _stop(server)


def withdrawn_offer(page: Any, crm_site: str, api: httpx.Client) -> None:
    assert api.post("/v1/agents/ana/presence",
                    json={"presence": "available"}).status_code == 200
    created = api.post("/v1/tasks", json={"queue": "general", "channel": "voice",
                                          "identifiers": {"phone": "+34611222333"}})
    assert created.status_code == 201
    # no polling: the banner shows what the page saw when it loaded
    page.goto(f"{crm_site}/?lang=en&poll=600000")
    widget = page.get_by_role("region", name="Círculo: calls")
    assert widget.get_attribute("lang") == "en"
    widget.get_by_role("heading", name="Incoming call").wait_for()
    assert api.post(f"/v1/tasks/{created.json()['id']}/cancel",
                    json={"reason": "caller hung up"}).status_code == 200
    widget.get_by_role("button", name="Accept").click()
    alert = widget.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text().startswith("The call is no longer available.")
    widget.get_by_role("heading", name="Incoming call").wait_for(state="detached")
    assert api.get(f"/v1/tasks/{created.json()['id']}").json()["state"] == "canceled"


def survives_a_restart(page: Any, crm_site: str, server: subprocess.Popen[bytes],
                       database_url: str, port: int, env: dict[str, str]
                       ) -> subprocess.Popen[bytes]:
    page.goto(f"{crm_site}/?lang=en&poll=300")
    widget = page.get_by_role("region", name="Círculo: calls")
    widget.get_by_text("No calls. Press a number to call it.").wait_for()
    _stop(server)
    widget.get_by_text("No connection to Círculo; retrying…").wait_for()
    server = serve_on(database_url, port, **env)
    widget.get_by_text("No connection to Círculo; retrying…").wait_for(state="detached")
    widget.get_by_text("No calls. Press a number to call it.").wait_for()
    return server


def renews_and_loses_its_token(page: Any, db: Database, ctx: AppContext) -> None:
    widget = page.get_by_role("region", name="Círculo: calls")
    minted = _tokens(db)  # one per page load so far
    with db.unit_of_work() as session:
        user = users.find_user(session, "ana")
        assert user is not None
        assert widget_tokens.revoke_of_user(session, user.id, ctx.clock.now()) >= 1
    # the next look gets 401, asks the CRM's backend for a new token and goes on
    assert wait_for(lambda: _tokens(db) == minted + 1), "no new token was minted"
    page.wait_for_timeout(700)  # two more looks with the new token
    assert widget.get_by_role("alert").count() == 0
    with db.unit_of_work() as session:
        users.disable_user(session, "ana", ctx.clock.now())
    alert = widget.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text() == "The widget's session has expired: reload the page."


def _tokens(db: Database) -> int:
    with db.unit_of_work(write=False) as session:
        return len(list(session.scalars(select(WidgetToken))))
