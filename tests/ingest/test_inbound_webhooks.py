"""Inbound webhooks from any system, mapped to events by the declarative mapping file."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from circulo.clock import FixedClock
from circulo.db import Database
from circulo.ingest.mapping import MappingError, compile_path, load_mappings
from tests.conftest import NOW, Api, assert_problem, custom_api

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "inbound" / "mappings.yaml"

TICKET = {
    "event": "ticket_created", "delivery_id": "d-1",
    "ticket": {"id": 881, "subject": "No funciona el robot", "priority": "high",
               "created_at": "2026-11-23T08:00:00Z"},
    "requester": {"id": 55, "email": "Ana.Ruiz@example.es", "name": "Ana Ruiz"},
}
ORDERS = {"orders": [
    {"uid": "o-1", "state": "new", "number": "PED-7", "created": "2026-11-22T10:00:00Z",
     "customer": {"email": "ana.ruiz@example.es", "phone number": "600 555 777"},
     "totals": {"gross": 59.9, "currency": "EUR"}},
    {"uid": "o-2", "state": "shipped", "number": "PED-7",
     "customer": {"email": "ana.ruiz@example.es"},
     "shipping": {"carrier": "PaqExpress", "lines": [{"tracking": "PX123"}]}},
    {"uid": "o-3", "state": "lost-in-space", "number": "PED-8"},
]}


# --- the mapping engine (pure) ----------------------------------------------------------------

@pytest.mark.parametrize(("path", "data", "expected"), [
    ("$.a.b", {"a": {"b": 1}}, 1),
    ("$.a[1].c", {"a": [{}, {"c": "x"}]}, "x"),
    ("$['phone number']", {"phone number": "600"}, "600"),
    ("$", {"k": 1}, {"k": 1}),
])
def test_paths_read_the_payload(path: str, data: Any, expected: Any) -> None:
    assert compile_path(path, "t").get(data) == expected


@pytest.mark.parametrize("path", ["a.b", "$.a..b", "$.a[x]", "$.[0]"])
def test_bad_paths_are_refused_with_the_place(path: str) -> None:
    with pytest.raises(MappingError, match="rules"):
        compile_path(path, "rules[0].id")


def test_the_example_file_maps_items_and_explains_what_it_cannot() -> None:
    mappings = load_mappings(EXAMPLE)
    [(ticket, why)] = mappings["helpdesk"].map(TICKET)
    assert why is None and ticket is not None
    assert ticket["type"] == "ticket.opened" and ticket["source"] == "helpdesk"
    assert ticket["id"] == "d-1" and ticket["channel"] == "email"
    assert ticket["identifiers"] == {"email": "Ana.Ruiz@example.es",
                                     "external_ids": {"helpdesk": 55}}
    assert ticket["properties"] == {"ticket_id": 881, "subject": "No funciona el robot",
                                    "priority": "high"}
    mapped = mappings["shop"].map(ORDERS)
    assert [e["type"] if e else why for e, why in mapped] == [
        "order.placed", "order.shipped", "no rule matched this payload"]
    assert mapped[1][0] is not None and mapped[1][0]["properties"]["tracking"] == "PX123"
    assert mappings["shop"].map({"orders": "nope"})[0][1] == (
        "items path $.orders is not a list in this payload")


@pytest.mark.parametrize(("content", "message"), [
    ("sources: {x: {rules: [{when: 'payload.a ==', type: t.x}]}}", "rules[0].when"),
    ("sources: {x: {rules: [{type: t.x, colour: red}]}}",
     "line 1: sources.x.rules[0].colour: unknown field (expected one of channel, consent"),
    ("sources: {x: {rules: [{id: $.a}]}}", "line 1: sources.x.rules[0]: needs 'type'"),
    ("sources: {x: {rules: [{type: t.x, id: '$.a b'}]}}", "rules[0].id"),
    ("nothing: here", "expected a mapping with 'sources'"),
])
def test_bad_mapping_files_are_refused_with_file_and_place(tmp_path: Path, content: str,
                                                            message: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(content)
    with pytest.raises(MappingError, match=str(path)) as caught:
        load_mappings(path)
    assert message in str(caught.value)


# --- through the API -------------------------------------------------------------------------

@pytest.fixture
def inbound_api(database: Database, clock: FixedClock) -> Iterator[Api]:
    with custom_api(database, clock, inbound_mappings=EXAMPLE) as api:
        yield api


def test_a_helpdesk_webhook_opens_a_ticket_on_the_card(inbound_api: Api) -> None:
    api = inbound_api
    response = api.post("/v1/sources/helpdesk/webhook", json=TICKET)
    assert response.status_code == 200, response.text
    card = api.card(email="ana.ruiz@example.es")["card"]
    assert card["name"] == "Ana Ruiz"
    assert [(r["kind"], r["key"]) for r in card["open_records"]] == [("ticket", "881")]
    # The helpdesk retries the same delivery: nothing twice.
    again = api.post("/v1/sources/helpdesk/webhook", json=TICKET).json()
    assert again["duplicates"] == 1


def test_a_payload_of_many_items_is_partly_mapped_and_says_which_not(inbound_api: Api) -> None:
    api = inbound_api
    response = api.post("/v1/sources/shop/webhook", json=ORDERS)
    assert response.status_code == 207, response.text
    body = response.json()
    assert body["accepted"] == 2
    assert body["errors"] == [{"index": 2, "field": "", "code": "unmapped",
                               "detail": "no rule matched this payload"}]
    records = api.card(phone="600555777", role="sales")["card"]["open_records"]
    assert [(r["key"], r["status"]) for r in records] == [("PED-7", "shipped")]


def test_unknown_sources_bad_json_and_keys(inbound_api: Api) -> None:
    api = inbound_api
    body = assert_problem(api.post("/v1/sources/erp/webhook", json={}), 404, "not_found")
    assert body["known"] == ["helpdesk", "shop"]
    assert_problem(api.post("/v1/sources/shop/webhook", content=b"{",
                            headers={"Content-Type": "application/json"}), 400,
                   "malformed_json")
    nothing = api.post("/v1/sources/shop/webhook", json={"orders": []})
    assert_problem(nothing, 422, "validation_failed")
    key = api.headers["Authorization"].removeprefix("Bearer ")
    by_query = api.client.post(f"/v1/sources/helpdesk/webhook?key={key}", json=TICKET)
    assert by_query.status_code == 200, by_query.text
    assert_problem(api.client.post("/v1/sources/helpdesk/webhook", json=TICKET), 401,
                   "unauthorized")


# --- signed sources and deliveries without an id ----------------------------------------------

SIGNED_MAPPINGS = """
sources:
  billing:
    signing: {secret: "env:TEST_BILLING_SECRET", header: X-Billing-Signature,
              timestamp_header: X-Billing-Timestamp, tolerance: 300}
    rules:
      - type: invoice.paid
        identifiers: {email: $.email}
        properties: {amount: $.amount}
  survey:
    rules:
      - type: survey.answered
        identifiers: {email: $.email}
        properties: {score: $.score}
