"""What a newcomer does (issue 16, "Done when"): run the demo exactly as ``make demo`` does
(``circulo demo`` with the simulated traffic on), read the address and the credentials it
prints, sign in as the agent in Chromium, go available, and take a live contact of the
simulated traffic from offer to wrap-up — while the supervisor, signed in beside, watches
the board move. Nothing is injected: every contact comes from the demo's own traffic."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from circulo.context import AppContext
from tests.live import free_port, start_demo
from tests.web.browser import page_of, screenshot, serious_violations, sign_in

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CREDENTIALS = re.compile(r"(agent|supervisor|admin)\s+(?:user|usuario)\s+(\S+)\s+"
                         r"(?:password|contraseña)\s+(\S+)")
URL = re.compile(r"http://127\.0\.0\.1:\d+/")


@contextmanager
def demo(ctx: AppContext, tmp_path: Path) -> Iterator[tuple[str, dict[str, tuple[str, str]]]]:
    """``circulo demo`` as ``make demo`` runs it; its own SQLite file in the data directory
    (what a newcomer gets), or the suite's PostgreSQL. A contact every 2–6 s rather than
    5–20 s keeps the test short; everything else is the demo's default."""
    port = free_port()
    log = tmp_path / "demo.log"
    env = {**os.environ, "CIRCULO_DATA_DIR": str(tmp_path / "data"),
           "CIRCULO_PORT": str(port), "CIRCULO_DEMO_TRAFFIC": "1",
           "CIRCULO_DEMO_TRAFFIC_MIN_SECONDS": "2", "CIRCULO_DEMO_TRAFFIC_MAX_SECONDS": "6",
           "COLUMNS": "200"}
    env.pop("CIRCULO_DATABASE_URL", None)
    if ctx.db.dialect == "postgresql":
        env["CIRCULO_DATABASE_URL"] = ctx.db.url
    proc, _ = start_demo(["--customers", "60"], env, log, timeout=120)
    try:
        printed = log.read_text("utf-8")
        [url] = set(URL.findall(printed))  # the desktop's address, printed
        people = {role: (username, password)
                  for role, username, password in CREDENTIALS.findall(printed)}
        assert set(people) == {"agent", "supervisor", "admin"}, printed
        yield url.rstrip("/"), people
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_newcomer_takes_a_live_demo_contact_from_offer_to_wrap_up(
        ctx: AppContext, browser: Any, tmp_path: Path) -> None:
    with demo(ctx, tmp_path) as (base, people), \
            page_of(browser) as (page, errors), page_of(browser) as (board, board_errors):
        # -- the supervisor watches the live board
        sign_in(board, base, *people["supervisor"])
        board.goto(f"{base}/console")
        board.get_by_role("heading", name="Colas").wait_for()

        # -- the agent signs in with the printed credentials and goes available
        sign_in(page, base, *people["agent"])
        assert page.url == f"{base}/desk"
        page.get_by_text("Conectado: las ofertas llegan en directo.").wait_for()
        page.get_by_label("Estado", exact=True).select_option("available")
        page.get_by_role("button", name="Cambiar estado").click()
        page.get_by_text("Estado cambiado.").wait_for()

        # -- a contact of the simulated traffic is offered within a minute
        started = time.monotonic()
        offer = page.locator("#work li.item-offer").first
        offer.wait_for(state="visible", timeout=60_000)
        waited = time.monotonic() - started
        print(f"\nnewcomer's first live offer after {waited:.1f} s")
        task_id = offer.get_attribute("data-task") or ""
        assert task_id
        # the customer's side arrives with it: a card, or who the caller may be
        page.locator("#customer article, #customer .cust-who, #customer section").first \
            .wait_for(state="visible", timeout=10_000)
        assert serious_violations(page) == []
        screenshot(page, "demo-offer.png", tmp_path)

        page.keyboard.press("Alt+a")
        page.get_by_text("Contacto aceptado.").wait_for()
        page.locator(f"#task-{task_id}.item-in_call").wait_for()
        page.keyboard.press("Alt+t")
        page.locator(f"#task-{task_id}.item-wrapping").wait_for()
        codes = page.get_by_label("Código de cierre")
        codes.select_option(index=1)
        chosen = codes.input_value()
        page.get_by_label("Notas", exact=True).fill("Primer contacto de prueba.")
        page.keyboard.press("Alt+g")
        page.get_by_text("Cierre guardado y enviado al CRM.").wait_for()

        # -- the contact is done, as the newcomer's agent, with the code they chose
        key = (tmp_path / "data" / "demo-key").read_text().strip()
        task = httpx.get(f"{base}/v1/tasks/{task_id}", timeout=10,
                         headers={"Authorization": f"Bearer {key}"}).json()
        assert task["state"] == "completed", task
        assert task["agent_id"] == "alex" and task["outcome"] == chosen

        # -- the board moved meanwhile: contacts answered today in the demo's queues
        board.wait_for_function("""() => Array.from(
            document.querySelectorAll('#rows-queue tr')).some(
            row => parseInt((row.cells[6] || {}).textContent || '0', 10) > 0)""",
                                timeout=30_000)
        assert serious_violations(board) == []
        screenshot(board, "demo-console.png", tmp_path)
        assert errors == [] and board_errors == []
