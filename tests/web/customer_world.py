"""María López and her world, sent through the HTTP API as other systems would: the CRM's
profile (VIP), an open dispute, an earlier call about the same reason, a page view on the
website (Segment-compatible tracking), the IVR's answers, and a task ringing for Ana."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from circulo.auth import users
from circulo.db import Database
from tests.routing.helpers import POLICY

PASSWORD = "correct horse battery"
MARIA_PHONE = "+34600123456"
SHARED_PHONE = "+34911222333"
AGENT = {"skills": {"billing": 3}, "languages": ["es", "en"], "queues": ["general"]}
Post = Callable[..., Any]


@dataclass(frozen=True)
class World:
    maria: str
    juan: str
    pilar: str
    task: str  # María's call, offered to Ana
    shared_task: str  # a call from the number Juan and Pilar share, offered to Ana


def make_users(db: Database, now: datetime) -> None:
    with db.unit_of_work() as session:
        for username, name, agent in (("ana", "Ana Pérez", "ana"), ("luis", "Luis Gil", "luis")):
            users.create_user(session, users.UserSpec(
                username=username, name=name, role="agent", agent_id=agent, language="es",
                card_role="support", time_zone="Europe/Madrid"), PASSWORD, now)


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def build(post: Post, put: Post, now: datetime) -> World:
    """Everything through the API. ``post``/``put`` take (url, **kwargs) like httpx."""
    _ok(put("/v1/routing/policy", content=POLICY, headers={"Content-Type": "application/yaml"}))
    for agent in ("ana", "luis"):
        _ok(put(f"/v1/agents/{agent}", json=AGENT))

    def at(minutes: float) -> str:
        return (now - timedelta(minutes=minutes)).isoformat()

    sent = _ok(post("/v1/events", json={"events": [
        {"type": "customer.updated", "source": "crm", "id": "m-1", "occurred_at": at(600),
         "identifiers": {"phone": MARIA_PHONE, "email": "maria@example.com",
                         "external_ids": {"crm": "C-1"}},
         "traits": {"name": "María López", "tier": "vip", "customer_since": "2019-03-01"}},
        {"type": "dispute.opened", "source": "billing", "id": "m-2", "occurred_at": at(300),
         "identifiers": {"phone": MARIA_PHONE}, "channel": "web",
         "properties": {"dispute_id": "D-77", "title": "Cargo duplicado", "amount": 49.9,
                        "currency": "EUR"}},
        {"type": "call.completed", "source": "pbx", "id": "m-3", "occurred_at": at(90),
         "channel": "voice", "identifiers": {"phone": MARIA_PHONE},
         "properties": {"reason": "factura"}},
        {"type": "email.received", "source": "mail", "id": "m-4", "occurred_at": at(2000),
         "channel": "email", "identifiers": {"email": "maria@example.com"},
         "properties": {"subject": "Consulta sobre mi pedido"}},
        {"type": "customer.updated", "source": "crm", "id": "j-1", "occurred_at": at(900),
         "identifiers": {"phone": SHARED_PHONE, "external_ids": {"crm": "C-2"},
                         "email": "juan@example.com"},
         "traits": {"name": "Juan Ruiz"}},
        {"type": "customer.updated", "source": "crm", "id": "p-1", "occurred_at": at(900),
         "identifiers": {"phone": SHARED_PHONE, "external_ids": {"crm": "C-3"},
                         "email": "pilar@example.com"},
         "traits": {"name": "Pilar Ruiz"}},
    ]}))
    ids = [r["customer_id"] for r in sent["results"]]
    maria, juan, pilar = ids[0], ids[4], ids[5]
    assert ids[:4] == [maria] * 4, sent
    # the website, as a Segment-compatible tracker sends it
    _ok(post("/v1/page", json={
        "userId": "U-1", "name": "Facturas", "timestamp": at(12),
        "context": {"traits": {"email": "maria@example.com"},
                    "page": {"url": "https://tienda.example/cuenta/facturas"}}}))
    # the IVR: what she answered before the call was queued
    _ok(post("/v1/events", json={"events": [
        {"type": "ivr.completed", "source": "ivr", "id": "m-5", "occurred_at": at(3),
         "channel": "ivr", "identifiers": {"phone": MARIA_PHONE},
         "properties": {"answers": {"Motivo": "cargo duplicado en la factura",
                                    "Número de factura": "F-2291"}}}]}))
    _ok(post("/v1/agents/ana/presence", json={"presence": "available"}))
    task = _ok(post("/v1/tasks", json={
        "queue": "general", "channel": "voice", "identifiers": {"phone": "600 123 456"},
        "reason": "factura", "external_id": "call-1", "source": "pbx"}), 201)
    assert task["agent_id"] == "ana" and task["customer_id"] == maria, task
    return World(maria, juan, pilar, task["id"], "")


def ring_shared(post: Post, agent: str = "luis") -> str:
    """A call from the number Juan and Pilar share, offered to ``agent`` (made available)."""
    _ok(post(f"/v1/agents/{agent}/presence", json={"presence": "available"}))
    task = _ok(post("/v1/tasks", json={
        "queue": "general", "channel": "voice", "identifiers": {"phone": "911 222 333"},
        "source": "pbx", "external_id": "call-2"}), 201)
    assert task["customer_id"] is None and task["agent_id"] == agent, task
    return str(task["id"])
