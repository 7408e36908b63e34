"""Journeys' ``webhook`` action on its way out: the request a queued message stands for.

The journey's rendered ``body`` is sent as it is (JSON), with the method and headers the
journey names; a header written ``env:NAME`` takes the server's environment variable, so a
token never sits in a journey document. Only variables in ``CIRCULO_JOURNEY_ENV_ALLOWLIST``
are read: journeys are checked when saved, and again here, since the allowlist may have
changed since (a request naming another is dead with the reason; the value is never in
it). With ``CIRCULO_JOURNEY_WEBHOOK_SECRET`` every request
is signed with Standard Webhooks headers (``webhook-id`` is the outbox message id, stable
across retries). Pure apart from reading the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from circulo.config import Settings

DESTINATION = "journey:webhook"
MAX_IN_FLIGHT = 16


@dataclass(frozen=True, slots=True)
class Request:
    url: str
    method: str
    headers: dict[str, str]
    body: bytes
    secrets: list[str]
    error: str | None = None  # cannot be sent at all (final): a variable missing or not allowed


def request(payload: Mapping[str, Any], settings: Settings) -> Request:
    data = payload.get("data") or {}
    headers = {"circulo-journey": str(data.get("journey") or ""),
               "circulo-customer-id": str(data.get("customer_id") or "")}
    error = None
    allowed = frozenset(settings.journey_env_allowlist)
    for name, value in (data.get("headers") or {}).items():
        if isinstance(value, str) and value.startswith("env:"):
            variable = value[4:]
            if variable not in allowed:
                error = (f"header {name}: the environment variable {variable} is not in "
                         "CIRCULO_JOURNEY_ENV_ALLOWLIST")
                continue
            found = os.environ.get(variable)
            if found is None:
                error = f"header {name}: the environment variable {variable} is not set"
                continue
            value = found
        headers[str(name)] = str(value)
    secret = settings.journey_webhook_secret
    return Request(str(data.get("url") or ""), str(data.get("method") or "POST"), headers,
                   orjson.dumps(data.get("body") or {}),
                   [secret.get_secret_value()] if secret is not None else [], error)
