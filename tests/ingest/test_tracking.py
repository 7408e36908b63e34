"""Segment-compatible tracking endpoints, driven by the unmodified official clients
(segment-analytics-python and rudder-sdk-python) against a real Círculo server."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson
import pytest
from rudderstack.analytics.client import Client as RudderClient
from segment.analytics.client import Client as SegmentClient

from circulo.context import AppContext
from circulo.ingest.tracking import MessageError, event_type_for_track, to_event
from tests.conftest import Api, assert_problem, make_key
from tests.live import live_server

# --- the mapping (pure) ----------------------------------------------------------------------

@pytest.mark.parametrize(("name", "expected"), [
    ("Order Completed", "order.completed"), ("Product Added to Cart", "product_added_to.cart"),
    ("Signup", "track.signup"), ("Página vista", "pagina.vista"),
    ("Cita reservada 🎉", "cita.reservada"),
])
def test_track_names_become_event_types(name: str, expected: str) -> None:
    assert event_type_for_track(name) == expected


def test_identify_maps_reserved_traits_and_identifiers() -> None:
    event = to_event({
        "type": "identify", "userId": "u-1", "anonymousId": "a-1", "messageId": "m-1",
        "timestamp": "2026-11-20T10:00:00.000Z",
        "traits": {"firstName": "Lucía", "lastName": "Gil", "email": "Lucia@Example.es",
                   "phone": "600 123 456", "address": {"postalCode": "28013", "city": "Madrid"},
                   "company": {"name": "Gil SL"}, "plan": "pro"},
    }, default_type=None, source="app", region="ES")
    assert event["type"] == "customer.identified"
    assert event["id"] == "m-1"
    assert event["occurred_at"] == "2026-11-20T10:00:00.000Z"
    assert event["identifiers"] == {"external_ids": {"app": "u-1"}, "anonymous_id": "a-1",
                                    "email": "Lucia@Example.es", "phone": "+34600123456"}
    assert event["traits"] == {"first_name": "Lucía", "last_name": "Gil", "postal_code": "28013",
                               "city": "Madrid", "company": "Gil SL", "plan": "pro"}


@pytest.mark.parametrize(("message", "field"), [
    ({"type": "track", "event": "X Y"}, "userId"),
    ({"type": "track", "userId": "u"}, "event"),
    ({"type": "alias", "userId": "u"}, "previousId"),
    ({"type": "shout", "userId": "u"}, "type"),
    ({"type": "identify", "userId": "u", "traits": ["not", "an", "object"]}, "traits"),
    ({"type": "track", "userId": "u", "event": "X", "properties": "s"}, "properties"),
    ({"type": "track", "userId": "u", "event": "X", "context": [1]}, "context"),
])
def test_invalid_messages_name_the_field(message: dict[str, Any], field: str) -> None:
    with pytest.raises(MessageError) as caught:
        to_event(message, default_type=None, source="app", region="ES")
    assert caught.value.field == field


# --- the real clients against a real server --------------------------------------------------

@pytest.fixture
def server(ctx: AppContext) -> Iterator[str]:
    with live_server(ctx.db.url) as base:
        yield base


def _segment(key: str, host: str) -> SegmentClient:
    return SegmentClient(write_key=key, host=host, sync_mode=True, max_retries=0)


def _rudder(key: str, host: str) -> RudderClient:
    return RudderClient(write_key=key, host=host, sync_mode=True, max_retries=0)


def test_segment_client_identify_track_page_land_on_one_profile(
        ctx: AppContext, api: Api, server: str) -> None:
    client = _segment(make_key(ctx, ["ingest"], "web-sdk"), server)
    client.identify("user-42", {"firstName": "Lucía", "lastName": "Gil",
                                "email": "lucia.gil@example.es", "phone": "600 987 654"})
    client.track("user-42", "Order Completed", {"order_id": "W-1001", "total": 129.9,
                                                "currency": "EUR"})
    client.page("user-42", category="Tienda", name="Sofás",
                properties={"url": "https://shop.example.es/sofas"})
    client.flush()

    card = api.card(phone="600987654", role="sales")
    assert card["match"] == "unique"
    assert card["card"]["name"] == "Lucía Gil"
    customer = card["card"]["customer_id"]
    timeline = api.get(f"/v1/customers/{customer}/timeline").json()["events"]
    assert {e["type"] for e in timeline} == {"customer.identified", "order.completed",
                                             "page.viewed"}
    page = next(e for e in timeline if e["type"] == "page.viewed")
    assert page["channel"] == "web" and page["properties"]["name"] == "Sofás"
    records = api.get(f"/v1/customers/{customer}/records").json()["records"]
    assert [(r["kind"], r["key"], r["amount"]) for r in records] == [("order", "W-1001", 129.9)]
    # The same card by email: one person, whichever identifier the desk has.
    assert api.card(email="lucia.gil@example.es")["card"]["customer_id"] == customer


def test_rudder_client_batches_gzip_and_aliases_an_anonymous_visitor(
        ctx: AppContext, api: Api, server: str) -> None:
    client = _rudder(make_key(ctx, ["ingest"], "app-sdk"), server)
    client.track(anonymous_id="visitor-7", event="Product Viewed",
                 properties={"product_id": "SOFA-3"})
    client.screen(anonymous_id="visitor-7", name="Checkout")
    client.alias(previous_id="visitor-7", user_id="user-77")
    client.identify(user_id="user-77", traits={"email": "pablo@example.es", "name": "Pablo"})
    client.flush()

    card = api.card(email="pablo@example.es")
    assert card["match"] == "unique"
    customer = card["card"]["customer_id"]
    types = [e["type"] for e in api.get(f"/v1/customers/{customer}/timeline").json()["events"]]
    # The anonymous visit before the alias is now on the identified customer's timeline.
    assert sorted(types) == ["customer.identified", "identity.aliased", "product.viewed",
                             "screen.viewed"]


def test_resent_messages_are_not_duplicated(ctx: AppContext, api: Api, server: str) -> None:
    client = _segment(make_key(ctx, ["ingest"]), server)
    for _ in range(2):
        client.track("user-9", "Call Requested", {"slot": "mañana"},
                     message_id="same-message", timestamp=datetime(2026, 11, 20, 9, 0))
    client.identify("user-9", {"email": "nueve@example.es"})
    client.flush()
    customer = api.card(email="nueve@example.es")["card"]["customer_id"]
    events = api.get(f"/v1/customers/{customer}/timeline").json()["events"]
    assert [e["type"] for e in events].count("call.requested") == 1


# --- the HTTP surface ----------------------------------------------------------------------

def test_basic_auth_gzip_and_partial_batches(ctx: AppContext, api: Api) -> None:
    key = make_key(ctx, ["ingest"])
    body = gzip.compress(orjson.dumps({"batch": [
        {"type": "identify", "userId": "u-1", "traits": {"email": "uno@example.es"}},
        {"type": "track", "userId": "u-1"},
    ], "context": {"library": {"name": "curl"}}}))
    response = api.client.post("/v1/batch", content=body, auth=(key, ""),
                               headers={"Content-Encoding": "gzip",
                                        "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["success"] is True and result["accepted"] == 1
    assert result["errors"] == [{"index": 1, "field": "event", "code": "invalid_message",
                                 "detail": "a track call needs an event name"}]


def test_errors_are_problems_that_sdks_can_log(ctx: AppContext, api: Api) -> None:
    bad_key = api.client.post("/v1/track", json={"userId": "u", "event": "A B"},
                              auth=("ck_nope_nope", ""))
    body = assert_problem(bad_key, 401, "unauthorized")
    assert body["success"] is False and body["message"]
    read_only = make_key(ctx, ["read"])
    assert_problem(api.client.post("/v1/track", json={"userId": "u", "event": "A B"},
                                   auth=(read_only, "")), 403, "forbidden")
    key = make_key(ctx, ["ingest"])
    nothing = api.client.post("/v1/batch", json={"batch": [{"type": "track"}]},
                              auth=(key, ""))
    assert assert_problem(nothing, 422, "validation_failed")["errors"][0]["field"] == "userId"
    assert_problem(api.client.post("/v1/identify", content=b"{oops", auth=(key, "")),
                   400, "malformed_json")
    in_body = api.client.post("/v1/track", json={"userId": "u", "event": "A B",
                                                 "writeKey": key})
    assert in_body.status_code == 200, in_body.text


def test_a_message_of_the_wrong_shape_costs_only_itself(ctx: AppContext, api: Api) -> None:
    # Found in review: a string `properties` or a list `context` beside a shared context
    # raised inside the batch (500), losing the valid messages with it.
    key = make_key(ctx, ["ingest"])
    response = api.client.post("/v1/batch", auth=(key, ""), json={"batch": [
        {"type": "track", "userId": "u-1", "event": "Order Completed"},
        {"type": "track", "userId": "u-1", "event": "X", "context": "x"},
        {"type": "track", "userId": "u-1", "event": "X", "context": [1]},
        {"type": "track", "userId": "u-1", "event": "X", "properties": "s"},
    ], "context": {"library": {"name": "curl"}}})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["accepted"] == 1
    assert [(e["index"], e["field"]) for e in result["errors"]] == [
        (1, "context"), (2, "context"), (3, "properties")]
