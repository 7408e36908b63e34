"""S13 in the browser: VIP and at-risk customers wait less, without wrecking everyone else's
service. Three callers wait in one queue — Nico (everyone else) first, then Rita (at risk of
leaving), then Vera (VIP) — while the only agent is on a break. The supervisor's board shows
the three priority classes waiting. When the agent comes back, the desk offers Vera first,
then Rita, then Nico (the routing policy's priority rules, explained on the offer), and the
board's classes empty in that order. Nico is not starved: ageing still brings him an offer
right after them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from circulo.auth import service as auth
from tests.conftest import ok
from tests.console.helpers import NORMAL, RISK, VIP, person
from tests.routing.helpers import POLICY
from tests.web.browser import (
    live_server,
    own_database,
    page_of,
    screenshot,
    serious_violations,
    sign_in,
)

pytestmark = pytest.mark.browser

AGENT = {"name": "Luis Gil", "skills": {"billing": 3}, "languages": ["es"],
         "site": "madrid", "queues": ["general"]}



def cell(page: Any, row: str, column: str) -> Any:
    return page.locator(f"[id='row-{row}'] [data-col='{column}']")


def test_vip_and_at_risk_callers_are_offered_first_and_the_board_shows_it(
        ctx: Any, browser: Any, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with own_database(ctx, tmp_path) as db:
        person(db, "sara", "supervisor", now)
        person(db, "luis", "agent", now, agent_id="luis")
        with db.unit_of_work() as session:
            _, key = auth.create_key(session, "crm", ["admin"], now)
        with live_server(db.url, CIRCULO_CONSOLE_INTERVAL="0.5") as base, \
                httpx.Client(base_url=base, timeout=10,
                             headers={"Authorization": f"Bearer {key}"}) as api, \
                page_of(browser) as (board, board_errors), \
                page_of(browser) as (desk, desk_errors):
            ok(api.put("/v1/routing/policy", content=POLICY,
                       headers={"Content-Type": "application/yaml"}))
            ok(api.put("/v1/agents/luis", json=AGENT))
            ok(api.post("/v1/events", json={"events": [
                {"type": "customer.updated", "source": "crm", "id": who,
                 "identifiers": {"phone": phone}, "traits": traits}
                for who, phone, traits in (
                    ("vera", VIP, {"name": "Vera Vip", "tier": "vip"}),
                    ("rita", RISK, {"name": "Rita Risk", "churn_risk": 0.85}),
                    ("nico", NORMAL, {"name": "Nico Normal", "tier": "standard"}))]}))
            tasks = {phone: ok(api.post("/v1/tasks", json={
                "queue": "general", "channel": "voice", "identifiers": {"phone": phone}}),
                201)["id"] for phone in (NORMAL, RISK, VIP)}  # Nico called first

            sign_in(board, base, "sara")
            board.goto(f"{base}/console")
            for row in ("c:vip", "c:at_risk", "c:other"):
                board.wait_for_function(
                    f"(document.querySelector(\"[id='row-{row}'] [data-col='waiting']\")"
                    "|| {}).textContent === '1'")
            assert cell(board, "q:general", "waiting").inner_text() == "3"
            assert serious_violations(board) == []
            screenshot(board, "s13-board-waiting.png", tmp_path)

            sign_in(desk, base, "luis")
            desk.get_by_label("Estado", exact=True).select_option("available")
            desk.get_by_role("button", name="Cambiar estado").click()
            offered: list[str] = []
            for phone, rule in ((VIP, 'customer.tier == "vip" (+100)'),
                                (RISK, "customer.churn_risk >= 0.7 (+60)"),
                                (NORMAL, None)):
                offer = desk.locator(f"#task-{tasks[phone]}.item-offer")
                offer.wait_for(timeout=10_000)
                if rule:
                    assert rule in offer.inner_text()  # why it came first, on the offer
                offered.append(phone)
                if phone == VIP:
                    assert serious_violations(desk) == []
                    screenshot(desk, "s13-desk-vip-first.png", tmp_path)
                desk.keyboard.press("Alt+a")
                desk.locator(f"#task-{tasks[phone]}.item-in_call").wait_for()
                desk.keyboard.press("Alt+t")
                desk.locator(f"#task-{tasks[phone]}.item-wrapping").wait_for()
                desk.keyboard.press("Alt+g")
                desk.locator(f"#task-{tasks[phone]}").wait_for(state="detached")
                if phone == VIP:  # the VIP class emptied while the others still wait
                    board.wait_for_function(
                        "document.querySelector(\"[id='row-c:vip'] [data-col='waiting']\")"
                        ".textContent === '0'")
                    assert cell(board, "c:other", "waiting").inner_text() == "1"
            assert offered == [VIP, RISK, NORMAL]
            board.wait_for_function(
                "document.querySelector(\"[id='row-c:other'] [data-col='waiting']\")"
                ".textContent === '0'")
            assert board_errors == [] and desk_errors == []
