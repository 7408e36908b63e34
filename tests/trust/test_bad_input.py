"""Bad input never costs a batch: shapes that used to raise inside the transaction (losing the
valid events beside them with a text/plain 500) are refused item by item with 422 instead."""

from __future__ import annotations

from typing import Any

import pytest

from circulo import jsonshape
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