"""
BILLING_SECRET = "billing-signing-secret"


@pytest.fixture
def signed_api(database: Database, clock: FixedClock, tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setenv("TEST_BILLING_SECRET", BILLING_SECRET)
    path = tmp_path / "mappings.yaml"
    path.write_text(SIGNED_MAPPINGS)
    with custom_api(database, clock, inbound_mappings=path) as api:
        yield api


def sign(body: bytes, at: float, secret: str = BILLING_SECRET) -> dict[str, str]:
    """The documented scheme: hex HMAC-SHA256 of "{timestamp}.{body}" (Stripe, Slack)."""
    timestamp = str(int(at))
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return {"X-Billing-Timestamp": timestamp, "X-Billing-Signature": digest.hexdigest(),
            "Content-Type": "application/json"}


INVOICE = b'{"email": "ana.ruiz@example.es", "amount": 42}'


def test_a_signed_source_takes_a_fresh_signature(signed_api: Api) -> None:
    now = NOW.timestamp()
    response = signed_api.post("/v1/sources/billing/webhook", content=INVOICE,
                               headers=sign(INVOICE, now - 299))
    assert response.status_code == 200, response.text
    prefixed = sign(INVOICE, now + 299)
    prefixed["X-Billing-Signature"] = "sha256=" + prefixed["X-Billing-Signature"]
    assert signed_api.post("/v1/sources/billing/webhook", content=INVOICE,
                           headers=prefixed).status_code == 200


@pytest.mark.parametrize("forgery", ["missing", "no timestamp", "other secret", "old",
                                     "future", "tampered", "not hex", "unparseable body"])
def test_a_signed_source_refuses_what_its_sender_did_not_sign(signed_api: Api,
                                                               forgery: str) -> None:
    now = NOW.timestamp()
    body = b"{not json" if forgery == "unparseable body" else INVOICE
    headers = {
        "missing": {"Content-Type": "application/json"},
        "no timestamp": {k: v for k, v in sign(INVOICE, now).items()
                         if k != "X-Billing-Timestamp"},
        "other secret": sign(INVOICE, now, secret="guessed"),
        "old": sign(INVOICE, now - 301),
        "future": sign(INVOICE, now + 301),
        "tampered": sign(INVOICE.replace(b"42", b"4200"), now),
        "not hex": {**sign(INVOICE, now), "X-Billing-Signature": "zz"},
        # Checked before the body is parsed: an unsigned body is never read as JSON.
        "unparseable body": sign(INVOICE, now),
    }[forgery]
    assert_problem(signed_api.post("/v1/sources/billing/webhook", content=body,
                                   headers=headers), 401, "invalid_signature")


def test_an_unsigned_source_needs_no_signature(signed_api: Api) -> None:
    response = signed_api.post("/v1/sources/survey/webhook",
                               json={"email": "ana.ruiz@example.es", "score": 9})
    assert response.status_code == 200, response.text


def test_a_delivery_without_an_id_is_deduplicated_by_its_body(signed_api: Api) -> None:
    """At-least-once senders resend; the same body (whatever its key order or spacing) is
    the same event, a different body is another one."""
    first = signed_api.post("/v1/sources/survey/webhook",
                            content=b'{"email": "ana.ruiz@example.es", "score": 9}',
                            headers={"Content-Type": "application/json"}).json()
    again = signed_api.post("/v1/sources/survey/webhook",
                            content=b'{"score":9,"email":"ana.ruiz@example.es"}',
                            headers={"Content-Type": "application/json"}).json()
    other = signed_api.post("/v1/sources/survey/webhook",
                            json={"email": "ana.ruiz@example.es", "score": 3}).json()
    assert (first["accepted"], again["accepted"], again["duplicates"], other["accepted"]) == (
        1, 0, 1, 1)


def test_a_signing_secret_that_is_not_set_stops_the_start(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    monkeypatch.delenv("TEST_BILLING_SECRET", raising=False)
    path = tmp_path / "m.yaml"
    path.write_text(SIGNED_MAPPINGS)
    with pytest.raises(MappingError, match="TEST_BILLING_SECRET"):
        load_mappings(path)
