"""What Twilio posts to Círculo: status callbacks and incoming messages, replayed from the
documented form fields (vendors/twilio) and signed as Twilio signs them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from circulo.app import create_app
from circulo.clock import FixedClock
from circulo.config import Settings
from circulo.connectors import twilio_api
from circulo.connectors.twilio_inbound import inbound_event, status_event
from circulo.context import AppContext
from circulo.db import Database
from circulo.errors import ValidationFailed
from circulo.wiring import build_context
from tests.conftest import Api, assert_problem, make_key, ok, only_customer, wipe
from tests.connectors.vendors import payload
from tests.factories import customer

TOKEN = "12345678901234567890123456789012"
PUBLIC = "https://circulo.example"
STATUS, SMS = "/v1/channels/twilio/status", "/v1/channels/twilio/sms"


def form(name: str, **changes: str) -> dict[str, str]:
    fields: dict[str, str] = payload("twilio", name)
    return {**fields, **changes}


# -- translation (pure) ---------------------------------------------------------------------------
def test_a_delivered_status_is_an_event_on_the_phone() -> None:
    event = status_event(form("status_delivered.json"))
    assert event == {
        "type": "notification.delivered", "source": "twilio",
        "id": "twilio:SM1f0e8ae6ade43cb3c0ce4525424e404f:delivered", "channel": "sms",
        "identifiers": {"phone": "+34600111222"},
        "properties": {"provider_id": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
                       "status": "delivered", "to": "+34600111222"}}


def test_the_callback_url_ids_put_the_status_on_the_customer() -> None:
    event = status_event(form("status_undelivered.json"), message_id="jm_1", customer_id="c1")
    assert event is not None
    assert event["type"] == "notification.undelivered"
    assert event["identifiers"] == {"customer_id": "c1"}
    assert event["properties"]["message_id"] == "jm_1"
    assert event["properties"]["error_code"] == 30003


@pytest.mark.parametrize("status", ["queued", "sending", "sent", "accepted", "scheduled"])
def test_in_transit_statuses_are_ignored(status: str) -> None:
    assert status_event(form("status_sent.json", MessageStatus=status)) is None


def test_a_whatsapp_read_receipt() -> None:
    event = status_event(form("status_whatsapp_read.json"))
    assert event is not None
    assert (event["type"], event["channel"], event["identifiers"]) == (
        "notification.read", "whatsapp", {"phone": "+34600111222"})
    assert event["properties"]["to"] == "whatsapp:+34600111222"


def test_a_failed_status_keeps_the_error_fields() -> None:
    event = status_event(form("status_undelivered.json", MessageStatus="failed",
                              ErrorCode="30008", ErrorMessage="Unknown error"))
    assert event is not None
    assert event["id"].endswith(":failed")
    assert (event["properties"]["error_code"], event["properties"]["error_message"]) == (
        30008, "Unknown error")


def test_a_status_without_its_ids_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        status_event({"To": "+34600111222"})
    assert [e["field"] for e in refused.value.errors or []] == ["MessageSid", "MessageStatus"]
    with pytest.raises(ValidationFailed, match="To"):
        status_event(form("status_delivered.json", To=""))


def test_an_incoming_sms_is_sms_received_from_the_sender() -> None:
    event = inbound_event(form("inbound_sms.json"))
    assert event == {
        "type": "sms.received", "source": "twilio",
        "id": "twilio:SM9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d", "channel": "sms",
        "identifiers": {"phone": "+34600111222"},
        "properties": {"text": "Mañana a las 10, gracias",
                       "provider_id": "SM9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
                       "to": "+34911222333"}}


def test_an_incoming_whatsapp_message_with_media() -> None:
    event = inbound_event(form("inbound_whatsapp.json"))
    assert (event["type"], event["channel"], event["identifiers"]) == (
        "message.received", "whatsapp", {"phone": "+34600111222"})
    [media] = event["properties"]["media"]
    assert media["content_type"] == "image/jpeg"
    assert media["url"].startswith("https://api.twilio.com/")


def test_an_incoming_message_without_sender_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="From"):
        inbound_event(form("inbound_sms.json", From=""))


# -- the routes -----------------------------------------------------------------------------------
def with_twilio(app: FastAPI) -> FastAPI:
    """The router, unless app.py already includes it."""
    if not any(getattr(route, "path", None) == SMS for route in app.routes):
        app.include_router(twilio_api.router)
    return app


@pytest.fixture
def setup(database: Database, clock: FixedClock) -> Iterator[tuple[Api, AppContext]]:
    settings = Settings(database_url=database.url, twilio_auth_token=TOKEN, public_url=PUBLIC)
    ctx = build_context(settings, clock, db=database)
    try:
        with TestClient(with_twilio(create_app(settings, ctx=ctx))) as client:
            yield Api(client, make_key(ctx, ["admin"])), ctx
    finally:
        wipe(database)


def signed(path: str, fields: dict[str, str], *, token: str = TOKEN, base: str = PUBLIC
           ) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(base + path,
                                                                             fields)}


def post(api: Api, path: str, fields: dict[str, str], headers: dict[str, str]) -> Any:
    return api.client.post(path, content=urlencode(fields), headers={
        "content-type": "application/x-www-form-urlencoded", **headers})


def _timeline(api: Api, customer_id: str) -> list[dict[str, Any]]:
    return list(ok(api.get(f"/v1/customers/{customer_id}/timeline"))["events"])


def test_an_incoming_sms_lands_on_the_customer_and_gets_empty_twiml(
        setup: tuple[Api, AppContext]) -> None:
    api, _ = setup
    ana = only_customer(api.send(customer("CRM-1", phone="600111222")))
    fields = form("inbound_sms.json")
    for _ in range(2):  # Twilio retries: recorded once
        response = post(api, SMS, fields, signed(SMS, fields))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/xml")
        assert response.text.endswith("<Response/>")
    received = [e for e in _timeline(api, ana) if e["type"] == "sms.received"]
    assert len(received) == 1
    assert received[0]["channel"] == "sms"
    assert received[0]["properties"]["text"] == "Mañana a las 10, gracias"


def test_a_status_callback_lands_on_the_customer_named_in_its_url(
        setup: tuple[Api, AppContext]) -> None:
    api, _ = setup
    ana = only_customer(api.send(customer("CRM-1", phone="600111222")))
    path = f"{STATUS}?{urlencode({'message_id': 'jm_1', 'customer_id': ana})}"
    fields = form("status_delivered.json")
    answer = ok(post(api, path, fields, signed(path, fields)))
    assert (answer["recorded"], answer["accepted"]) == ("notification.delivered", 1)
    [delivered] = [e for e in _timeline(api, ana) if e["type"] == "notification.delivered"]
    assert delivered["properties"]["message_id"] == "jm_1"
    sent = form("status_sent.json")
    ignored = ok(post(api, path, sent, signed(path, sent)))
    assert (ignored["recorded"], ignored["accepted"]) == (None, 0)


@pytest.mark.parametrize("forgery", ["missing", "other token", "other url", "tampered"])
def test_a_request_twilio_did_not_sign_is_forbidden(setup: tuple[Api, AppContext],
                                                    forgery: str) -> None:
    api, _ = setup
    fields = form("inbound_sms.json")
    headers = {
        "missing": {},
        "other token": signed(SMS, fields, token="x" * 32),
        "other url": signed(SMS, fields, base="https://attacker.example"),
        "tampered": signed(SMS, {**fields, "Body": "otra cosa"}),
    }[forgery]
    assert_problem(post(api, SMS, fields, headers), 403, "forbidden")
    assert_problem(post(api, STATUS, form("status_delivered.json"), headers), 403,
                   "forbidden")


def test_a_signed_request_missing_fields_is_a_422(setup: tuple[Api, AppContext]) -> None:
    api, _ = setup
    fields = {"Body": "hola"}
    body = assert_problem(post(api, SMS, fields, signed(SMS, fields)), 422,
                          "validation_failed")
    assert {e["field"] for e in body["errors"]} == {"MessageSid", "From"}


def test_without_an_auth_token_nothing_is_accepted(api: Api) -> None:
    with_twilio(api.client.app)
    fields = form("inbound_sms.json")
    body = assert_problem(post(api, SMS, fields, signed(SMS, fields)), 403, "forbidden")
    assert "CIRCULO_TWILIO_AUTH_TOKEN" in body["detail"]


def test_without_a_public_url_the_request_url_is_signed(database: Database,
                                                        clock: FixedClock) -> None:
    settings = Settings(database_url=database.url, twilio_auth_token=TOKEN)
    ctx = build_context(settings, clock, db=database)
    try:
        with TestClient(with_twilio(create_app(settings, ctx=ctx))) as client:
            api = Api(client, "")
            fields = form("inbound_sms.json")
            good = post(api, SMS, fields, signed(SMS, fields, base="http://testserver"))
            assert good.status_code == 200, good.text
            assert_problem(post(api, SMS, fields, signed(SMS, fields)), 403, "forbidden")
    finally:
        wipe(database)


def test_an_unparseable_sender_is_not_written_to_the_log(
        setup: tuple[Api, AppContext], caplog: pytest.LogCaptureFixture) -> None:
    """Recorded nowhere, and logged as a warning: the log shows its last digits only."""
    api, _ = setup
    fields = form("inbound_sms.json", From="+999612345678")
    with caplog.at_level(logging.DEBUG):
        response = post(api, SMS, fields, signed(SMS, fields))
    assert response.status_code == 200, response.text
    assert "not recorded" in caplog.text and "…78" in caplog.text
    assert "612345678" not in caplog.text
