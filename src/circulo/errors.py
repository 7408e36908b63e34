"""Domain errors and their single rendering as RFC 9457 ``application/problem+json``.

Domain code raises these; only the HTTP edge (``install_error_handlers``) knows about HTTP.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("circulo.errors")


class ProblemItem(BaseModel):
    index: int | None = Field(default=None, description="The batch item, for batches")
    field: str = Field(description="Dotted path of the offending field")
    code: str
    detail: str


class Problem(BaseModel):
    """RFC 9457 problem details, with a stable ``code``."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    code: str = Field(description="Stable, machine-readable: validation_failed, not_found...")
    detail: str
    instance: str | None = None
    errors: list[ProblemItem] | None = None
PROBLEM_BASE = "https://circulo.dev/problems/"


class CirculoError(Exception):
    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"
    # Counted against the client by the failed-authentication limit (api_deps.ThrottleFailures)
    failed_authentication: bool = False
    retry_after: int | None = None  # seconds, sent as Retry-After

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors is not None:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class MalformedJSON(CirculoError):
    status, code, title = 400, "malformed_json", "Malformed JSON"


class ValidationFailed(CirculoError):
    status, code, title = 422, "validation_failed", "Validation failed"


class PayloadTooLarge(CirculoError):
    status, code, title = 413, "payload_too_large", "Payload too large"


class NotFound(CirculoError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(CirculoError):
    status, code, title = 409, "conflict", "Conflict"


class Unauthorized(CirculoError):
    status, code, title = 401, "unauthorized", "Missing or invalid API key"
    failed_authentication = True


class InvalidSignature(CirculoError):
    status, code, title = 401, "invalid_signature", "Missing, wrong or expired signature"


class Forbidden(CirculoError):
    status, code, title = 403, "forbidden", "Insufficient scope"


class CsrfFailed(Forbidden):
    code, title = "csrf_failed", "Missing or wrong CSRF token"


class BadSignature(Forbidden):
    """A vendor's webhook (Twilio, HubSpot…) without its valid signature or token."""

    title = "Missing or invalid signature"
    failed_authentication = True


class PinLocked(CirculoError):
    """Wrong PINs have locked this customer's PIN checks for a while (customers.pins)."""

    status, code, title = 423, "pin_locked", "PIN checks locked"

    def __init__(self, detail: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extra)
        self.retry_after = retry_after


class TooManyRequests(CirculoError):
    status, code, title = 429, "too_many_requests", "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extra)
        self.retry_after = retry_after


FAILED_AUTHENTICATION = "circulo.failed_authentication"  # request state, read by the throttle


def problem_response(error: CirculoError, request: Request | None = None) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthorized) else {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    if request is not None and error.failed_authentication:
        request.scope.setdefault("state", {})[FAILED_AUTHENTICATION] = True
    return JSONResponse(
        error.to_problem(str(request.url.path) if request else None),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts)


def validation_errors(raw: list[Any]) -> list[dict[str, Any]]:
    return [
        {"field": _field_path(tuple(e.get("loc", ()))), "code": e.get("type", "invalid"),
         "detail": e.get("msg", "invalid value")}
        for e in raw
    ]


def install_error_handlers(app: FastAPI) -> None:
    async def on_circulo_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, CirculoError)  # noqa: S101 - registered for this type only
        return problem_response(exc, request)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)  # noqa: S101
        errors = validation_errors(list(exc.errors()))
        fields = ", ".join(sorted({e["field"] for e in errors if e["field"]})) or "request"
        return problem_response(
            ValidationFailed(f"Invalid value for: {fields}", errors=errors), request
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)  # noqa: S101
        err = CirculoError(str(exc.detail))
        err.status = exc.status_code
        err.code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        err.title = str(exc.detail)
        return problem_response(err, request)

    async def on_data_error(request: Request, exc: Exception) -> JSONResponse:
        # The database refused a value the validation let through: still the client's input.
        return problem_response(ValidationFailed(
            "a value cannot be stored as given", errors=[
                {"field": "", "code": "invalid_value", "detail": type(exc.orig).__name__
                 if isinstance(exc, DataError) else "invalid value"}]), request)

    app.add_exception_handler(CirculoError, on_circulo_error)
    app.add_exception_handler(DataError, on_data_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


class RejectNulCharacters:
    """ASGI middleware: a NUL character in the path or query string is refused at the door
    (PostgreSQL cannot store or compare it; SQLite would treat it differently)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and (
            b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", "")
            or b"%00" in scope.get("raw_path", b"")
        ):
            error = ValidationFailed(
                "the URL contains a NUL character (%00)",
                errors=[{"field": "url", "code": "nul_character",
                         "detail": "remove the NUL character from the path or query"}],
            )
            response = JSONResponse(error.to_problem(scope.get("path")), status_code=422,
                                    media_type=PROBLEM_JSON)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class CatchAll:
    """ASGI middleware: an unexpected error still answers RFC 9457 problem+json (500) with an
    ``error_id`` that is also in the server log, never a text/plain traceback page. The log
    line carries the method, the path and the traceback, never the body or the query."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            error_id = secrets.token_hex(8)
            log.exception("unexpected error %s on %s %s", error_id, scope.get("method"),
                          scope.get("path"))
            if started:  # part of the answer is gone already: the connection is cut
                raise
            error = CirculoError("An unexpected error occurred; it has been logged. Quote "
                                 f"error id {error_id} when reporting it.", error_id=error_id)
            error.status, error.code, error.title = 500, "internal_error", "Internal error"
            response = JSONResponse(error.to_problem(scope.get("path")), status_code=500,
                                    media_type=PROBLEM_JSON)
            await response(scope, receive, send)
