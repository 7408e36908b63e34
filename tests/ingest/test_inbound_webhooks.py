"""Inbound webhooks from any system, mapped to events by the declarative mapping file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from circulo.clock import FixedClock
from circulo.db import Database
from circulo.ingest.mapping import MappingError, compile_path, load_mappings
from tests.conftest import Api, assert_problem, custom_api

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
