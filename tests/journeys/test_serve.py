"""``circulo serve`` runs the journeys by itself: an event becomes an action within a second,
with nobody calling ``POST /v1/journeys/run``."""

from __future__ import annotations

import json
import time

import httpx

from circulo.context import AppContext
from tests.conftest import make_key
from tests.journeys.helpers import BUSINESS_TYPES, EXAMPLES
from tests.live import live_server


def test_circulo_serve_acts_on_an_event_within_a_second(ctx: AppContext) -> None:
    key = make_key(ctx, ["admin"])
    headers = {"Authorization": f"Bearer {key}"}
    document = (EXAMPLES / "s18-card-use-and-fraud.yaml").read_bytes()
    with live_server(ctx.db.url, cli=True,
                     CIRCULO_EVENT_TYPES=json.dumps(BUSINESS_TYPES)) as base, \
            httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        loaded = client.post("/v1/journeys", params={"activate": "true"}, content=document,
                             headers={"Content-Type": "application/yaml"})
        assert loaded.status_code == 200, loaded.text
        time.sleep(1.1)  # the journeys in force are re-read at most once a second
        sent = client.post("/v1/events", json={"events": [{
            "type": "card.used", "source": "cards", "id": "use-1",
            "identifiers": {"phone": "+34600000018"},
            "properties": {"amount": 12, "currency": "EUR", "merchant": "Bar Sol",
                           "last4": "4242", "risk_score": 0.1}}]})
        assert sent.status_code == 200, sent.text
        customer_id = sent.json()["results"][0]["customer_id"]
        sent_at = time.monotonic()
        found: list[dict[str, object]] = []
        while not found and time.monotonic() - sent_at < 5:
            timeline = client.get(f"/v1/customers/{customer_id}/timeline").json()["events"]
            found = [e for e in timeline if e["type"] == "notification.requested"]
            time.sleep(0.02)
        elapsed = time.monotonic() - sent_at
    assert found, "the journey never acted"
    assert elapsed < 1.0, f"acted after {elapsed:.2f} s"
