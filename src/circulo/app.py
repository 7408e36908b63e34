"""Wiring: the FastAPI application."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from circulo import __version__
from circulo.api_deps import ORJSONResponse
from circulo.clock import Clock
from circulo.config import Settings, get_settings
from circulo.context import AppContext
from circulo.customers.api import router as customers_router
from circulo.errors import install_error_handlers
from circulo.identity.api import router as identity_router
from circulo.ingest.api import EXTRA_MODELS
from circulo.ingest.api import router as ingest_router
from circulo.runtime import tune_gc

DESCRIPTION = """
Círculo gives a contact center a real-time, unified knowledge of each customer.

Every endpoint needs an API key (`Authorization: Bearer ck_...` or `X-API-Key`), with the
scope named in its description: `ingest`, `read` or `admin`. Errors are RFC 9457
`application/problem+json` with a stable `code`.
"""


def create_app(settings: Settings | None = None, *, clock: Clock | None = None,
               ctx: AppContext | None = None) -> FastAPI:
    tune_gc()
    settings = settings or get_settings()
    ctx = ctx or AppContext.build(settings, clock)
    app = FastAPI(title="Círculo", version=__version__, description=DESCRIPTION,
                  default_response_class=ORJSONResponse)
    app.state.ctx = ctx
    install_error_handlers(app)
    app.include_router(ingest_router)
    app.include_router(customers_router)
    app.include_router(identity_router)

    @app.get("/health", tags=["ops"], summary="Liveness")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in EXTRA_MODELS:
            model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in model_schema.pop("$defs", {}).items():
                components.setdefault(name, definition)
            components[model.__name__] = model_schema
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
