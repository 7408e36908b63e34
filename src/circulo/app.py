"""Wiring: the FastAPI application."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from circulo import __version__
from circulo.api_deps import ORJSONResponse
from circulo.campaigns.api import router as campaigns_router
from circulo.clock import Clock
from circulo.config import Settings, get_settings
from circulo.connectors.api import router as webhooks_router
from circulo.connectors.crm_inbound_api import router as crm_inbound_router
from circulo.connectors.twilio_api import router as twilio_router
from circulo.context import AppContext
from circulo.customers.api import router as customers_router
from circulo.errors import PROBLEM_JSON, Problem, RejectNulCharacters, install_error_handlers
from circulo.identity.api import router as identity_router
from circulo.ingest.api import EXTRA_MODELS
from circulo.ingest.api import router as ingest_router
from circulo.ingest.inbound_api import router as inbound_router
from circulo.ingest.tracking_api import router as tracking_router
from circulo.journeys.api import router as journeys_router
from circulo.journeys.runner import run_in_thread as run_journeys
from circulo.privacy.api import router as privacy_router
from circulo.privacy.retention import run_in_thread as run_retention
from circulo.routing.api import EXTRA_MODELS as ROUTING_MODELS
from circulo.routing.api import router as routing_router
from circulo.routing.dispatcher import run_in_thread
from circulo.runtime import tune_gc

DESCRIPTION = """
Círculo gives a contact center a real-time, unified knowledge of each customer.

Every endpoint needs an API key (`Authorization: Bearer ck_...` or `X-API-Key`), with the
scope named in its description: `ingest`, `read`, `campaigns`, `routing` or `admin`. Errors
are RFC 9457 `application/problem+json` with a stable `code`.
"""


PROBLEM_STATUSES = {
    "400": "Malformed request (e.g. the body is not JSON)",
    "401": "Missing or invalid API key",
    "403": "The API key lacks the scope this endpoint needs",
    "404": "No such resource",
    "409": "Conflicts with the current state",
    "413": "Too many events or too large a body",
    "422": "Invalid input: `errors` names each field (and item index) and the reason",
}


def _document_problems(schema: dict[str, Any]) -> None:
    """Every /v1 operation may answer these as RFC 9457 problem+json (FastAPI's default 422
    schema is replaced: Círculo never answers in that shape)."""
    schema["components"]["schemas"].pop("HTTPValidationError", None)
    schema["components"]["schemas"].pop("ValidationError", None)
    problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith("/v1/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in PROBLEM_STATUSES.items():
                responses[status] = {"description": description, "content": problem}


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """With ``routing_background`` (``circulo serve``), this process runs the routing loop
    (offers time out, callbacks come due and silent agents go offline without a request) and
    the journeys runner (events and timers become actions within a second), and, with
    ``event_retention_days``, the hourly purge of older events."""
    ctx: AppContext = app.state.ctx
    stop = threading.Event()
    threads = [run_in_thread(ctx, stop), run_journeys(ctx, stop)] \
        if ctx.settings.routing_background else []
    if ctx.settings.routing_background and ctx.settings.event_retention_days:
        threads.append(run_retention(ctx, stop))  # hourly purge of old events
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None,
               ctx: AppContext | None = None) -> FastAPI:
    tune_gc()
    settings = settings or get_settings()
    ctx = ctx or AppContext.build(settings, clock)
    app = FastAPI(title="Círculo", version=__version__, description=DESCRIPTION,
                  default_response_class=ORJSONResponse, lifespan=_lifespan)
    app.state.ctx = ctx
    install_error_handlers(app)
    app.add_middleware(RejectNulCharacters)
    app.include_router(ingest_router)
    app.include_router(customers_router)
    app.include_router(privacy_router)
    app.include_router(identity_router)
    app.include_router(tracking_router)
    app.include_router(inbound_router)
    app.include_router(webhooks_router)
    app.include_router(campaigns_router)
    app.include_router(crm_inbound_router)
    app.include_router(routing_router)
    app.include_router(journeys_router)
    app.include_router(twilio_router)

    @app.get("/health", tags=["ops"], summary="Liveness")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (*EXTRA_MODELS, *ROUTING_MODELS, Problem):
            model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in model_schema.pop("$defs", {}).items():
                components.setdefault(name, definition)
            components[model.__name__] = model_schema
        _document_problems(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
