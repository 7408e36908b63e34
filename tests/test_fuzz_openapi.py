"""Property-based fuzzing of the whole public API from its own OpenAPI document
(schemathesis + hypothesis): no input, however odd, may produce a server error, and every
answer must carry the documented content type and shape."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
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
