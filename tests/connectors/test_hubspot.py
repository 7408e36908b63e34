"""The HubSpot connector, through the official ``hubspot-api-client``, against a local server
that answers with HubSpot's documented payloads (tests/connectors/vendors/hubspot/)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from circulo.clock import FixedClock
from circulo.connectors.crm import CrmContact, CrmError
from circulo.connectors.hubspot.connector import HubSpotConfig, HubSpotConnector
from circulo.context import AppContext
from circulo.db import Database
from circulo.egress import EgressPolicy
from tests.conftest import TEST_EGRESS_ALLOW, Api, ok, only_customer
from tests.connectors.helpers import app_with_connectors, drain, outbox
from tests.connectors.vendors import FakeHubSpot, serve
from tests.factories import customer, event

CONNECTED = "f240bbac-87c9-4f6e-bf70-924b57d47db7"  # HubSpot's default "Connected" outcome

# The fake vendor listens on this machine, which connectors may not reach unless allowed.
LOCAL = EgressPolicy.parse(TEST_EGRESS_ALLOW)


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    fake = FakeHubSpot()
    with serve(fake) as url:
        fake.url = url
        yield fake


def _connector(fake: FakeHubSpot, **extra: Any) -> dict[str, Any]:
    return {"type": "hubspot", "event_types": ["call.wrapped_up", "email.replied",
                                               "chat.completed"],
            "config": {"access_token": "${HUBSPOT_TOKEN}", "host": fake.url,
                       "call_outcomes": {"resolved": CONNECTED}, **extra}}


@pytest.fixture
def setup(database: Database, clock: FixedClock, tmp_path: Path, hubspot: FakeHubSpot,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Api, AppContext]]:
    monkeypatch.setenv("HUBSPOT_TOKEN", hubspot.token)
    with app_with_connectors(database, clock, tmp_path,
                             {"hubspot": _connector(hubspot)}) as pair:
        yield pair


def _wrap_up(**properties: Any) -> dict[str, Any]:
    return event("call.wrapped_up", channel="voice", identifiers={"phone": "600123456"},
                 occurred_at="2026-11-24T09:55:00Z",
                 properties={"disposition": "resolved", "duration": 240,
                             "notes": "Cambio de dirección", "order_id": "PED-88",
                             **properties})


def test_wrap_up_creates_the_contact_logs_the_call_and_links_it(
        setup: tuple[Api, AppContext], hubspot: FakeHubSpot) -> None:
    api, ctx = setup
    maria = only_customer(api.send(customer("CRM-1", phone="600123456",
                                            email="maria@example.es", name="María López")))
    api.send(_wrap_up())
    assert drain(ctx) == 1
    [(contact_id, contact)] = hubspot.contacts.items()
    assert contact == {"email": "maria@example.es", "firstname": "María",
                       "lastname": "López", "phone": "+34600123456"}
    [call] = hubspot.engagements
    assert call["type"] == "calls"
    assert call["associations"] == [{"to": {"id": contact_id}, "types": [
        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 194}]}]
    properties = call["properties"]
    assert properties["hs_call_duration"] == "240000"  # HubSpot counts milliseconds
    assert properties["hs_call_disposition"] == CONNECTED
    assert properties["hs_call_direction"] == "INBOUND"
    assert properties["hs_timestamp"].startswith("2026-11-24T09:55:00")
    assert "Cambio de dirección" in properties["hs_call_body"]
    assert "order_id: PED-88" in properties["hs_call_body"]
    assert outbox(ctx) == [("delivered", None, 1)]
    # The CRM id comes back: the card can pop the HubSpot record, the next call skips search.
    identifiers = ok(api.get(f"/v1/customers/{maria}"))["identifiers"]
    assert {"kind": "external_id", "value": f"hubspot:{contact_id}"} in [
        {"kind": i["kind"], "value": i["value"]} for i in identifiers]
    hubspot.requests.clear()
    api.send(_wrap_up(notes="Segunda llamada"))
    drain(ctx)
    assert [(r.method, r.path) for r in hubspot.requests] == [
        ("POST", "/crm/v3/objects/calls")]


def test_an_existing_contact_is_found_by_phone(setup: tuple[Api, AppContext],
                                               hubspot: FakeHubSpot) -> None:
    api, ctx = setup
    hubspot.contacts["77"] = {"mobilephone": "+34600123456", "firstname": "María"}
    api.send(customer("CRM-1", phone="600123456", email="otra@example.es"))
    api.send(_wrap_up())
    drain(ctx)
    assert list(hubspot.contacts) == ["77"]
    search = next(r for r in hubspot.requests if r.path.endswith("/search"))
    assert [g["filters"][0]["propertyName"] for g in search.body["filterGroups"]] == [
        "email", "phone", "mobilephone"]
    assert hubspot.engagements[0]["associations"][0]["to"]["id"] == "77"


@pytest.mark.parametrize(("event_type", "channel", "object_type", "association", "extra"), [
    ("email.replied", "email", "emails", 198, {"hs_email_direction": "INCOMING_EMAIL"}),
    ("chat.completed", "whatsapp", "communications", 81,
     {"hs_communication_channel_type": "WHATS_APP"}),
    ("chat.completed", "chat", "notes", 202, {}),
])
def test_each_channel_becomes_its_hubspot_engagement(
        setup: tuple[Api, AppContext], hubspot: FakeHubSpot, event_type: str, channel: str,
        object_type: str, association: int, extra: dict[str, str]) -> None:
    api, ctx = setup
    api.send(customer("CRM-1", phone="600123456", email="maria@example.es"))
    api.send(event(event_type, channel=channel, identifiers={"email": "maria@example.es"},
                   properties={"notes": "Pregunta por la factura"}))
    drain(ctx)
    [engagement] = hubspot.engagements
    assert engagement["type"] == object_type
    assert engagement["associations"][0]["types"][0]["associationTypeId"] == association
    assert extra.items() <= engagement["properties"].items()
    assert "Pregunta por la factura" in str(engagement["properties"])


def test_rate_limits_are_retried_and_a_bad_token_is_dead_with_the_reason(
        setup: tuple[Api, AppContext], hubspot: FakeHubSpot, clock: FixedClock) -> None:
    api, ctx = setup
    api.send(customer("CRM-1", phone="600123456", email="maria@example.es"))
    hubspot.fail_with = 429
    api.send(_wrap_up())
    drain(ctx)
    [(status, error, _)] = outbox(ctx)
    assert status == "pending" and error is not None and "429 Too Many Requests" in error
    assert "secondly limit" not in error  # the status, not what HubSpot said
    hubspot.fail_with = None
    hubspot.token = "rotated"
    for _ in range(4):
        clock.advance(timedelta(minutes=10))
        drain(ctx)
    [(status, error, attempts)] = outbox(ctx)
    assert (status, attempts) == ("dead", 3)  # one 429, then two refusals
    assert error is not None and "401 Unauthorized" in error
    assert "Authentication credentials" not in error
    assert hubspot.engagements == []


def test_a_contact_created_meanwhile_is_taken_from_the_conflict_answer(
        hubspot: FakeHubSpot) -> None:
    connector = HubSpotConnector("hubspot", HubSpotConfig.model_validate(
        {"access_token": hubspot.token, "host": hubspot.url}), egress=LOCAL)
    hubspot.contacts["901"] = {"email": "maria@example.es"}
    contact = CrmContact("cus_1", "María", "maria@example.es", None, None)
    assert connector.create_contact(contact) == "901"
    assert len(hubspot.contacts) == 1


def test_list_members_are_read_page_by_page(hubspot: FakeHubSpot) -> None:
    connector = HubSpotConnector("hubspot", HubSpotConfig.model_validate(
        {"access_token": hubspot.token, "host": hubspot.url}), egress=LOCAL)
    for n in range(230):
        hubspot.contacts[str(1000 + n)] = {"email": f"c{n}@example.es", "firstname": f"C{n}",
                                           "mobilephone": f"+3460000{n:04d}"}
    hubspot.lists["42"] = [str(1000 + n) for n in range(230)]
    members = list(connector.list_members("42"))
    assert len(members) == 230
    assert members[5].email == "c5@example.es" and members[5].phones == ["+34600000005"]
    assert sum(r.path == "/crm/v3/lists/42/memberships" for r in hubspot.requests) == 3
    with pytest.raises(CrmError, match="404"):
        list(connector.list_members("nope"))


def test_an_unreachable_hubspot_is_a_retryable_error() -> None:
    connector = HubSpotConnector("hubspot", HubSpotConfig.model_validate(
        {"access_token": "x", "host": "http://127.0.0.1:9", "timeout_seconds": 2}), egress=LOCAL)
    with pytest.raises(CrmError) as caught:
        connector.find_contact(CrmContact("cus_1", None, "a@example.es", None, None))
    assert caught.value.status_code is None


def test_a_hubspot_host_resolving_inside_is_refused_when_connecting(hubspot: FakeHubSpot) -> None:
    # Found in review: HubSpot's own client connected wherever its host resolved.
    config = HubSpotConfig.model_validate(
        {"access_token": hubspot.token, "host": hubspot.url.replace("127.0.0.1", "localhost"),
         "timeout_seconds": 2})
    refused = HubSpotConnector("hubspot", config, egress=EgressPolicy())
    with pytest.raises(CrmError, match="refused: private address") as caught:
        refused.find_contact(CrmContact("cus_1", None, "a@example.es", None, None))
    assert caught.value.status_code is None and hubspot.requests == []
    allowed = HubSpotConnector("hubspot", config, egress=EgressPolicy.parse(["localhost"]))
    assert allowed.find_contact(CrmContact("cus_1", None, "a@example.es", None, None)) is None
    assert len(hubspot.requests) == 1
