"""S16 in the browser: a VIP waits in the chat queue while the only agent is away; she writes,
through the ingest API, an angry message threatening to leave. ``circulo serve``'s analysis
worker reads it by itself: the supervisor's console raises the angry-and-urgent alert, the
agent's offer explains the priority the message added (``task.urgent``), and the customer
panel's timeline shows the message's badges (text and icon)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from circulo.auth import service as auth
from tests.conftest import ok
from tests.console.helpers import person
from tests.web.browser import (
    live_server,
    own_database,
    page_of,
    screenshot,
    serious_violations,
    sign_in,
)

pytestmark = pytest.mark.browser

POLICY = """
queues:
  general:
    channels: [voice, chat, email]
    priority:
      - when: customer.tier == "vip"
        add: 100
      - when: task.urgent
        add: 40
      - when: task.sentiment == "negative"
        add: 8
"""
AGENT = {"name": "Luis Gil", "languages": ["es", "en"], "site": "madrid",
         "queues": ["general"]}
ANGRY = ("Es la tercera vez que escribo y nadie me contesta. Estoy harta: si no me lo "
         "solucionáis hoy me doy de baja.")


def test_an_angry_urgent_message_alerts_reprioritises_and_badges_the_timeline(
        ctx: Any, browser: Any, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with own_database(ctx, tmp_path) as db:
        person(db, "sara", "supervisor", now)
        person(db, "luis", "agent", now, agent_id="luis")
        with db.unit_of_work() as session:
            _, key = auth.create_key(session, "crm", ["admin"], now)
        with live_server(db.url, cli=True, CIRCULO_CONSOLE_INTERVAL="0.5") as base, \
                httpx.Client(base_url=base, timeout=10,
                             headers={"Authorization": f"Bearer {key}"}) as api, \
                page_of(browser) as (board, board_errors), \
                page_of(browser) as (desk, desk_errors):
            ok(api.put("/v1/routing/policy", content=POLICY,
                       headers={"Content-Type": "application/yaml"}))
            ok(api.put("/v1/agents/luis", json=AGENT))
            vera = ok(api.post("/v1/events", json={
                "type": "customer.updated", "source": "crm", "id": "vera",
                "identifiers": {"email": "vera@example.com"},
                "traits": {"name": "Vera Vip", "tier": "vip"}}))["results"][0]["customer_id"]
            task = ok(api.post("/v1/tasks", json={
                "queue": "general", "channel": "chat",
                "identifiers": {"email": "vera@example.com"}}), 201)["id"]

            sign_in(board, base, "sara")
            board.goto(f"{base}/console")
            board.locator("[id='row-q:general'] [data-col='waiting']").wait_for()

            # She writes in the chat; nobody scores it: Círculo reads it
            ok(api.post("/v1/events", json={"events": [{
                "type": "chat.message", "source": "chat", "id": "vera-line-1",
                "channel": "chat", "identifiers": {"email": "vera@example.com"},
                "properties": {"text": ANGRY, "task_id": task}}]}))
            alert = board.locator("#alerts li.alert-angry")
            alert.wait_for(timeout=15_000)
            assert alert.inner_text().startswith(
                "Cliente enfadado y urgente: Vera Vip en general")
            assert serious_violations(board) == []
            screenshot(board, "s16-console-alert.png", tmp_path)
            attributes = ok(api.get(f"/v1/tasks/{task}"))["attributes"]
            assert attributes["urgent"] is True
            assert "churn_threat" in attributes["urgent_reasons"]

            # The agent comes back: the offer says why Vera's chat came first
            sign_in(desk, base, "luis")
            desk.get_by_label("Estado", exact=True).select_option("available")
            desk.get_by_role("button", name="Cambiar estado").click()
            offer = desk.locator(f"#task-{task}.item-offer")
            offer.wait_for(timeout=10_000)
            said = offer.inner_text()
            assert "task.urgent (+40)" in said and 'customer.tier == "vip" (+100)' in said
            assert serious_violations(desk) == []
            screenshot(desk, "s16-desk-offer.png", tmp_path)

            # Her panel: the message with its badges, in words and with an icon
            desk.goto(f"{base}/desk/customers/{vera}")
            line = desk.locator("#cust-timeline-list li", has_text="Mensaje de chat")
            line.wait_for()
            badges = line.locator(".text-badge")
            texts = [badges.nth(n).inner_text() for n in range(badges.count())]
            assert any(t.endswith("Negativo") and t.startswith("☹") for t in texts), texts
            assert any(t.startswith("⚠") and "amenaza con irse" in t for t in texts), texts
            assert serious_violations(desk) == []
            desk.locator("#cust-timeline-list").scroll_into_view_if_needed()
            screenshot(desk, "s16-customer-timeline.png", tmp_path)
            assert board_errors == [] and desk_errors == []
