"""Contact changes pushed by the CRMs: HubSpot webhooks (signature v3) and Salesforce
Outbound Messages (SOAP), replayed from the vendors' documented payloads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hubspot.utils.signature import Signature
from sqlalchemy import text

from circulo.clock import FixedClock
from circulo.context import AppContext
from circulo.db import Database
from tests.conftest import NOW, Api, assert_problem, ok
from tests.connectors.helpers import app_with_connectors, drain, outbox
from tests.connectors.vendors import HERE, FakeHubSpot, payload, serve

SECRET = "hs-client-secret"
URL = "http://testserver/v1/crm/hubspot/webhook"
SF_TOKEN = "sf-inbound-token"


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    fake = FakeHubSpot()
    with serve(fake) as url:
        fake.url = url
        yield fake


@pytest.fixture
def setup(database: Database, clock: FixedClock, tmp_path: Path, hubspot: FakeHubSpot
          ) -> Iterator[tuple[Api, AppContext]]:
    connectors = {
        "hubspot": {"type": "hubspot", "event_types": ["call.wrapped_up"], "config": {
            "access_token": hubspot.token, "host": hubspot.url, "client_secret": SECRET}},
        "salesforce": {"type": "salesforce", "namespace": "sf",
                       "event_types": ["call.wrapped_up"], "config": {
                           "instance_url": "https://aurora.my.salesforce.com",
                           "auth": {"session_id": "x"}, "inbound_token": SF_TOKEN,
                           "organization_id": "00D5g000004Eqj3EAC"}},
    }
    with app_with_connectors(database, clock, tmp_path, connectors) as pair:
        yield pair


def _signed(body: bytes, *, secret: str = SECRET, at: float | None = None,
            uri: str = URL) -> dict[str, str]:
    timestamp = str(int((at or NOW.timestamp()) * 1000))
    return {"content-type": "application/json",
            "x-hubspot-request-timestamp": timestamp,
            "x-hubspot-signature-v3": Signature.get_signature(
                secret, body.decode(), "v3", uri, "POST", timestamp)}


def _by_external(api: Api, value: str) -> dict[str, Any]:
    card = ok(api.get("/v1/cards", params={"external_id": value}))
    assert card["match"] == "unique", card
    return ok(api.get(f"/v1/customers/{card['card']['customer_id']}"))


def _identifiers(profile: dict[str, Any]) -> set[tuple[str, str]]:
    return {(i["kind"], i["value"]) for i in profile["identifiers"]}


def test_hubspot_contact_changes_update_the_customer_and_new_contacts_are_read(
        setup: tuple[Api, AppContext], hubspot: FakeHubSpot) -> None:
    api, ctx = setup
    hubspot.contacts["9001"] = {"email": "jaume.serra@example.es", "firstname": "Jaume",
                                "lastname": "Serra", "mobilephone": "+34 655 44 33 22"}
    body = (HERE / "hubspot" / "webhook_contact_events.json").read_bytes()
    answer = ok(api.client.post("/v1/crm/hubspot/webhook", content=body, headers=_signed(body)))
    assert (answer["accepted"], answer["fetching"], answer["ignored"]) == (3, 1, 0)
    nuria = _by_external(api, "hubspot:9002")
    assert {("phone", "+34611223344"), ("email", "nuria.vidal@example.es")} <= _identifiers(
        nuria)
    # The creation event carries only an id: the worker reads the contact through the API.
    assert drain(ctx) == 1
    jaume = _by_external(api, "hubspot:9001")
    assert jaume["name"] == "Jaume Serra"
    assert {("email", "jaume.serra@example.es"), ("phone", "+34655443322")} <= _identifiers(
        jaume)
    # HubSpot retries deliver the same events again: nothing changes twice.
    again = ok(api.client.post("/v1/crm/hubspot/webhook", content=body, headers=_signed(body)))
    assert (again["accepted"], again["duplicates"], again["fetching"]) == (0, 4, 0)


@pytest.mark.parametrize("tamper", ["secret", "old", "future", "body", "missing"])
def test_hubspot_requests_that_are_not_from_hubspot_are_refused(
        setup: tuple[Api, AppContext], tamper: str) -> None:
    api, _ = setup
    body = orjson.dumps(payload("hubspot", "webhook_contact_events.json")[1:2])
    headers = {"secret": _signed(body, secret="another"),
               "old": _signed(body, at=NOW.timestamp() - 600),
               # HubSpot's window is five minutes either way: a timestamp ahead of the clock
               # is a request signed to be replayed later.
               "future": _signed(body, at=NOW.timestamp() + 600),
               "body": _signed(body + b" "),
               "missing": {"content-type": "application/json"}}[tamper]
    assert_problem(api.client.post("/v1/crm/hubspot/webhook", content=body, headers=headers),
                   403, "forbidden")


def test_a_replayed_contact_creation_reads_the_contact_once(
        setup: tuple[Api, AppContext], hubspot: FakeHubSpot) -> None:
    api, ctx = setup
    body = orjson.dumps(payload("hubspot", "webhook_contact_events.json")[:1] * 2)
    answers = [ok(api.client.post("/v1/crm/hubspot/webhook", content=body,
                                  headers=_signed(body))) for _ in range(5)]
    assert [a["fetching"] for a in answers] == [1, 0, 0, 0, 0]
    assert [a["duplicates"] for a in answers] == [1, 2, 2, 2, 2]
    assert [status for status, _, _ in outbox(ctx)] == ["pending"]
    # Another creation event (another eventId) is not a replay.
    other = orjson.dumps([{**payload("hubspot", "webhook_contact_events.json")[0],
                           "eventId": 1883240199}])
    assert ok(api.client.post("/v1/crm/hubspot/webhook", content=other,
                              headers=_signed(other)))["fetching"] == 1


def test_remembered_event_ids_are_forgotten_after_the_retention(
        setup: tuple[Api, AppContext], clock: FixedClock) -> None:
    api, ctx = setup
    creation = payload("hubspot", "webhook_contact_events.json")[0]

    def post(event_id: int) -> dict[str, Any]:
        body = orjson.dumps([{**creation, "eventId": event_id}])
        at = clock.now().timestamp()
        return ok(api.client.post("/v1/crm/hubspot/webhook", content=body,
                                  headers=_signed(body, at=at)))

    def remembered() -> list[str]:
        with ctx.db.unit_of_work(write=False) as session:
            return list(session.scalars(text("SELECT event_id FROM vendor_events_seen")))

    assert post(1)["fetching"] == 1
    clock.advance(ctx.settings.vendor_event_retention + timedelta(minutes=1))
    assert post(2)["fetching"] == 1
    assert remembered() == ["hubspot-2-9001"]


def test_salesforce_replays_change_nothing_twice(setup: tuple[Api, AppContext]) -> None:
    """Each Notification Id is the event id: a resent Outbound Message is a duplicate."""
    api, ctx = setup
    body = (HERE / "salesforce" / "outbound_message.xml").read_bytes()
    for _ in range(3):
        assert api.client.post(f"/v1/crm/salesforce/webhook?token={SF_TOKEN}", content=body,
                               headers={"content-type": "text/xml"}).status_code == 200
    with ctx.db.unit_of_work(write=False) as session:
        stored = session.execute(text("SELECT count(*) FROM events WHERE source = 'salesforce'"
                                      )).scalar_one()
    assert stored == 2


def test_salesforce_outbound_messages_update_contacts_and_are_acknowledged(
        setup: tuple[Api, AppContext]) -> None:
    api, _ = setup
    body = (HERE / "salesforce" / "outbound_message.xml").read_bytes()
    response = api.client.post(f"/v1/crm/salesforce/webhook?token={SF_TOKEN}", content=body,
                               headers={"content-type": "text/xml; charset=utf-8",
                                        "soapaction": '""'})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert b"<Ack>true</Ack>" in response.content
    jordi = _by_external(api, "sf:0035g00000XyZ1aAAF")
    assert jordi["name"] == "Jordi Puig"
    assert {("email", "jordi.puig@example.es"), ("phone", "+34622334455"),
            ("phone", "+34935551212")} <= _identifiers(jordi)
    assert _by_external(api, "sf:0035g00000XyZ1bAAF")["name"] == "Ruiz"


BOMB = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;</l>')


@pytest.mark.parametrize(("url", "body", "status", "code"), [
    ("/v1/crm/salesforce/webhook?token=wrong", None, 403, "forbidden"),
    ("/v1/crm/salesforce/webhook", None, 403, "forbidden"),
    (f"/v1/crm/salesforce/webhook?token={SF_TOKEN}", b"<not xml", 422, "validation_failed"),
    (f"/v1/crm/salesforce/webhook?token={SF_TOKEN}", BOMB, 422, "validation_failed"),
    (f"/v1/crm/salesforce/webhook?token={SF_TOKEN}",
     (HERE / "salesforce" / "outbound_message.xml").read_bytes().replace(
         b"00D5g000004Eqj3EAC", b"00D000000000001AAA"), 403, "forbidden"),
    ("/v1/crm/nope/webhook", b"[]", 404, "not_found"),
])
def test_bad_salesforce_messages_are_refused(setup: tuple[Api, AppContext], url: str,
                                             body: bytes | None, status: int, code: str
                                             ) -> None:
    api, _ = setup
    content = body if body is not None else (HERE / "salesforce" /
                                             "outbound_message.xml").read_bytes()
    assert_problem(api.client.post(url, content=content,
                                   headers={"content-type": "text/xml"}), status, code)
