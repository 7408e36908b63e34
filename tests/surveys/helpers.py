"""A contact center with surveys, driven through the public API on a controlled clock."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from circulo.app import create_app
from circulo.clock import FixedClock
from circulo.config import Settings
from circulo.connectors.models import OutboxMessage
from circulo.context import AppContext
from circulo.db import Database
from circulo.routing.dispatcher import dispatcher_of
from circulo.wiring import build_context
from tests.conftest import TEST_EGRESS_ALLOW, Api, make_key, ok, wipe

ROOT = Path(__file__).resolve().parents[2]
SURVEYS = ROOT / "examples" / "surveys" / "surveys.yaml"
POLICY = """
queues:
  atencion: {channels: [voice, chat, email]}
  vip: {channels: [voice]}
  rescate: {channels: [voice]}
agents:
  - {id: lucia, name: Lucía Fernández, site: madrid, languages: [es, en],
     queues: [atencion, vip, rescate]}
  - {id: tom, name: Tom Baker, site: leeds, languages: [en, es], queues: [atencion]}
"""
AGENTS = ("lucia", "tom")
LINK = re.compile(r"https?://\S+/s/(\S+)")


@dataclass
class Center:
    api: Api
    ctx: AppContext
    clock: FixedClock

    @property
    def client(self) -> TestClient:
        return self.api.client


@contextmanager
def survey_center(database: Database, clock: FixedClock, **overrides: Any) -> Iterator[Center]:
    values: dict[str, Any] = {"egress_allow": TEST_EGRESS_ALLOW, "surveys_file": SURVEYS,
                              "public_url": "https://encuestas.example.com", **overrides}
    settings = Settings(database_url=database.url, **values)
    ctx = build_context(settings, clock, db=database)
    try:
        with TestClient(create_app(settings, ctx=ctx)) as client:
            api = Api(client, make_key(ctx, ["admin"]))
            ok(client.put("/v1/routing/policy", content=POLICY,
                          headers={**api.headers, "Content-Type": "application/yaml"}))
            yield Center(api, ctx, clock)
    finally:
        wipe(database)


def customer(center: Center, phone: str, *, consent: bool = True, **traits: Any) -> str:
    identifiers = {"phone": phone}
    if "email" in traits:
        identifiers["email"] = traits.pop("email")
    event: dict[str, Any] = {"type": "profile.updated", "source": "crm",
                             "identifiers": identifiers, "traits": traits}
    if consent:
        event["consent"] = [{"channel": c, "purpose": "surveys", "granted": True}
                            for c in ("sms", "email")]
    result = center.api.send(event)
    return str(result["results"][0]["customer_id"])


def handled(center: Center, phone: str, agent: str = "lucia", queue: str = "atencion",
            reason: str | None = "factura", channel: str = "voice") -> str:
    """A contact of this caller answered and wrapped up by ``agent``: its task id."""
    body: dict[str, Any] = {"queue": queue, "channel": channel,
                            "identifiers": {"phone": phone}}
    if reason:
        body["reason"] = reason
    task = ok(center.api.post("/v1/tasks", json=body), 201)
    for other in AGENTS:  # only the named agent may be offered it
        ok(center.api.post(f"/v1/agents/{other}/presence",
                           json={"presence": "available" if other == agent else "away"}))
    dispatcher_of(center.ctx).run_once()
    ok(center.api.post(f"/v1/tasks/{task['id']}/accept", json={"agent_id": agent}))
    ok(center.api.post(f"/v1/tasks/{task['id']}/complete", json={"agent_id": agent}))
    return str(task["id"])


def invitations(center: Center) -> list[OutboxMessage]:
    with center.ctx.db.unit_of_work(write=False) as session:
        rows = session.scalars(select(OutboxMessage).where(
            OutboxMessage.event_type == "notification.requested")
            .order_by(OutboxMessage.seq)).all()
        session.expunge_all()
        return list(rows)


def token_of(message: OutboxMessage) -> str:
    match = LINK.search(message.payload["data"]["text"])
    assert match, message.payload
    return match.group(1)
