"""Bad input never costs a batch: shapes that used to raise inside the transaction (losing the
valid events beside them with a text/plain 500) are refused item by item with 422 instead."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from circulo import jsonshape
from circulo.app import create_app
from circulo.context import AppContext
from circulo.customers.traits import MAX_PROFILE_TRAITS, TraitPolicy, apply_traits
from tests.conftest import NOW, Api, assert_problem
from tests.factories import event


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth):
        value = {"a": value}
    return value


BAD_SHAPES = [
    pytest.param({"properties": _nested(300)}, "too_deep", id="nested-300"),
    pytest.param({"traits": {"k" * 1000: "v"}}, "key_too_long", id="key-1000"),
]


@pytest.mark.parametrize(("fields", "code"), BAD_SHAPES)
def test_a_bad_shape_costs_only_its_own_item(api: Api, fields: dict[str, Any],
                                             code: str) -> None:
    good = event(at=NOW, identifiers={"email": "ana@example.com"})
    bad = {**event(at=NOW, identifiers={"email": "bea@example.com"}), **fields}
    response = api.post("/v1/events", json={"events": [good, bad]})
    assert response.status_code == 207, response.text
    body = response.json()
    assert body["accepted"] == 1
    [error] = body["errors"]
    assert (error["index"], error["code"]) == (1, code)


def test_a_campaign_member_with_a_huge_integer_is_a_422(api: Api) -> None:
    # Found by the schemathesis fuzz in CI: a 500 from orjson inside the transaction.
    body = {"channel": "email", "name": "noreply", "source": "noreply", "external_id": "office",
            "language": "en", "message": {"en": "hola"},
            "members": [{"identifiers": {"email": "ana@example.com"},
                         "traits": {"0": -9223372036854775809}}]}
    problem = assert_problem(api.post("/v1/campaigns", json=body), 422, "validation_failed")
    assert "members.0.traits" in problem["detail"]


def test_routing_attributes_are_bounded_too(api: Api) -> None:
    response = api.post("/v1/tasks", json={"queue": "general",
                                                   "attributes": _nested(300)})
    assert_problem(response, 422, "validation_failed")


def test_the_shape_check_is_pure_and_names_the_place() -> None:
    assert jsonshape.check({"a": [1, "x", {"b": None}]}) is None
    problem = jsonshape.check({"a": [1, {"b": "x\x00"}]})
    assert problem is not None and problem.field == "a.1.b"
    assert problem.code == "nul_character"
    deep = jsonshape.check(_nested(10_000))  # iterative: no RecursionError
    assert deep is not None and deep.code == "too_deep"
    assert jsonshape.check(_nested(jsonshape.MAX_DEPTH - 1)) is None
    assert jsonshape.check([2**63 - 1, -(2**63)]) is None
    assert jsonshape.check(True) is None


# --- dates out of range ------------------------------------------------------------------------

def test_a_date_that_overflows_costs_only_its_own_item(api: Api) -> None:
    good = event(at=NOW, identifiers={"email": "ana@example.com"})
    bad = {**event(at=NOW, identifiers={"email": "bea@example.com"}),
           "occurred_at": "0001-01-01T00:00:00+05:00"}
    response = api.post("/v1/events", json={"events": [good, bad]})
    assert response.status_code == 207, response.text
    [error] = response.json()["errors"]
    assert (error["index"], error["field"]) == (1, "occurred_at")
    assert "1900" in error["detail"]


def test_a_callback_window_out_of_range_is_a_422(api: Api) -> None:
    problem = assert_problem(api.post("/v1/callbacks", json={
        "queue": "general", "identifiers": {"phone": "600111222"},
        "window_end": "0001-01-01T00:00:00+05:00"}), 422, "validation_failed")
    assert "window_end" in problem["detail"]


# --- traits are bounded as properties are ------------------------------------------------------

@pytest.mark.parametrize(("traits", "field", "code"), [
    pytest.param({"first_name": "A" * 100_000}, "traits.first_name", "too_long", id="100KB-name"),
    pytest.param({"k" * 100: "v"}, "traits." + "k" * 64 + "…", "name_too_long", id="100-key"),
    pytest.param({f"t{i}": i for i in range(101)}, "traits", "too_many", id="101-traits"),
    pytest.param({"notes": "x" * 5000}, "traits.notes", "too_large", id="5KB-value"),
])
def test_oversized_traits_are_refused_and_the_name_is_kept(api: Api, traits: dict[str, Any],
                                                           field: str, code: str) -> None:
    first = api.send(event(at=NOW, identifiers={"email": "ana@example.com"},
                           traits={"first_name": "Ana"}))
    customer_id = first["results"][0]["customer_id"]
    problem = assert_problem(api.post("/v1/events", json=event(
        at=NOW, identifiers={"email": "ana@example.com"}, traits=traits)), 422,
        "validation_failed")
    [error] = problem["errors"]
    assert (error["field"], error["code"]) == (field, code)
    view = api.get(f"/v1/customers/{customer_id}").json()
    assert view["traits"]["first_name"] == "Ana"


# --- the catch-all -----------------------------------------------------------------------------

def test_an_unexpected_error_is_problem_json_with_an_id_in_the_log(
        ctx: AppContext, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(ctx.settings, ctx=ctx)

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/v1/broken", broken)
    with TestClient(app) as client:
        response = client.get("/v1/broken?secret=s3cr3t")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "internal_error"
    assert "a bug" not in response.text
    [record] = [r for r in caplog.records if r.name == "circulo.errors"]
    assert body["error_id"] in record.getMessage()
    assert "s3cr3t" not in record.getMessage()


def test_record_data_is_bounded_like_properties(api: Api) -> None:
    problem = assert_problem(api.post("/v1/events", json=event(
        "order.placed", at=NOW, identifiers={"email": "ana@example.com"},
        record={"kind": "order", "key": "PED-1", "data": {"blob": "x" * 70_000}})), 422,
        "validation_failed")
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("record.data", "too_large")]


def test_a_profile_keeps_at_most_its_cap_of_traits_but_updates_the_ones_it_has() -> None:
    traits: dict[str, Any] = {}
    meta: dict[str, Any] = {}
    at = datetime(2026, 1, 1, tzinfo=UTC)
    for batch in range(MAX_PROFILE_TRAITS // 100 + 2):
        apply_traits(traits, meta, {f"t{batch}_{i}": i for i in range(100)}, source="crm",
                     at=at, policy=TraitPolicy())
    assert len(traits) == len(meta) == MAX_PROFILE_TRAITS
    changed = apply_traits(traits, meta, {"t0_1": "new", "brand_new": 1}, source="crm", at=at,
                           policy=TraitPolicy())
    assert changed == ["t0_1"] and traits["t0_1"] == "new"
