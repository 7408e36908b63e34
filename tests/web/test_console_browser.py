"""The supervisor console in a real browser (issue 16, scope 3 and 5; S13, S16): Debian's
Chromium driven by Playwright against a live server whose traffic arrives through the HTTP
API as other systems send it. The supervisor signs in, opens the console, watches a task
change "waiting" live, sees an angry customer and a VIP waiting raise alerts, acknowledges
one, moves an agent between queues, accepts a suggested duplicate and reads the journeys.
axe-core finds nothing serious on any screen and the browser logs no error."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from circulo.auth import service as auth
from circulo.context import AppContext
from tests.conftest import ok
from tests.console.helpers import PASSWORD, person
from tests.live import free_port, serve_on
from tests.routing.helpers import POLICY
from tests.web.browser import (
    live_server,
    own_database,
    page_of,
    screenshot,
    serious_violations,
)

pytestmark = pytest.mark.browser

CENTER = POLICY.replace("abandoned:", "  rescate: {channels: [voice]}\nabandoned:", 1)
AGENT = {"skills": {"billing": 3}, "languages": ["es", "en"], "site": "madrid"}
RESCUE = (Path(__file__).resolve().parents[2] / "examples/journeys/s10-low-score-rescue.yaml")


def now() -> str:
    return datetime.now(UTC).isoformat()


def traffic(base: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=10)



def center(api: httpx.Client) -> None:
    ok(api.put("/v1/routing/policy", content=CENTER,
               headers={"Content-Type": "application/yaml"}))
    for agent, name, queues in (("ana", "Ana Ruiz", ["callbacks"]),
                                ("luis", "Luis Gil", ["general", "vip"])):
        ok(api.put(f"/v1/agents/{agent}", json={"name": name, "queues": queues, **AGENT}))
    ok(api.post("/v1/agents/luis/presence", json={"presence": "away", "reason": "break"}))
    ok(api.post("/v1/events", json={"events": [
        {"type": "customer.updated", "source": "crm", "id": "vera",
         "identifiers": {"phone": "+34600000001"},
         "traits": {"name": "Vera Vip", "tier": "vip", "value": 9000}},
        {"type": "customer.updated", "source": "crm", "id": "rita",
         "identifiers": {"phone": "+34600000002"},
         "traits": {"name": "Rita Risk", "churn_risk": 0.85}},
        # two CRM contacts called Ana García on one mobile, born ten years apart
        {"type": "customer.updated", "source": "crm", "id": "ana-1",
         "identifiers": {"phone": "600 111 222", "email": "ana.1980@example.es"},
         "traits": {"name": "Ana García", "birthday": "1980-01-01"}},
    ]}))
    ok(api.post("/v1/events", json={"events": [
        {"type": "customer.updated", "source": "crm", "id": "ana-2",
         "identifiers": {"phone": "600 111 222", "email": "ana.1990@example.es"},
         "traits": {"name": "Ana García", "birthday": "1990-05-05"}}]}))


def cell(page: Any, row: str, column: str) -> Any:
    return page.locator(f"[id='row-{row}'] [data-col='{column}']")


def test_supervisor_console_live_board_alerts_reassign_and_identity(
        ctx: AppContext, browser: Any, tmp_path: Path) -> None:
    with own_database(ctx, tmp_path) as db:
        person(db, "sara", "supervisor", datetime.now(UTC))
        with db.unit_of_work() as session:
            _, key = auth.create_key(session, "crm", ["admin"], datetime.now(UTC))
        with live_server(db.url, CIRCULO_CONSOLE_INTERVAL="0.5",
                         CIRCULO_CONSOLE_VIP_WAIT_ALERT="3") as base, \
                traffic(base, key) as api, page_of(browser) as (page, errors):
            center(api)
            ok(api.post("/v1/journeys", params={"activate": "true"},
                        content=RESCUE.read_bytes(),
                        headers={"Content-Type": "application/yaml"}))
            supervises(page, errors, base, api, tmp_path)


def supervises(page: Any, errors: list[str], base: str, api: httpx.Client,
               tmp_path: Path) -> None:
    page.goto(f"{base}/sign-in")
    page.get_by_label("Nombre de usuario").fill("sara")
    page.get_by_label("Contraseña").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Iniciar sesión").click()
    page.get_by_role("navigation", name="Secciones").get_by_role("link", name="Consola").click()
    page.wait_for_url(f"{base}/console")
    waiting = cell(page, "q:general", "waiting")
    waiting.wait_for()
    assert waiting.inner_text() == "0"
    assert cell(page, "a:luis", "presence").inner_text() == "Ausente"
    assert page.locator("#live").inner_text().startswith("Actualizado a las")

    # A call arrives through the API as the telephony would send it: "waiting" moves live
    task = ok(api.post("/v1/tasks", json={"queue": "general", "channel": "voice",
                                          "identifiers": {"phone": "+34600000001"}}), 201)
    page.wait_for_function(
        "document.querySelector(\"[id='row-q:general'] [data-col='waiting']\")"
        ".textContent === '1'")
    assert cell(page, "c:vip", "waiting").inner_text() == "1"
    assert cell(page, "q:general", "vip_waiting").inner_text() == "1"

    # The chat analyser scores a line of hers negative: an angry customer
    ok(api.post("/v1/events", json={"events": [{
        "type": "chat.message", "source": "chat", "id": "line-1", "occurred_at": now(),
        "identifiers": {"phone": "+34600000001"},
        "properties": {"text": "¡Llevo media hora esperando!", "sentiment": "negative",
                       "task_id": task["id"]}}]}))
    alerts = page.locator("#alerts")
    angry = alerts.locator("li.alert-angry")
    angry.wait_for()
    assert angry.inner_text().startswith("Cliente enfadado: Vera Vip en general")
    # she has waited past the 3 s the server was given: a VIP waiting alert too
    vip = alerts.locator("li.alert-vip_wait")
    vip.wait_for()
    assert vip.inner_text().startswith("VIP esperando: Vera Vip espera en general desde las")
    assert serious_violations(page) == []
    screenshot(page, "console-alerts.png", tmp_path)
    page.evaluate("document.getElementById('queues-title').scrollIntoView()")  # the tables
    screenshot(page, "console-board.png", tmp_path)

    # Acknowledge the angry customer: gone from the board, the VIP alert stays
    page.get_by_role("button", name="Enterado: Cliente enfadado", exact=False).click()
    page.get_by_text("Alerta marcada como vista.").wait_for()
    page.locator("#alerts li.alert-vip_wait").wait_for()
    assert page.locator("#alerts li.alert-angry").count() == 0

    # Move Ana to the general queue: routing obeys at once
    page.get_by_label("Agente", exact=True).select_option("ana")
    page.get_by_label("Colas (separadas por comas)").fill("general, callbacks")
    page.get_by_role("button", name="Guardar colas").click()
    page.get_by_text("Ana Ruiz atiende ahora: general, callbacks.").wait_for()
    assert ok(api.get("/v1/agents/ana"))["queues"] == ["general", "callbacks"]
    ok(api.post("/v1/agents/ana/presence", json={"presence": "available"}))
    page.wait_for_function(
        "document.querySelector(\"[id='row-a:ana'] [data-col='state']\")"
        ".textContent === 'Con oferta'")  # Vera's call is offered to her
    assert cell(page, "a:ana", "queues").inner_text() == "general, callbacks"
    assert serious_violations(page) == []

    # The duplicate-review queue: the evidence, then accept
    page.get_by_role("link", name="Duplicados").click()
    page.wait_for_url(f"{base}/console/identity")
    assert page.get_by_role("heading", name="Ana García y Ana García").is_visible()
    assert page.get_by_role("cell", name="Discrepa").count() >= 1
    assert serious_violations(page) == []
    screenshot(page, "console-identity.png", tmp_path)
    page.get_by_role("button", name="Es la misma persona: fusionar").click()
    page.get_by_text("Fusionados: Ana García y Ana García.").wait_for()
    assert page.get_by_text("No hay sugerencias pendientes.").is_visible()
    merges = ok(api.get("/v1/merges"))["merges"]
    assert [(m["reason"], m["actor"]) for m in merges] == [("reviewed", "user:sara")]

    # A journey runs: its counters and what it did
    ok(api.post("/v1/events", json={"events": [{
        "type": "survey.answered", "source": "survey", "id": "score-1", "occurred_at": now(),
        "identifiers": {"phone": "+34600000001"}, "properties": {"csat": 1}}]}))
    ok(api.post("/v1/journeys/run"))
    page.get_by_role("link", name="Recorridos").click()
    page.wait_for_url(f"{base}/console/journeys")
    journey = page.get_by_role("region", name="Rescate tras mala nota")
    assert "Entradas" in journey.inner_text()
    assert journey.get_by_role("cell", name="add_to_list").count() == 1
    assert journey.get_by_role("cell", name="Vera Vip").count() == 3  # whom it touched
    assert serious_violations(page) == []
    screenshot(page, "console-journeys.png", tmp_path)

    # Signed out in another tab: the open board's stream ends and sends it to sign-in
    page.get_by_role("link", name="Tablero en vivo").click()
    cell(page, "q:general", "waiting").wait_for()
    other = page.context.new_page()
    other.goto(f"{base}/desk")
    other.get_by_role("button", name="Cerrar sesión").click()
    other.wait_for_url(f"{base}/sign-in")
    page.wait_for_url(f"{base}/sign-in")
    assert errors == []


def test_the_board_says_it_lost_the_server_and_catches_up_after_a_restart(
        ctx: AppContext, browser: Any, tmp_path: Path) -> None:
    with own_database(ctx, tmp_path) as db:
        person(db, "sara", "supervisor", datetime.now(UTC), language="en")
        with db.unit_of_work() as session:
            _, key = auth.create_key(session, "crm", ["admin"], datetime.now(UTC))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = serve_on(db.url, port, CIRCULO_CONSOLE_INTERVAL="0.5")
        try:
            with traffic(base, key) as api, page_of(browser, locale="en-GB") as (page, errors):
                center(api)
                page.goto(f"{base}/sign-in")
                page.get_by_label("User name").fill("sara")
                page.get_by_label("Password").fill(PASSWORD)
                with page.expect_navigation():
                    page.get_by_role("button", name="Sign in").click()
                page.goto(f"{base}/console")
                cell(page, "q:general", "waiting").wait_for()
                proc.terminate()
                proc.wait(timeout=30)
                lost = page.get_by_role("status").filter(has_text="Connection lost")
                lost.wait_for()  # announced, once
                proc = serve_on(db.url, port, CIRCULO_CONSOLE_INTERVAL="0.5")
                # while it was away a call arrived: the first update after it reconnects
                # carries every row, so nothing is lost
                ok(api.post("/v1/tasks", json={"queue": "general", "channel": "voice",
                                               "identifiers": {"phone": "+34600000002"}}), 201)
                page.wait_for_function(
                    "document.querySelector(\"[id='row-q:general'] [data-col='waiting']\")"
                    ".textContent === '1'", timeout=15_000)
                assert cell(page, "c:at_risk", "waiting").inner_text() == "1"
                assert page.locator("#live").inner_text().startswith("Updated at")
                assert lost.is_hidden()
                # the browser logs the refused connections while the server was down
                assert [e for e in errors if "ERR_CONNECTION_REFUSED" not in e
                        and "EventSource" not in e] == []
        finally:
            proc.terminate()
            proc.wait(timeout=30)
