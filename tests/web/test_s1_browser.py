"""S1 on the agent's desk in Chromium: a call from ``600 123 456``, ``+34600123456`` or
``0034 600 12 34 56`` pops María López's card inside the offer (VIP badge, the open dispute,
her last contacts), each timed from the telephony's API call to the card on screen; an
unknown number pops a "new caller" card; a number two customers share shows both candidates
and pops nobody. Everything arrives through the live server's HTTP API."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from circulo.auth import service as auth
from circulo.context import AppContext
from tests.conftest import ok
from tests.web.browser import live_server, own_database, page_of, screenshot, serious_violations
from tests.web.customer_world import PASSWORD, build, make_users

pytestmark = pytest.mark.browser



def test_a_call_in_any_format_pops_marias_card_and_never_the_wrong_person(
        ctx: AppContext, browser: Any, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with own_database(ctx, tmp_path) as db:
        make_users(db, now)
        with db.unit_of_work() as session:
            _, key = auth.create_key(session, "pbx", ["admin"], now)
        with live_server(db.url) as base, httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {key}"}) as pbx, \
                page_of(browser) as (page, errors):
            world = build(pbx.post, pbx.put, now)  # María's first call rings for Ana
            page.goto(f"{base}/sign-in")
            page.get_by_label("Nombre de usuario").fill("ana")
            page.get_by_label("Contraseña").fill(PASSWORD)
            with page.expect_navigation():
                page.get_by_role("button", name="Iniciar sesión").click()

            def card_of(task_id: str) -> Any:
                card = page.locator(f"#task-{task_id} #cust-panel")
                card.wait_for(timeout=5000)
                return card

            def ring(phone: str, external_id: str) -> tuple[str, float]:
                started = time.monotonic()
                task = ok(pbx.post("/v1/tasks", json={
                    "queue": "general", "channel": "voice", "identifiers": {"phone": phone},
                    "source": "pbx", "external_id": external_id}), 201)
                page.locator(f"#task-{task['id']} #customer h2").first.wait_for(timeout=5000)
                return task["id"], time.monotonic() - started

            def hang_up(task_id: str) -> None:
                ok(pbx.post(f"/v1/tasks/{task_id}/cancel", json={"reason": "test"}))
                page.locator(f"#task-{task_id}").wait_for(state="detached")

            tasks = [(world.task, None)]  # "600 123 456", offered before the page opened
            card = card_of(world.task)
            hang_up(world.task)
            for n, phone in enumerate(("+34600123456", "0034 600 12 34 56")):
                tasks.append(ring(phone, f"call-s1-{n}"))
                card = card_of(tasks[-1][0])
                assert card.get_by_role("heading", level=2).inner_text() == "María López"
                badges = set(card.get_by_role("list", name="Distintivos").locator("li")
                             .all_inner_texts())
                assert {"VIP", "Reclamación abierta"} <= badges, badges
                assert "D-77" in card.locator("#cust-records").inner_text()
                history = card.locator("#cust-timeline").inner_text()
                assert "factura" in history.lower()  # her last call, about the invoice
                if n == 0:
                    assert serious_violations(page) == []
                    screenshot(page, "s1-maria-pops.png", tmp_path)
                hang_up(tasks[-1][0])
            timings = ", ".join(f"{seconds * 1000:.0f} ms" for _, seconds in tasks[1:]
                                if seconds is not None)
            print(f"\nS1 call → María's card on screen: {timings}")

            # an unknown number: a "new caller" card, nobody's data
            unknown, _ = ring("+34 699 000 111", "call-s1-new")
            who = page.locator(f"#task-{unknown} #customer")
            assert "Llamante nuevo" in who.inner_text()
            assert "María" not in who.inner_text()
            hang_up(unknown)

            # a number Juan and Pilar share: both candidates, no card popped
            shared, _ = ring("911 222 333", "call-s1-shared")
            candidates = page.locator(f"#task-{shared} .candidate")
            candidates.first.wait_for()
            assert sorted(candidates.get_by_role("heading").all_inner_texts()) == [
                "Juan Ruiz", "Pilar Ruiz"]
            assert page.locator(f"#task-{shared} #cust-panel").count() == 0
            assert serious_violations(page) == []
            screenshot(page, "s1-shared-number.png", tmp_path)
            assert errors == []
