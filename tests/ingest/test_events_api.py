"""POST /v1/events: one event or a batch; item-by-item validation with RFC 9457 problems;
idempotency on (source, id); anonymous events and junk identifiers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import orjson
import pytest

from circulo.clock import FixedClock
from circulo.context import AppContext
from circulo.db import Database
from tests.conftest import NOW, Api, assert_problem, custom_api
from tests.factories import customer, event


def _item_errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = body["errors"]
    assert errors, body
    for error in errors:
        assert set(error) >= {"index", "field", "code", "detail"}, error
        assert error["detail"]
    return errors


def _reject_one(api: Api, **fields: Any) -> dict[str, Any]:
    """Send one event (single-object form) expected to be rejected; return its only error."""
    body = assert_problem(api.post("/v1/events", json=event(at=NOW, **fields)), 422,
                    "validation_failed")
    errors = _item_errors(body)
    assert {e["index"] for e in errors} == {0}
    return errors[0]


def _customer_view(api: Api, customer_id: str) -> dict[str, Any]:
    response = api.get(f"/v1/customers/{customer_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- accepted shapes ---------------------------------------------------------------------------

def test_a_single_event_object_is_accepted(api: Api) -> None:
    response = api.post("/v1/events", json=event(at=NOW, identifiers={"phone": "600111222"},
                                                 channel="voice"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (1, 0, 0)
    assert body["errors"] == []
    [result] = body["results"]
    assert result["index"] == 0
    assert result["status"] == "accepted"
    assert result["event_id"]
    assert result["customer_id"]
    assert result["resolution"] == "created"


def test_a_batch_is_accepted_and_results_follow_the_input_order(api: Api) -> None:
    body = api.send(
        customer("CRM-1", phone="600 111 222", first_name="Ana"),
        event(at=NOW, identifiers={"phone": "+34600111222"}),
        event(at=NOW, identifiers={"external_ids": {"crm": "CRM-2"}}),
    )
    assert body["accepted"] == 3
    assert [r["index"] for r in body["results"]] == [0, 1, 2]
    ana = body["results"][0]["customer_id"]
    assert body["results"][1]["customer_id"] == ana
    assert body["results"][1]["resolution"] == "attached"
    assert body["results"][2]["customer_id"] not in (None, ana)


def test_a_batch_of_a_thousand_events_is_accepted(api: Api) -> None:
    events = [
        event("call.completed", at=NOW, ago=timedelta(minutes=i), channel="voice",
              identifiers={"phone": f"6{i % 100:08d}"})
        for i in range(1000)
    ]
    body = api.send(*events)
    assert body["accepted"] == 1000
    assert body["rejected"] == 0
    assert len(body["results"]) == 1000
    assert len({r["event_id"] for r in body["results"]}) == 1000
    customers = {r["customer_id"] for r in body["results"]}
    assert len(customers) == 100
    # Ten calls each, all counted on each customer's profile.
    some = next(iter(customers))
    assert _customer_view(api, some)["indicators"]["contacts_total"] == 10


# --- whole-request problems --------------------------------------------------------------------

def test_malformed_json_is_a_400_problem(api: Api) -> None:
    response = api.post("/v1/events", content=b'{"type": "call.completed", "source": ',
                        headers={"Content-Type": "application/json"})
    body = assert_problem(response, 400, "malformed_json")
    assert "JSON" in body["detail"]
    assert body["instance"] == "/v1/events"


def test_a_body_that_is_not_an_event_is_a_422_problem(api: Api) -> None:
    assert_problem(api.post("/v1/events", json="call.completed"), 422, "validation_failed")


def test_an_empty_batch_is_a_422_problem(api: Api) -> None:
    body = assert_problem(api.post("/v1/events", json={"events": []}), 422, "validation_failed")
    assert body["errors"][0]["field"] == "events"


def test_events_must_be_a_list(api: Api) -> None:
    body = assert_problem(api.post("/v1/events", json={"events": {"type": "call.completed"}}), 422,
                    "validation_failed")
    assert body["errors"][0]["field"] == "events"


def test_an_oversized_batch_is_a_413_problem(api: Api, ctx: AppContext) -> None:
    limit = ctx.settings.max_batch_size
    assert limit == 5000  # the documented default
    items = [{"type": "call.completed", "source": "pbx"}] * (limit + 1)
    body = assert_problem(api.post("/v1/events", json={"events": items}), 413, "payload_too_large")
    assert body["limit"] == limit
    assert str(limit) in body["detail"]


@pytest.fixture
def small_batch_api(database: Database, clock: FixedClock) -> Iterator[Api]:
    with custom_api(database, clock, max_batch_size=3) as api:
        yield api


def test_the_batch_limit_is_inclusive_and_nothing_of_a_refused_batch_is_kept(
        small_batch_api: Api) -> None:
    api = small_batch_api
    phone = {"phone": "600111222"}
    response = api.post("/v1/events", json={"events": [
        event(at=NOW, identifiers=phone) for _ in range(4)]})
    body = assert_problem(response, 413, "payload_too_large")
    assert body["limit"] == 3
    assert api.card(phone="600111222")["match"] == "none"
    accepted = api.send(*[event(at=NOW, identifiers=phone) for _ in range(3)])
    assert accepted["accepted"] == 3
    assert api.card(phone="600111222")["match"] == "unique"


# --- item problems -----------------------------------------------------------------------------

def test_an_unknown_top_level_field_is_refused(api: Api) -> None:
    error = _reject_one(api, colour="blue")
    assert error["field"] == "colour"
    assert error["code"] == "extra_forbidden"


def test_an_unknown_identifier_kind_is_refused(api: Api) -> None:
    error = _reject_one(api, identifiers={"passport": "X123"})
    assert error["field"] == "identifiers.passport"
    assert error["code"] == "extra_forbidden"


@pytest.mark.parametrize(("fields", "field"), [
    ({"type": 42}, "type"),
    ({"type": "CallCompleted"}, "type"),
    ({"source": "Not A Source!"}, "source"),
    ({"channel": "pigeon"}, "channel"),
    ({"traits": ["not", "an", "object"]}, "traits"),
    ({"identifiers": "600111222"}, "identifiers"),
    ({"consent": [{"channel": "sms", "purpose": "marketing", "granted": "perhaps"}]},
     "consent.0.granted"),
])
def test_wrong_types_name_the_field(api: Api, fields: dict[str, Any], field: str) -> None:
    error = _reject_one(api, **fields)
    assert error["field"] == field


def test_an_impossible_date_is_refused(api: Api) -> None:
    response = api.post("/v1/events", json={"type": "call.completed", "source": "pbx",
                                            "occurred_at": "2026-02-30T10:00:00Z"})
    [error] = _item_errors(assert_problem(response, 422, "validation_failed"))
    assert error["index"] == 0
    assert error["field"] == "occurred_at"


def test_an_event_in_the_future_is_refused(api: Api) -> None:
    error = _reject_one(api, occurred_at=(NOW + timedelta(hours=1)).isoformat())
    assert error["field"] == "occurred_at"
    assert error["code"] == "in_future"


def test_a_little_clock_skew_is_tolerated(api: Api) -> None:
    body = api.send(event(occurred_at=(NOW + timedelta(seconds=60)).isoformat()))
    assert body["accepted"] == 1


def test_an_unparseable_phone_is_refused(api: Api) -> None:
    error = _reject_one(api, identifiers={"phone": "abc-not-a-phone"})
    assert error["field"] == "identifiers.phone"
    assert error["code"] == "invalid_phone"
    # The caller finds the item by its index; the detail (logged, stored) masks the value.
    assert "abc-not-a-phone" not in error["detail"]
    assert "'…ne' (15 characters)" in error["detail"]


def test_an_impossible_phone_is_refused(api: Api) -> None:
    error = _reject_one(api, identifiers={"phones": ["600111222", "12"]})
    assert error["field"] == "identifiers.phones"
    assert error["code"] == "invalid_phone"


def test_an_invalid_email_is_refused(api: Api) -> None:
    error = _reject_one(api, identifiers={"email": "maria.lopez@@example"})
    assert error["field"] == "identifiers.email"
    assert error["code"] == "invalid_email"


@pytest.mark.parametrize(("traits", "field", "code"), [
    ({"language": "français"}, "traits.language", "invalid_language"),
    ({"churn_risk": 2}, "traits.churn_risk", "invalid_probability"),
    ({"churn_risk": "high"}, "traits.churn_risk", "invalid_probability"),
    ({"churn_risk": True}, "traits.churn_risk", "invalid_probability"),
    ({"preferred_channel": "fax"}, "traits.preferred_channel", "invalid_channel"),
    ({"pin": "12"}, "traits.pin", "invalid_pin"),
])
def test_invalid_trait_values_are_refused(api: Api, traits: dict[str, Any], field: str,
                                          code: str) -> None:
    error = _reject_one(api, identifiers={"phone": "600111222"}, traits=traits)
    assert (error["field"], error["code"]) == (field, code)


def test_every_bad_trait_of_an_item_is_reported(api: Api) -> None:
    response = api.post("/v1/events", json=event(
        at=NOW, traits={"language": "français", "churn_risk": 2, "first_name": "Ana"}))
    errors = _item_errors(assert_problem(response, 422, "validation_failed"))
    assert {e["field"] for e in errors} == {"traits.language", "traits.churn_risk"}


def test_valid_trait_values_are_accepted(api: Api) -> None:
    body = api.send(event(at=NOW, identifiers={"phone": "600111222"},
                          traits={"language": "en", "churn_risk": 0.4,
                                  "preferred_channel": "whatsapp"}))
    traits = _customer_view(api, body["results"][0]["customer_id"])["traits"]
    assert traits == {"language": "en", "churn_risk": 0.4, "preferred_channel": "whatsapp"}


@pytest.mark.parametrize("language", ["fr", "es-MX", "pt-BR", "ca"])
def test_a_customer_may_speak_any_language(api: Api, language: str) -> None:
    body = api.send(event(at=NOW, identifiers={"phone": "600111222"},
                          traits={"language": language}))
    traits = _customer_view(api, body["results"][0]["customer_id"])["traits"]
    assert traits["language"] == language


def test_an_unknown_customer_id_is_refused(api: Api) -> None:
    error = _reject_one(api, identifiers={"customer_id": "nobody-like-this"})
    assert error["field"] == "identifiers.customer_id"
    assert error["code"] == "unknown_customer"


def test_a_known_customer_id_attaches(api: Api) -> None:
    ana = api.send(customer("CRM-1", first_name="Ana"))["results"][0]["customer_id"]
    result = api.send(event(at=NOW, identifiers={"customer_id": ana}))["results"][0]
    assert result["customer_id"] == ana


# --- mixed batches -----------------------------------------------------------------------------

def test_a_mixed_batch_stores_the_valid_items_and_lists_the_rejected_ones(api: Api) -> None:
    items = [
        event(at=NOW, identifiers={"phone": "600111222"}),                 # 0 ok
        event(at=NOW, identifiers={"phone": "abc-not-a-phone"}),           # 1 phone
        event(at=NOW, identifiers={"phone": "600111222"}, bogus=1),        # 2 extra field
        event(at=NOW, identifiers={"email": "ana@example.es"}),            # 3 ok
        event(at=NOW, traits={"language": "français"}),                          # 4 trait
        event(occurred_at="2026-02-30T10:00:00Z"),                         # 5 date
        "not an object",                                                   # 6
        event(at=NOW, identifiers={"customer_id": "ghost"}),               # 7 unknown customer
        event(at=NOW, ago=timedelta(minutes=5), identifiers={"phone": "600111222"}),  # 8 ok
    ]
    response = api.post("/v1/events", json={"events": items})
    assert response.status_code == 207, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (3, 0, 6)
    assert [r["index"] for r in body["results"]] == [0, 3, 8]
    assert all(r["status"] == "accepted" for r in body["results"])
    rejected = {e["index"]: e for e in _item_errors(body)}
    assert set(rejected) == {1, 2, 4, 5, 6, 7}
    assert rejected[1]["field"] == "identifiers.phone"
    assert rejected[2]["field"] == "bogus"
    assert rejected[4]["field"] == "traits.language"
    assert rejected[5]["field"] == "occurred_at"
    assert rejected[6]["code"] == "object_type"
    assert rejected[7]["code"] == "unknown_customer"
    # The accepted calls landed on one profile.
    first, last = body["results"][0], body["results"][2]
    assert first["customer_id"] == last["customer_id"]
    indicators = _customer_view(api, first["customer_id"])["indicators"]
    assert indicators["contacts_total"] == 2


def test_a_batch_whose_items_are_all_rejected_is_a_422_problem(api: Api) -> None:
    response = api.post("/v1/events", json={"events": [
        event(at=NOW, traits={"language": "français"}), event(at=NOW, colour="red")]})
    errors = _item_errors(assert_problem(response, 422, "validation_failed"))
    assert [e["index"] for e in errors] == [0, 1]


# --- idempotency -------------------------------------------------------------------------------

def test_resending_an_event_is_a_duplicate_that_changes_nothing(api: Api) -> None:
    call = event(at=NOW, ago=timedelta(hours=1), channel="voice",
                 identifiers={"phone": "600111222"})
    first = api.send(call)["results"][0]
    assert first["status"] == "accepted"
    card_before = api.card(phone="600111222")["card"]
    profile_before = _customer_view(api, first["customer_id"])

    again = api.send(call)
    assert (again["accepted"], again["duplicates"]) == (0, 1)
    result = again["results"][0]
    assert result["status"] == "duplicate"
    assert result["event_id"] == first["event_id"]
    assert result["customer_id"] == first["customer_id"]

    profile_after = _customer_view(api, first["customer_id"])
    assert profile_after["indicators"] == profile_before["indicators"]
    assert profile_after["indicators"]["contacts_total"] == 1
    assert profile_after["indicators"]["contacts"]["7d"]["total"] == 1
    card_after = api.card(phone="600111222")["card"]
    assert card_after["indicators"] == card_before["indicators"]
    timeline = api.get(f"/v1/customers/{first['customer_id']}/timeline").json()
    assert len(timeline["events"]) == 1


def test_a_duplicate_with_different_content_is_still_a_duplicate(api: Api) -> None:
    call = event(at=NOW, identifiers={"phone": "600111222"}, channel="voice")
    first = api.send(call)["results"][0]
    changed = {**call, "type": "call.abandoned", "traits": {"first_name": "Otra"}}
    result = api.send(changed)["results"][0]
    assert result["status"] == "duplicate"
    assert result["event_id"] == first["event_id"]
    view = _customer_view(api, first["customer_id"])
    assert view["traits"] == {}
    assert view["indicators"]["abandoned_calls_today"] == 0


def test_the_same_id_from_another_source_is_a_new_event(api: Api) -> None:
    first = api.send(event(at=NOW, source="pbx", id="shared-1",
                           identifiers={"phone": "600111222"}))["results"][0]
    other = api.send(event(at=NOW, source="ivr", id="shared-1",
                           identifiers={"phone": "600111222"}))["results"][0]
    assert other["status"] == "accepted"
    assert other["event_id"] != first["event_id"]
    assert other["customer_id"] == first["customer_id"]
    view = _customer_view(api, first["customer_id"])
    assert view["indicators"]["contacts_total"] == 2


def test_duplicate_ids_within_one_batch(api: Api) -> None:
    call = event(at=NOW, identifiers={"phone": "600111222"}, channel="voice")
    body = api.send(call, dict(call), event(at=NOW, identifiers={"phone": "600111222"}))
    assert (body["accepted"], body["duplicates"]) == (2, 1)
    first, dup, other = body["results"]
    assert (first["status"], dup["status"], other["status"]) == (
        "accepted", "duplicate", "accepted")
    assert dup["event_id"] == first["event_id"]
    assert dup["customer_id"] == first["customer_id"]
    assert other["event_id"] != first["event_id"]
    assert _customer_view(api, first["customer_id"])["indicators"]["contacts_total"] == 2
    # And the pair is a duplicate in later batches too.
    assert api.send(call)["results"][0]["event_id"] == first["event_id"]


def test_an_event_without_id_is_never_a_duplicate(api: Api) -> None:
    call = event(at=NOW, identifiers={"phone": "600111222"})
    call.pop("id")
    first = api.send(call)["results"][0]
    second = api.send(call)["results"][0]
    assert second["status"] == "accepted"
    assert second["event_id"] != first["event_id"]


def test_a_duplicate_of_a_rejected_item_is_not_reported_as_stored(api: Api) -> None:
    ghost = event(at=NOW, identifiers={"customer_id": "ghost"})
    response = api.post("/v1/events", json={"events": [ghost, dict(ghost), event(at=NOW)]})
    assert response.status_code == 207, response.text
    body = response.json()
    # Only the third item was stored; the copy of the rejected item must not claim an event
    # id that does not exist.
    assert body["accepted"] == 1
    assert body["duplicates"] == 0
    assert [r["index"] for r in body["results"]] == [2]
    assert {e["index"] for e in body["errors"]} == {0, 1}


# --- anonymous events and junk identifiers -----------------------------------------------------

def test_an_event_without_identifiers_is_anonymous(api: Api) -> None:
    body = api.send(event("page.viewed", source="web", at=NOW,
                          properties={"url": "/tarifas"}))
    [result] = body["results"]
    assert result["status"] == "accepted"
    assert result["resolution"] == "anonymous"
    assert result["customer_id"] is None
    assert result["event_id"]


@pytest.mark.parametrize("identifiers", [
    {"phone": "000000000"},
    {"phone": "n/a"},
    {"email": "test@test.com"},
    {"external_ids": {"crm": "unknown"}},
])
def test_junk_identifiers_are_ignored_with_a_warning(api: Api,
                                                     identifiers: dict[str, Any]) -> None:
    [result] = api.send(event(at=NOW, identifiers=identifiers))["results"]
    assert result["status"] == "accepted"
    assert result["resolution"] == "anonymous"
    assert result["customer_id"] is None
    [warning] = result["warnings"]
    field = next(iter(identifiers))
    assert warning.startswith(f"identifiers.{field}")
    assert "placeholder" in warning


def test_junk_identifiers_never_link_two_people(api: Api) -> None:
    body = api.send(
        event(at=NOW, identifiers={"email": "ana@example.es", "phone": "000000000"}),
        event(at=NOW, identifiers={"email": "luis@example.es", "phone": "000000000"}),
    )
    ana, luis = body["results"]
    assert ana["customer_id"] != luis["customer_id"]
    assert ana["warnings"] and luis["warnings"]
    assert api.card(phone="000000000")["match"] == "none"


def test_a_clean_event_has_no_warnings(api: Api) -> None:
    [result] = api.send(event(at=NOW, identifiers={"phone": "600111222"}))["results"]
    assert not result.get("warnings")


@pytest.mark.parametrize(("fields", "path"), [
    ({"properties": {"note": "a\u0000b"}}, "properties.note"),
    ({"properties": {"bad\u0000key": 1}}, "properties.bad\\u0000key"),
    ({"id": "x\u0000"}, "id"),
    ({"identifiers": {"external_ids": {"crm": "C\u00001"}}}, "identifiers.external_ids.crm"),
])
def test_a_nul_character_is_refused_on_every_database(api: Api, fields: dict[str, Any],
                                                      path: str) -> None:
    response = api.post("/v1/events", json={"events": [
        event(at=NOW, identifiers={"phone": "600111222"}), event(at=NOW, **fields)]})
    assert response.status_code == 207, response.text
    [error] = response.json()["errors"]
    assert (error["index"], error["field"], error["code"]) == (1, path, "nul_character")


@pytest.fixture
def small_body_api(database: Database, clock: FixedClock) -> Iterator[Api]:
    with custom_api(database, clock, max_body_bytes=2048) as api:
        yield api


def test_a_body_over_the_limit_is_a_413_with_or_without_content_length(
        small_body_api: Api) -> None:
    events = [event(at=NOW, identifiers={"phone": "600111222"}, properties={"n": "x" * 100})
              for _ in range(30)]
    body = orjson.dumps({"events": events})
    assert len(body) > 2048
    declared = small_body_api.post("/v1/events", content=body,
                                   headers={"Content-Type": "application/json"})
    assert_problem(declared, 413, "payload_too_large")
    chunked = small_body_api.post(
        "/v1/events", content=iter([body[:1000], body[1000:3000], body[3000:]]),
        headers={"Content-Type": "application/json"})
    assert_problem(chunked, 413, "payload_too_large")
    assert small_body_api.card(phone="600111222")["match"] == "none"


def test_an_external_id_number_beyond_64_bits_is_refused(api: Api) -> None:
    """Found by the OpenAPI fuzz: such a number crashed the JSON encoder (500)."""
    response = api.post("/v1/events", json={"type": "customer.updated", "source": "crm",
                                            "identifiers": {"external_ids": {"crm": 2**64}}})
    problem = assert_problem(response, 422, "validation_failed")
    assert any("external_ids" in e["field"] for e in problem["errors"])
