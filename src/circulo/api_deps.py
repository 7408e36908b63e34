"""Request plumbing shared by every router: the context and the API-key check."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import orjson
from fastapi import Depends, Request, Security
from fastapi.openapi.models import APIKey, APIKeyIn, HTTPBase
from fastapi.openapi.models import SecurityBase as SecuritySchemeModel
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.base import SecurityBase
from starlette.concurrency import run_in_threadpool

from circulo.auth import users
from circulo.auth.service import Principal
from circulo.auth.throttle import AUTH, Throttle
from circulo.context import AppContext
from circulo.errors import (
    FAILED_AUTHENTICATION,
    CsrfFailed,
    MalformedJSON,
    PayloadTooLarge,
    TooManyRequests,
    problem_response,
)

_bearer = HTTPBearer(auto_error=False, description="Círculo API key: Bearer ck_...")
_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                       description="Círculo API key: X-API-Key: ck_...")
session_cookie = APIKeyCookie(
    name=users.COOKIE, auto_error=False, scheme_name="SessionCookie",
    description="A signed-in user's session (POST /v1/session). Requests that change state "
                "also send the session's CSRF token in X-CSRF-Token.")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class DocumentedScheme(SecurityBase):
    """A security scheme shown in the OpenAPI document for a route that checks its
    credentials itself (tracking SDKs' Basic write key, ``?key=``, vendor signatures): it
    reads nothing, so it can never answer differently from the route's own check."""

    def __init__(self, model: SecuritySchemeModel, scheme_name: str) -> None:
        self.model = model
        self.scheme_name = scheme_name

    async def __call__(self) -> None:
        return None


_basic = DocumentedScheme(HTTPBase(scheme="basic", description=(
    "Tracking SDKs: the Círculo API key as the Basic user name (Segment's write key), "
    "empty password")), "WriteKeyBasic")
_query = DocumentedScheme(APIKey(**{"in": APIKeyIn.query}, name="key", description=(
    "Círculo API key in the query string, for systems that cannot set headers")),
    "APIKeyQuery")


def vendor_scheme(scheme_name: str, where: APIKeyIn, name: str, description: str) -> Any:
    """A vendor webhook's own credential (a signature header, a URL token) as a scheme."""
    return Security(DocumentedScheme(APIKey(**{"in": where}, name=name,
                                            description=description), scheme_name))


def key_schemes(*, basic: bool = False, query: bool = False) -> list[Any]:
    """``dependencies=`` for a route that reads the API key itself (``key_from_request``):
    the schemes it accepts appear in the OpenAPI document, as ``require()``'s do."""
    extra = [_basic] * basic + [_query] * query
    return [Security(_bearer), Security(_header), *(Security(scheme) for scheme in extra)]


# Dependencies are ``async`` on purpose: a sync dependency costs a thread hop per request.
# The key check reads the database only on a cache miss (once per key every 30 s).


async def get_ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def client_address(scope: Any) -> str:
    """Who is asking: the peer address, which uvicorn takes from ``X-Forwarded-For`` only
    when the peer is a proxy it trusts (``--forwarded-allow-ips``, 127.0.0.1 by default)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def key_from_request(request: Request) -> str | None:
    """The API key from ``Authorization`` (Bearer, or Basic with the key as user name, as
    tracking SDKs send their write key) or ``X-API-Key``."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            return base64.b64decode(value).decode().split(":", 1)[0] or None
        except (binascii.Error, UnicodeDecodeError):
            return None
    if scheme.lower() == "bearer" and value:
        return value.strip()
    return request.headers.get("x-api-key")


def declared_over(declared: str | None, limit: int) -> bool:
    """A Content-Length beyond ``limit``. Compared by its digits first: ``int`` refuses over
    4,300 digits (a ValueError, a 500), and a length that long is over any limit anyway."""
    if not declared or not declared.isascii() or not declared.isdigit():
        return False
    return len(declared.lstrip("0")) > len(str(limit)) or int(declared) > limit


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused past ``limit`` bytes whether or not a Content-Length was
    declared (a chunked upload is counted as it arrives)."""
    too_large = PayloadTooLarge(f"the body exceeds {limit} bytes", limit=limit)
    if declared_over(request.headers.get("content-length"), limit):
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedJSON(f"the body is not valid JSON: {exc}") from exc


def session_times(ctx: AppContext) -> users.SessionTimes:
    return users.SessionTimes(idle=timedelta(seconds=ctx.settings.session_idle_timeout),
                              lifetime=timedelta(seconds=ctx.settings.session_lifetime))


def _resume(ctx: AppContext, token: str) -> users.SignedIn:
    with ctx.db.unit_of_work() as session:
        return users.resume(session, token, ctx.clock.now(), session_times(ctx))


async def signed_in(request: Request, ctx: AppContext, token: str | None) -> users.SignedIn:
    """The session of the cookie (401 when none or expired), with its CSRF token checked on
    every request that may change state (403 ``csrf_failed``)."""
    signed = await run_in_threadpool(_resume, ctx, token or "")
    if request.method not in SAFE_METHODS and not hmac.compare_digest(
            request.headers.get("x-csrf-token", "").encode(), signed.csrf_token.encode()):
        raise CsrfFailed("send the session's CSRF token in X-CSRF-Token")
    return signed


def require(scope: str, *, own_agent: bool = False
            ) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """An API key with ``scope``, or a signed-in user whose role grants it. ``own_agent``:
    the route acts for an agent it names (the handler calls ``principal.act_for``), which an
    agent's session may do for itself."""

    async def dependency(
        request: Request,
        ctx: AppContext = Depends(get_ctx),
        bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
        header: str | None = Depends(_header),
        cookie: str | None = Depends(session_cookie),
    ) -> Principal:
        secret = bearer.credentials if bearer else header
        if secret is None and cookie:
            signed = await signed_in(request, ctx, cookie)
            principal = users.principal_of(signed.user)
        else:
            principal = ctx.authenticate(secret)
        principal.require(scope, own_agent=own_agent)
        return principal

    return dependency


class ORJSONResponse(JSONResponse):
    """JSON rendered by orjson, without a second validation pass over our own output."""

    def render(self, content: object) -> bytes:
        return orjson.dumps(content)


# Paths that take no key: the throttle never stands in their way. Every other path (``/v1``,
# ``/metrics``, and whatever is added later) is guarded.
OPEN_PATHS = ("/health", "/docs", "/redoc", "/static/", "/openapi.json")


def _guarded(path: str) -> bool:
    return not path.startswith(OPEN_PATHS)


class ThrottleFailures:
    """ASGI middleware: a client with too many failed authentications lately gets 429 on every
    request that takes a key, before its key or body is looked at (even a right key: otherwise the
    answer would tell a guesser which guess was right). Each 401, and each answer marked as a
    failed authentication (a forged webhook signature), counts against its client."""

    def __init__(self, app: Any, throttle: Throttle) -> None:
        self.app = app
        self.throttle = throttle

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not _guarded(scope["path"]):
            await self.app(scope, receive, send)
            return
        client = client_address(scope)
        try:
            self.throttle.check(AUTH, client)
        except TooManyRequests as error:
            await problem_response(error)(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        status = 0

        async def watch(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        if status == 401 or state.get(FAILED_AUTHENTICATION):
            self.throttle.failed(AUTH, client)
