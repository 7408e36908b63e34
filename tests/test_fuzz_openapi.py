"""Property-based fuzzing of the whole public API from its own OpenAPI document
(schemathesis + hypothesis): no input, however odd, may produce a server error, and every
answer must carry the documented content type and shape."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from circulo.app import create_app
from circulo.context import AppContext
from tests.conftest import Api, assert_problem, make_key

CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]


def test_no_input_breaks_the_api(ctx: AppContext) -> None:
    app = create_app(ctx.settings, ctx=ctx)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {make_key(ctx, ['admin'])}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    # A live stream answers for as long as it is asked to (``count`` events every ``interval``
    # seconds, up to an hour): fuzzing it would only wait. tests/routing covers it.
    operations = [op for op in operations if not op.path.endswith("/stream")]

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def fuzz(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        fuzz()


def test_a_nul_character_in_the_url_is_a_clear_422(api: Api) -> None:
    body = assert_problem(api.get("/v1/merges?customer_id=%00"), 422, "validation_failed")
    assert body["errors"][0]["code"] == "nul_character"
    body = assert_problem(api.get("/v1/customers/a%00b"), 422, "validation_failed")
    assert body["errors"][0]["field"] == "url"


def _deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


# Shapes an attacker or a broken sender produces that generated cases rarely reach: each is
# planted at a random place of a generated body (issue 15: they used to cost a whole batch).
HOSTILE = [_deep(300), [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
           2**70, -(2**70), "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-14:00",
           "A" * 100_000, {"k" * 1000: 1}, "nul\x00", 1e308]


def _places(body: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    places = [path]
    if isinstance(body, dict):
        for key, value in body.items():
            places += _places(value, (*path, key))
    elif isinstance(body, list):
        for index, value in enumerate(body):
            places += _places(value, (*path, index))
    return places


def _plant(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = body
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return body


def test_hostile_shapes_in_any_body_never_break_the_api(ctx: AppContext) -> None:
    app = create_app(ctx.settings, ctx=ctx)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {make_key(ctx, ['admin'])}"}
    operations = [op for op in (result.ok() for result in schema.get_all_operations())
                  if op.body and not op.path.endswith("/stream")]
    assert len(operations) >= 10

    for operation in operations:
        @given(case=operation.as_strategy(), data=st.data())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def fuzz(case: Any, data: Any) -> None:
            if not isinstance(case.body, dict | list):
                return
            place = data.draw(st.sampled_from(_places(case.body)))
            case.body = _plant(case.body, place, data.draw(st.sampled_from(HOSTILE)))
            case.call_and_validate(headers=headers, checks=CHECKS)

        fuzz()
