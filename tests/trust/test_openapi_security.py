"""The OpenAPI document says how every route is authenticated, and says it truly: each
operation declares a security requirement (the public set is /health alone), and each one
that declares the API key answers 401 without it."""

from __future__ import annotations

import re
from typing import Any

from circulo.clock import FixedClock
from circulo.db import Database
from tests.conftest import Api, custom_api

# Signing in takes a user name and password in the body, no credential of a scheme
PUBLIC = {("get", "/health"), ("post", "/v1/session")}
KEY_SCHEMES = {"HTTPBearer", "APIKeyHeader"}
SESSION_ONLY = {"/v1/session", "/v1/session/everywhere"}
VENDOR_SCHEMES = {"/v1/crm/{name}/webhook": {"HubSpotSignature", "SalesforceToken"},
                  "/v1/channels/twilio/status": {"TwilioSignature"},
                  "/v1/channels/twilio/sms": {"TwilioSignature"}}


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, operation) for path, item in spec["paths"].items()
            for method, operation in item.items()]


def _schemes(operation: dict[str, Any]) -> set[str]:
    return {name for requirement in operation.get("security") or [] for name in requirement}


def test_every_operation_declares_how_it_is_authenticated(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    defined = set(spec["components"]["securitySchemes"])
    undeclared = [f"{method.upper()} {path}" for method, path, operation in _operations(spec)
                  if (method, path) not in PUBLIC and not _schemes(operation)]
    assert undeclared == []
    for method, path, operation in _operations(spec):
        assert _schemes(operation) <= defined, (method, path)
        if path in VENDOR_SCHEMES:
            assert _schemes(operation) == VENDOR_SCHEMES[path], path
        elif path in SESSION_ONLY and (method, path) not in PUBLIC:
            assert _schemes(operation) == {"SessionCookie"}, (method, path)
        elif (method, path) not in PUBLIC:
            assert KEY_SCHEMES <= _schemes(operation), (method, path)


def test_every_operation_that_declares_the_key_refuses_a_call_without_it(
        database: Database, clock: FixedClock) -> None:
    # Eighty keyless calls from one client: the abuse limit would answer 429 from the 21st
    # (tests/trust/test_abuse_limits.py); here each route's own answer is the subject.
    with custom_api(database, clock, auth_failure_limit="1000/minute") as api:
        _every_keyed_operation_refuses_a_call_without_it(api)


def _every_keyed_operation_refuses_a_call_without_it(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    checked = []
    for method, path, operation in _operations(spec):
        if not (KEY_SCHEMES | {"SessionCookie"}) & _schemes(operation):
            continue
        url = re.sub(r"\{[^}]+\}", "x", path)
        response = api.client.request(method, url, json={})
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        checked.append(path)
    assert len(checked) > 60
