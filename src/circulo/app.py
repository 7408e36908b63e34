"""Wiring: the FastAPI application."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from circulo import __version__
from circulo.analysis_api import router as text_router
from circulo.api_deps import ORJSONResponse, ThrottleFailures
from circulo.auth.api import router as sessions_router
from circulo.campaigns.api import router as campaigns_router
from circulo.churn.api import router as churn_router
from circulo.clock import Clock
from circulo.config import Settings, get_settings
from circulo.connectors.api import router as webhooks_router
from circulo.connectors.crm_inbound_api import router as crm_inbound_router
from circulo.connectors.twilio_api import router as twilio_router
from circulo.context import AppContext
from circulo.customers.api import router as customers_router
from circulo.errors import (
    PROBLEM_JSON,
    CatchAll,
    Problem,
    RejectNulCharacters,
    install_error_handlers,
)
from circulo.identity.api import router as identity_router
from circulo.ingest.api import EXTRA_MODELS
from circulo.ingest.api import router as ingest_router
from circulo.ingest.inbound_api import router as inbound_router
from circulo.ingest.tracking_api import router as tracking_router
from circulo.journeys.api import router as journeys_router
from circulo.observability import RequestObserver
from circulo.ops_api import router as ops_router
from circulo.privacy.api import router as privacy_router
from circulo.reports.api import router as reports_router
from circulo.routing.api import EXTRA_MODELS as ROUTING_MODELS
from circulo.routing.api import router as routing_router
from circulo.runtime import tune_gc
from circulo.serving import start_background
from circulo.speech.api import EXTRA_MODELS as SPEECH_MODELS
from circulo.speech.api import router as speech_router
from circulo.surveys.api import router as surveys_router
from circulo.textan.api import router as textan_router
from circulo.web import install as install_pages
from circulo.wiring import build_context, register_handlers

DESCRIPTION = """
Círculo gives a contact center a real-time, unified knowledge of each customer.

Every endpoint needs an API key (`Authorization: Bearer ck_...` or `X-API-Key`), with the
scope named in its description: `ingest`, `read`, `campaigns`, `routing`, `metrics`,
`pins:write`, `identity:review` or `admin`. People sign in instead (`POST /v1/session`): the
`circulo_session` cookie then stands for the key, with the scopes of the user's role, and
every request that changes state also sends the session's `X-CSRF-Token`. A signed-in user
acts only as its own routing agent (docs/users.md).
Errors are RFC 9457 `application/problem+json` with a stable `code`.
Each answer carries an `X-Request-ID` (yours, when sane), also written in the server's log.

A client (an IP address) that fails to authenticate too often (`CIRCULO_AUTH_FAILURE_LIMIT`,
20 a minute) gets `429 too_many_requests` with `Retry-After` on every request until the
window frees, whatever key it sends; wrong PINs are limited the same way
(`CIRCULO_PIN_FAILURE_LIMIT`, 10 a minute).
"""


PROBLEM_STATUSES = {
    "400": "Malformed request (e.g. the body is not JSON)",
    "401": "Missing or invalid API key (or session)",
    "403": "The API key or the user's role lacks the scope this endpoint needs, a session "
           "acts for another agent, or its CSRF token is missing (`csrf_failed`)",
    "404": "No such resource",
    "409": "Conflicts with the current state",
    "413": "Too many events or too large a body",
    "422": "Invalid input: `errors` names each field (and item index) and the reason",
    "429": "Too many failed authentications (or PIN checks) from this client lately; "
           "`Retry-After` says in how many seconds to try again",
    "500": "Unexpected error: `error_id` is also in the server log",
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
            responses["429"]["headers"] = {"Retry-After": {
                "description": "Seconds to wait", "schema": {"type": "integer"}}}


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """With ``routing_background`` (``circulo serve`` and ``circulo demo``), this process runs
    the background loops (``serving.start_background``)."""
    ctx: AppContext = app.state.ctx
    stop = threading.Event()
    threads = start_background(ctx, stop, outbox=app.state.outbox) \
        if ctx.settings.routing_background else []
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None,
               ctx: AppContext | None = None, outbox: bool = False) -> FastAPI:
    """The API; with ``outbox`` (one serving process), its background loops include the
    outbox worker."""
    tune_gc()
    settings = settings or get_settings()
    register_handlers()  # also when the caller built the context itself
    ctx = ctx or build_context(settings, clock)
    # /docs and /redoc load Swagger UI and ReDoc from /static/docs, served from the
    # fastapi-offline package: the API's documentation works without the Internet.
    app = FastAPIOffline(title="Círculo", version=__version__, description=DESCRIPTION,
                         default_response_class=ORJSONResponse, lifespan=_lifespan,
                         static_url="/static/docs")
    app.state.ctx = ctx
    app.state.outbox = outbox
    install_error_handlers(app)
    app.add_middleware(RejectNulCharacters)
    app.add_middleware(ThrottleFailures, throttle=ctx.throttle)
    app.add_middleware(CatchAll)  # an unexpected error still answers problem+json
    app.add_middleware(RequestObserver)  # outermost: its id and timing cover everything
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
    app.include_router(reports_router)
    app.include_router(surveys_router)
    app.include_router(journeys_router)
    app.include_router(speech_router)

    app.include_router(churn_router)

    app.include_router(text_router)
    app.include_router(textan_router)
    app.include_router(twilio_router)
    app.include_router(ops_router)
    app.include_router(sessions_router)
    install_pages(app)  # the desktop: HTML pages outside the OpenAPI document

    @app.get("/health", tags=["ops"], summary="Liveness")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (*EXTRA_MODELS, *ROUTING_MODELS, *SPEECH_MODELS, Problem):
            model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in model_schema.pop("$defs", {}).items():
                components.setdefault(name, definition)
            components[model.__name__] = model_schema
        _document_problems(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
