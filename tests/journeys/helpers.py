"""A contact center with journeys, driven through the public API on a controlled clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from circulo.clock import FixedClock
from circulo.db import Database
from tests.conftest import Api, custom_api, ok

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "journeys"
BUSINESS_TYPES = ["shipment.delayed", "dispute.opened", "order.completed", "card.used",
                  "device.alert", "dispute.auto_refunded", "connector.action_completed",
                  "carrier.incident"]

POLICY = """
skills: [billing, fraud]
queues:
  atencion:
    channels: [voice, chat, email]
    steps:
      - name: everyone
  vip: {channels: [voice]}
  rellamadas: {channels: [voice]}
  rescate: {channels: [voice]}
  fraude: {channels: [voice]}
  proactiva: {channels: [voice]}
  alertas:
    channels: [backoffice]
    steps:
      - name: the named agent
        agents: agent.id == task.attributes.for_agent
  supervision: {channels: [backoffice]}
agents:
  - {id: lucia, name: Lucía Fernández, languages: [es, en], queues: [atencion, vip, alertas],
     teams: [vip]}
  - {id: ines, name: Inés Soto, languages: [es], queues: [atencion, fraude], teams: [incidencias]}
"""


@contextmanager
def center(database: Database, clock: FixedClock, **settings: Any) -> Iterator[Api]:
    with custom_api(database, clock, event_types=BUSINESS_TYPES, **settings) as api:
        ok(api.client.put("/v1/routing/policy", content=POLICY,
                          headers={**api.headers, "Content-Type": "application/yaml"}))
        yield api


def load(api: Api, name: str) -> dict[str, Any]:
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    return ok(api.post("/v1/journeys", params={"activate": "true"}, content=text.encode(),
                       headers={"Content-Type": "application/yaml"}))


def run(api: Api) -> int:
    return int(ok(api.post("/v1/journeys/run"))["handled"])


def timeline(api: Api, customer_id: str) -> list[dict[str, Any]]:
    return list(ok(api.get(f"/v1/customers/{customer_id}/timeline",
                           params={"limit": 200}))["events"])


def of_type(api: Api, customer_id: str, event_type: str) -> list[dict[str, Any]]:
    return [e for e in timeline(api, customer_id) if e["type"] == event_type]


def tasks(api: Api, customer_id: str) -> list[dict[str, Any]]:
    return list(api.get("/v1/tasks", params={"customer_id": customer_id}).json())


def instances(api: Api, key: str) -> list[dict[str, Any]]:
    response = api.get(f"/v1/journeys/{key}/instances")
    assert response.status_code == 200, response.text
    return list(response.json())


def customer(api: Api, phone: str, **traits: Any) -> str:
    identifiers = {"phone": phone}
    if "email" in traits:
        identifiers["email"] = traits.pop("email")
    result = api.send({"type": "profile.updated", "source": "crm",
                       "identifiers": identifiers, "traits": traits})
    return str(result["results"][0]["customer_id"])
