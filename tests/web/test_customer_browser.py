"""The customer side of the desk in Chromium (issue 16; S1, S12): Ana opens María López's
card for the call ringing for her, sees the VIP badge, the open dispute before the history,
what she told the IVR and the pages she read; writes a note that Luis, in another browser,
sees with "Ana is also looking"; filters the history by channel; finds María by
``0034 600 12 34 56``; and Luis confirms which of two customers sharing a number is calling.
Everything reaches the live server through its HTTP API, as other systems would send it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from circulo.auth import service as auth
from circulo.context import AppContext
from tests.web.browser import (
    live_server,
    own_database,
    page_of,
    screenshot,
    serious_violations,
    sign_in,
)
from tests.web.customer_world import build, make_users, ring_shared

pytestmark = pytest.mark.browser


def test_customer_card_notes_viewers_search_and_ambiguous_caller(
        ctx: AppContext, browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect  # installed whenever the browser fixture runs

    now = datetime.now(UTC)
    with own_database(ctx, tmp_path) as db:
        make_users(db, now)
        with db.unit_of_work() as session:
            _, key = auth.create_key(session, "pbx", ["admin"], now)
        with live_server(db.url) as base, httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {key}"}) as system:
            world = build(system.post, system.put, now)
            with page_of(browser) as (ana, ana_errors), page_of(browser) as (luis, luis_errors):
                sign_in(ana, base, "ana")
                ana.goto(f"{base}/desk/customers/{world.maria}?task={world.task}")
                card = ana.locator("#cust-panel")
                assert card.get_by_role("heading", level=2).inner_text() == "María López"
                badges = card.get_by_role("list", name="Distintivos").locator("li")
                assert {"VIP", "Reclamación abierta"} <= set(badges.all_inner_texts())
                assert ana.evaluate("""() => !!(document.querySelector('#cust-records')
                    .compareDocumentPosition(document.querySelector('#cust-timeline'))
                    & Node.DOCUMENT_POSITION_FOLLOWING)""")  # the dispute before the history
                assert "D-77" in ana.locator("#cust-records").inner_text()
                said = ana.locator("#cust-said").inner_text()
                assert "En el IVR" in said and "cargo duplicado en la factura" in said
                assert "Segundo contacto sobre esto hoy" in ana.locator("#cust-repeat").inner_text()
                activity = ana.locator("#cust-activity").inner_text()
                assert "Facturas" in activity and "tienda.example/cuenta/facturas" in activity
                assert serious_violations(ana) == []
                screenshot(ana, "customer-card.png", tmp_path)

                ana.get_by_label("Nueva nota").fill("Prefiere que la llamen por la tarde")
                ana.get_by_role("button", name="Añadir nota").click()
                ana.locator(".cust-note-list").get_by_text(
                    "Prefiere que la llamen por la tarde").wait_for()
                assert ana.get_by_label("Nueva nota").input_value() == ""  # a fresh form

                sign_in(luis, base, "luis")
                luis.goto(f"{base}/desk/customers/{world.maria}")
                notes = luis.locator(".cust-note-list").inner_text()
                assert "Prefiere que la llamen por la tarde" in notes and "Ana Pérez" in notes
                assert luis.locator("#cust-viewers").inner_text() == \
                    "Ana Pérez también está viendo este cliente"
                # Ana's card polls: within a few seconds she sees Luis too
                ana.get_by_text("Luis Gil también está viendo este cliente").wait_for(
                    timeout=8000)

                ana.get_by_label("Canal").select_option(label="Correo")
                history = ana.locator("#cust-timeline-list")
                expect(history).not_to_contain_text("Llamada atendida")
                expect(history).to_contain_text("Consulta sobre mi pedido")
                assert serious_violations(ana) == []

                ana.goto(f"{base}/desk/search")
                assert serious_violations(ana) == []
                field = ana.get_by_label("Teléfono, correo, nombre o n.º de cliente o cuenta")
                field.fill("0034 600 12 34 56")
                field.press("Enter")
                result = ana.locator("#cust-results").get_by_role("link", name="María López")
                result.wait_for()
                assert serious_violations(ana) == []
                screenshot(ana, "customer-search.png", tmp_path)
                with ana.expect_navigation():
                    result.click()
                assert ana.url == f"{base}/desk/customers/{world.maria}"

                shared = ring_shared(system.post, "luis")
                luis.goto(f"{base}/desk/tasks/{shared}/caller")
                candidates = luis.locator(".candidate")
                assert candidates.count() == 2
                assert {"Juan Ruiz", "Pilar Ruiz"} == set(
                    candidates.get_by_role("heading").all_inner_texts())
                assert "Comparte teléfono +34911222333" in candidates.first.inner_text()
                assert serious_violations(luis) == []
                screenshot(luis, "customer-ambiguous.png", tmp_path)
                luis.get_by_role("button", name="Es Pilar Ruiz").click()
                luis.locator("#cust-panel").get_by_role("heading", name="Pilar Ruiz").wait_for()
                assert system.get(f"/v1/tasks/{shared}").json()["customer_id"] == world.pilar
                assert serious_violations(luis) == []
                assert ana_errors == [] and luis_errors == []


def test_an_open_card_survives_a_server_restart(ctx: AppContext, browser: Any,
                                                tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The server restarts under Ana's open card: its poll resumes by itself (Luis, who
    opens the card on the new process, appears), and her note after the restart is kept —
    sessions, viewers and notes live in the database, not in the process."""
    from tests import live

    now = datetime.now(UTC)
    with own_database(ctx, tmp_path) as db:
        make_users(db, now)
        with db.unit_of_work() as session:
            _, key = auth.create_key(session, "pbx", ["admin"], now)
        first, base = live.start_server(db.url)
        try:
            with httpx.Client(base_url=base,
                              headers={"Authorization": f"Bearer {key}"}) as system:
                world = build(system.post, system.put, now)
            with page_of(browser) as (ana, ana_errors), page_of(browser) as (luis, _):
                sign_in(ana, base, "ana")
                ana.goto(f"{base}/desk/customers/{world.maria}")
                first.terminate()
                first.wait(timeout=30)
                port = int(base.rsplit(":", 1)[1])
                monkeypatch.setattr(live, "free_port", lambda: port)
                with live.live_server(db.url) as again:
                    assert again == base
                    sign_in(luis, base, "luis")
                    luis.goto(f"{base}/desk/customers/{world.maria}")
                    ana.get_by_text("Luis Gil también está viendo este cliente").wait_for(
                        timeout=12000)
                    ana.get_by_label("Nueva nota").fill("Tras el reinicio")
                    ana.get_by_role("button", name="Añadir nota").click()
                    ana.locator(".cust-note-list").get_by_text("Tras el reinicio").wait_for()
                # only the polls that met the stopped server failed (htmx logs them)
                assert [e for e in ana_errors if e not in ("htmx:afterRequest",
                                                           "htmx:sendError")
                        and not e.endswith("net::ERR_CONNECTION_REFUSED")] == []
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
