"""A customer with unmistakable personal data goes through every feature (events with traits,
records and properties; a task, a wrap-up with notes, a callback and an override; a journey
that texted them and waits to text again, put them on a list and suggested an offer; a
duplicate-review suggestion; a campaign; webhooks waiting in the outbox; their card), is
erased, and then the whole database (SQLite: the file and its write-ahead log, byte by byte;
PostgreSQL: every row of every table as text) and the logs are searched for each value."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from circulo.clock import FixedClock
from circulo.db import Base, Database
from circulo.speech.worker import worker_of
from tests.conftest import Api, ok
from tests.journeys.helpers import center, run
from tests.speech.fake_whisper import fake_whisper

FIRST, LAST = "Zebulonio", "Quispewarra"
EMAIL = "zebulonio.quispewarra@example.org"
PHONE = "+34 611 22 33 44"
ADDRESS = "Calle Xyzzyvar 42"
NOTES = "Wibblethorpe prefers mornings"
NEEDLES = [FIRST, LAST, "zebulonio.quispewarra", "611223344", "Xyzzyvar", "Wibblethorpe"]

JOURNEY = """
journey: erasure-probe
trigger: device.alert
steps:
  - name: act
    do:
      - notify: {channels: [sms], purpose: service,
                 text: "Hola {{customer.traits.first_name}}, revisamos su alarma"}
      - add_to_list: [probe-list]
      - routing_override: {queue: vip, for: 3d, reason: "alarma de {{customer.traits.first_name}}"}
      - suggest: {code: probe, for: 7d, text: "Llame a {{customer.traits.first_name}}"}
  - name: later
    wait: {duration: 2h}
  - name: remind
    do:
      - notify: {channels: [sms], purpose: service,
                 text: "{{customer.traits.first_name}}, sigue activa la alarma"}
    end: true
"""


@pytest.fixture
def probe(database: Database, clock: FixedClock, tmp_path: Path) -> Iterator[Api]:
    with fake_whisper() as whisper:  # hears the person say who they are
        whisper.answer.update(text=f"Soy {FIRST} {LAST}, de la {ADDRESS}", segments=[
            {"start": 0.0, "end": 2.5, "text": f"Soy {FIRST} {LAST},"},
            {"start": 2.5, "end": 4.0, "text": f"de la {ADDRESS}"}])
        with center(database, clock, twilio_account_sid="AC123", twilio_auth_token="t0ken",
                    twilio_from="+34910000000", speech_http_url=whisper.url,
                    data_dir=tmp_path) as api:
            yield api


def _recorded_call(api: Api, recordings: Path) -> None:
    """A recorded call, its audio on disk and its transcript (through the Whisper server)."""
    created = ok(api.post("/v1/recordings", params={
        "language": "es", "phone": PHONE, "call_id": f"llamada-{LAST}"},
        content=b"RIFF" + b"\x00" * 2000, headers={"Content-Type": "audio/wav"}), 202)
    assert worker_of(api.client.app.state.ctx).run_until_idle() == 1
    assert ok(api.get(f"/v1/recordings/{created['id']}"))["status"] == "transcribed"
    assert [p.name for p in recordings.iterdir()] == [created["id"]]


def _person(api: Api) -> str:
    ok(api.post("/v1/webhooks", json={"url": "https://crm.example.com/hook",
                                      "event_types": ["*"]}), 201)
    ok(api.post("/v1/journeys", params={"activate": "true"}, content=JOURNEY.encode(),
                headers={"Content-Type": "application/yaml"}))
    who = api.send({
        "type": "customer.updated", "source": "crm", "id": "crm-1",
        "identifiers": {"phone": PHONE, "email": EMAIL, "external_ids": {"crm": "C-77"},
                        "account": "HOUSE-1"},
        "traits": {"first_name": FIRST, "last_name": LAST, "address": ADDRESS,
                   "notes": NOTES, "language": "es", "pin": "4321"}})["results"][0]
    customer_id = str(who["customer_id"])
    api.send({"type": "order.placed", "source": "shop", "id": "o-1",
              "identifiers": {"email": EMAIL},
              "properties": {"order_id": "R-1", "amount": 10.0,
                             "title": f"Pedido para {FIRST} {LAST}", "ship_to": ADDRESS}},
             {"type": "device.alert", "source": "iot", "id": "a-1",
              "identifiers": {"customer_id": customer_id},
              "properties": {"kind": "smoke", "note": f"casa de {LAST}"}})
    # Somebody else sharing the household account: the evidence declines the link, and the
    # pair goes to review with both names as evidence.
    api.send({"type": "customer.updated", "source": "crm", "id": "crm-2",
              "identifiers": {"account": "HOUSE-1", "email": "marta.otra@example.org"},
              "traits": {"first_name": "Marta", "last_name": "Otra"}})
    return customer_id


def _contact_center(api: Api, customer_id: str) -> None:
    ok(api.post("/v1/agents/lucia/presence", json={"presence": "available"}))
    task = ok(api.post("/v1/tasks", json={
        "queue": "atencion", "channel": "voice", "identifiers": {"phone": PHONE},
        "attributes": {"subject": f"{FIRST} llama por su alarma", "address": ADDRESS},
        "reason": f"cliente {LAST}"}), 201)
    ok(api.post(f"/v1/tasks/{task['id']}/accept", json={"agent_id": "lucia"}))
    ok(api.post(f"/v1/tasks/{task['id']}/end", json={"agent_id": "lucia"}))
    ok(api.post(f"/v1/tasks/{task['id']}/complete", json={
        "agent_id": "lucia", "disposition": "resolved", "notes": NOTES,
        "data": {"new_address": ADDRESS}}))
    # A second call waits in the queue (Lucía is busy or wrapping up) and a callback is due.
    ok(api.post("/v1/tasks", json={
        "queue": "atencion", "channel": "voice", "identifiers": {"phone": PHONE},
        "attributes": {"subject": f"otra vez {FIRST}"}}), 201)
    ok(api.post("/v1/callbacks", json={
        "queue": "rellamadas", "identifiers": {"email": EMAIL},
        "window_end": "2026-11-25T10:00:00+00:00",
        "attributes": {"note": f"llamar a {FIRST} {LAST}"}}), 201)
    ok(api.post(f"/v1/customers/{customer_id}/routing-overrides", json={
        "queue": "vip", "ttl_seconds": 3600, "reason": f"{FIRST} es muy importante",
        "ivr": {"message": {"es": f"Hola {FIRST}", "en": f"Hi {FIRST}"}}}), 201)


def _campaign(api: Api) -> None:
    ok(api.post("/v1/campaigns", json={
        "name": "Aviso", "source": "crm", "external_id": "AV-1", "channel": "sms",
        "purpose": "service", "message": {"es": "Hola {first_name}", "en": "Hi {first_name}"},
        "members": [{"key": f"member-{LAST}", "identifiers": {"email": EMAIL}}]}), 201)


def _database_text(database: Database) -> str:
    """Everything the database holds, as text."""
    if database.dialect == "postgresql":
        parts = []
        with database.engine.connect() as conn:
            for name in Base.metadata.tables:
                parts += [str(row[0]) for row in conn.execute(
                    text(f"SELECT t::text FROM {name} t"))]  # noqa: S608 - our table names
        return "\n".join(parts)
    path = Path(database.engine.url.database or "")
    files = [path, path.with_name(path.name + "-wal")]
    return "\n".join(f.read_bytes().decode("utf-8", "replace") for f in files if f.exists())


def _found(haystack: str) -> list[str]:
    lowered = haystack.lower()
    return [n for n in NEEDLES if n.lower() in lowered]


def _seen_everywhere(database: Database, customer_id: str) -> dict[str, Any]:
    with database.engine.connect() as conn:
        counts = {name: conn.execute(text(
            f"SELECT count(*) FROM {name} WHERE customer_id = :c"),  # noqa: S608
            {"c": customer_id}).scalar_one()
            for name in ("tasks", "routing_overrides", "journey_instances", "customer_lists",
                         "suggestions", "campaign_members", "recordings")}
        counts["outbox"] = conn.execute(text(
            "SELECT count(*) FROM outbox WHERE ordering_key = :c"), {"c": customer_id}
        ).scalar_one()
        counts["identity_suggestions"] = conn.execute(text(
            "SELECT count(*) FROM identity_suggestions WHERE profile_a = :c OR profile_b = :c"),
            {"c": customer_id}).scalar_one()
    return counts


def test_after_erasure_no_trace_is_left_in_the_database_or_the_logs(
        probe: Api, database: Database, clock: FixedClock, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    api = probe
    customer_id = _person(api)
    _contact_center(api, customer_id)
    _campaign(api)
    _recorded_call(api, tmp_path / "recordings")
    run(api)  # the journey texts, lists, overrides, suggests, and waits two hours
    card = api.card(phone="611223344")
    assert card["card"]["customer_id"] == customer_id
    counts = _seen_everywhere(database, customer_id)
    # Every feature holds something of the person before erasure (the check can see it).
    assert all(counts.values()), counts
    assert set(_found(_database_text(database))) == set(NEEDLES)

    body = ok(api.delete(f"/v1/customers/{customer_id}"))

    assert _found(_database_text(database)) == []
    assert list((tmp_path / "recordings").iterdir()) == []  # the audio is gone too
    assert body["removed"]["tasks_canceled"] >= 2 and body["removed"]["journey_instances"] == 1
    # What the server logged (the test's own HTTP client logs the URLs it calls).
    server = [r.getMessage() for r in caplog.records if not r.name.startswith("httpx")]
    assert _found("\n".join(server)) == [], server
    # The journey's timer no longer fires: two hours later nothing is sent to anyone.
    clock.advance(timedelta(hours=3))
    run(api)
    assert _found(_database_text(database)) == []
    # The other customer of the household keeps their data.
    assert "marta.otra@example.org" in _database_text(database)
