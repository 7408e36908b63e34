"""The CRM widget (S5): one script tag in a CRM page turns its phone numbers into
click-to-dial buttons, shows the incoming and ongoing call banner, and saves the wrap-up to
the CRM record the page shows (docs/widget.md, ADR 0022).

* ``GET /widget.js`` — the script (plain JS, a static file; works under a CRM's strict CSP
  that allows Círculo's origin for scripts, styles and connections).
* ``POST /v1/widget-tokens`` — the CRM's backend (API key with the ``widget`` scope) or a
  signed-in user (for itself) mints a short-lived token for a user's agent;
  ``POST /v1/widget-tokens/revoke`` ends one.
* ``/v1/widget/…`` — what the script calls with ``Authorization: Bearer cw_…``: who am I (and
  the texts in the user's language), the agent's calls (polled), dial, accept, decline, end,
  wrap up. Answers carry CORS headers only for ``CIRCULO_WIDGET_ORIGINS``; a request from
  another origin is refused. No cookie is ever read or sent (``credentials: "omit"``).

Business rules stay in routing (``routing.dial``, ``routing.service``, ``routing.wrapup``)
and auth (``auth.widget_tokens``); this module only translates HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from circulo.api_deps import (
    get_ctx,
    key_from_request,
    key_schemes,
    require,
    session_cookie,
    signed_in,
)
from circulo.auth import widget_tokens
from circulo.auth.service import WIDGET, Principal
from circulo.auth.widget_tokens import CALLS_READ, DIAL, WRAP_UP, Grant
from circulo.context import AppContext
from circulo.errors import Conflict, Forbidden, ValidationFailed, problem_response
from circulo.routing import dial, service, wrapup
from circulo.routing.dispatcher import dispatcher_of
from circulo.routing.models import TaskRow
from circulo.routing.policy import RoutingConfig
from circulo.web.common import HERE
from circulo.web.texts import register, texts
from circulo.web.widget_texts import CATALOGUE, CODES

register(CATALOGUE)

# The token routes are an integration API, in the OpenAPI document; what the script calls
# (and the script itself) stays out of it, like the pages.
router = APIRouter()
tokens = APIRouter(prefix="/v1", tags=["widget"])
PREFIX = "/v1/widget/"
SCRIPT = HERE / "static" / "widget.js"
STYLE = HERE / "static" / "widget.css"


# -- minting tokens (the CRM's backend) ----------------------------------------------------

class MintIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str | None = Field(default=None, min_length=1, max_length=64, description=(
        "The Círculo user name the widget acts as (its agent). Required with an API key; "
        "a signed-in user may only name itself (or leave it out)."))
    scopes: list[str] | None = Field(default=None, max_length=3, description=(
        "Among calls:read, dial, wrap_up; all three when left out"))


class TokenUser(BaseModel):
    username: str
    name: str
    agent_id: str
    language: str


class MintOut(BaseModel):
    token: str = Field(description="Shown once: give it to widget.js (data-token, or the "
                                   "answer of the page's token URL)")
    expires_at: datetime
    expires_in: int = Field(description="Seconds the token lasts")
    scopes: list[str]
    user: TokenUser


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=200)


def _mint(ctx: AppContext, username: str, scopes: list[str] | None, minted_by: str
          ) -> widget_tokens.Minted:
    with ctx.db.unit_of_work() as session:
        return widget_tokens.mint(
            session, username, scopes, minted_by=minted_by,
            lifetime=timedelta(seconds=ctx.settings.widget_token_lifetime),
            now=ctx.clock.now())


@dataclass(frozen=True, slots=True)
class Minter:
    """Who asks for a token: a key with the ``widget`` scope (for any user), or a signed-in
    user (``own``: for itself only)."""

    actor: str
    own: str | None = None


async def minter(request: Request, ctx: AppContext = Depends(get_ctx),
                 cookie: str | None = Depends(session_cookie)) -> Minter:
    """Checked before the body is read, like every credential (401/403 first)."""
    secret = key_from_request(request)
    if secret is None and cookie:
        signed = await signed_in(request, ctx, cookie)
        return Minter(f"user:{signed.user.username}", signed.user.username)
    principal = await run_in_threadpool(ctx.authenticate, secret)
    principal.require(WIDGET)
    return Minter(principal.actor)


@tokens.post("/widget-tokens", response_model=MintOut, status_code=201,
             dependencies=key_schemes(),
             summary="Mint a CRM widget token for a user",
             description="The CRM's backend, with an API key having the `widget` scope, mints "
                         "a token for the Círculo user behind its signed-in CRM user; a "
                         "signed-in Círculo user (session + X-CSRF-Token) may mint one for "
                         "itself. The token lasts CIRCULO_WIDGET_TOKEN_LIFETIME seconds and "
                         "only reads that agent's calls, dials as it and wraps up its tasks "
                         "(docs/widget.md). Only its hash is stored.")
async def mint_token(body: MintIn, ctx: AppContext = Depends(get_ctx),
                     who: Minter = Depends(minter)) -> MintOut:
    if who.own is not None:
        if body.user is not None and body.user.casefold() != who.own.casefold():
            raise Forbidden("a signed-in user mints widget tokens only for itself",
                            field="user")
        username = who.own
    elif body.user is None:
        raise ValidationFailed("name the user the widget acts as", errors=[
            {"field": "user", "code": "missing", "detail": "required with an API key"}])
    else:
        username = body.user
    minted = await run_in_threadpool(_mint, ctx, username, body.scopes, who.actor)
    user = minted.user
    return MintOut(token=minted.token, expires_at=minted.expires_at,
                   expires_in=ctx.settings.widget_token_lifetime, scopes=list(minted.scopes),
                   user=TokenUser(username=user.username, name=user.name,
                                  agent_id=user.agent_id or "", language=user.language))


def _revoke(ctx: AppContext, token: str) -> None:
    with ctx.db.unit_of_work() as session:
        widget_tokens.revoke(session, token, ctx.clock.now())


@tokens.post("/widget-tokens/revoke", status_code=204, response_class=Response,
             summary="Revoke a CRM widget token",
             description="The CRM user signed out: the token stops working now. Scope "
                         "`widget`. Revoking an unknown or ended token is not an error.")
async def revoke_token(body: RevokeIn, ctx: AppContext = Depends(get_ctx),
                       _: Principal = Depends(require(WIDGET))) -> Response:
    await run_in_threadpool(_revoke, ctx, body.token)
    return Response(status_code=204)


router.include_router(tokens)


# -- the script ------------------------------------------------------------------------------

# Public files any page may load, and read (axe-core and other checkers read a page's style
# sheets): nothing in them is secret.
PUBLIC = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff",
          "Cross-Origin-Resource-Policy": "cross-origin", "Access-Control-Allow-Origin": "*"}


@router.get("/widget.js", include_in_schema=False)
async def script() -> FileResponse:
    """The widget, from Círculo's origin (the CRM's CSP allows that origin)."""
    return FileResponse(SCRIPT, media_type="text/javascript; charset=utf-8", headers=PUBLIC)


@router.get("/widget.css", include_in_schema=False)
async def style() -> FileResponse:
    """The widget's styles, which widget.js links (no inline style: the CRM's CSP)."""
    return FileResponse(STYLE, media_type="text/css; charset=utf-8", headers=PUBLIC)


# -- what widget.js calls -------------------------------------------------------------------

def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value else None


def _resume(ctx: AppContext, token: str | None) -> Grant:
    with ctx.db.unit_of_work(write=False) as session:
        return widget_tokens.resume(session, token, ctx.clock.now())


async def grant_of(request: Request, ctx: AppContext = Depends(get_ctx)) -> Grant:
    """The widget token of ``Authorization: Bearer cw_…`` (401 when absent, expired or
    revoked)."""
    return await run_in_threadpool(_resume, ctx, _bearer(request))


@dataclass(frozen=True, slots=True)
class CallView:
    """A call as the banner shows it."""

    id: str
    state: str  # reserved (incoming) | assigned (ongoing) | wrapping | completed | …
    direction: str  # inbound | outbound
    phone: str | None
    name: str | None
    queue: str
    crm_record: str | None
    reserved_until: str | None
    assigned_at: str | None
    outcome: str | None

    @classmethod
    def of(cls, task: TaskRow) -> CallView:
        identifiers = task.identifiers or {}
        phones = identifiers.get("phones") or []
        phone = identifiers.get("phone") or (phones[0] if phones else None)
        attributes = task.attributes or {}
        return cls(
            task.id, task.state, str(attributes.get("direction", "inbound")),
            str(phone) if phone else None, (task.context or {}).get("name"), task.queue,
            attributes.get("crm_record") or (task.result.get("data") or {}).get("crm_record"),
            task.reserved_until.isoformat() if task.reserved_until else None,
            task.assigned_at.isoformat() if task.assigned_at else None, task.outcome)


def _language(request: Request, grant: Grant) -> str:
    asked = request.query_params.get("lang", "")
    return asked if asked in ("es", "en") else grant.user.language


@router.get(PREFIX + "me", include_in_schema=False)
async def me(request: Request, grant: Grant = Depends(grant_of)) -> dict[str, Any]:
    """Who the widget acts as, until when, and its texts and wrap-up codes in its language
    (``?lang=`` from the page's ``data-lang``, else the user's)."""
    lang = _language(request, grant)
    words = texts(lang)
    return {"user": {"name": grant.user.name, "agent_id": grant.agent_id},
            "language": lang, "expires_at": grant.expires_at.isoformat(),
            "scopes": sorted(grant.scopes),
            "texts": {key[len("widget."):]: value for key, value in words.items()
                      if key.startswith("widget.") and not key.startswith("widget.code.")},
            "codes": [{"code": code, "label": words[f"widget.code.{code}"]}
                      for code in CODES]}


def _codes(config: RoutingConfig, queue: str, lang: str) -> list[dict[str, str]]:
    """The wrap-up codes of the call's queue (as the desk offers them), or the widget's
    general list for a queue that lists none."""
    listed = config.queues[queue].wrapup_codes if queue in config.queues else ()
    if listed:
        return [{"code": c.code, "label": c.label(lang)} for c in listed]
    words = texts(lang)
    return [{"code": code, "label": words[f"widget.code.{code}"]} for code in CODES]


def _calls(ctx: AppContext, agent_id: str, lang: str) -> list[dict[str, Any]]:
    now = ctx.clock.now()
    with ctx.db.unit_of_work() as session:
        config = dispatcher_of(ctx).config(session)
        agent = service.get_agent(session, agent_id)
        # the agent's screen is there: a heartbeat, written a few times per timeout rather
        # than at every look of every open CRM tab
        every = ctx.settings.agent_heartbeat_timeout / 5
        if agent.last_seen is None or now - agent.last_seen >= every:
            service.heartbeat(session, agent_id, now)
        return [{**asdict(CallView.of(task)), "codes": _codes(config, task.queue, lang)}
                for task in service.tasks_in_hand(session, agent_id) if task.channel == "voice"]


@router.get(PREFIX + "calls", include_in_schema=False)
async def calls(request: Request, ctx: AppContext = Depends(get_ctx),
                grant: Grant = Depends(grant_of)) -> dict[str, Any]:
    """The agent's calls: offered (incoming), in progress, in wrap-up. Polled by the widget
    (a token in a header, which EventSource cannot send: docs/widget.md)."""
    grant.require(CALLS_READ)
    return {"calls": await run_in_threadpool(_calls, ctx, grant.agent_id,
                                             _language(request, grant))}


class DialIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=1, max_length=40)
    request_id: str = Field(min_length=8, max_length=64, description=(
        "One per click: the same id again returns the call already dialed"))
    crm_record: str | None = Field(default=None, min_length=1, max_length=200)
    crm: str | None = Field(default=None, min_length=1, max_length=64)


def _dial(ctx: AppContext, grant: Grant, body: DialIn) -> tuple[CallView, bool]:
    dispatcher = dispatcher_of(ctx)
    with ctx.db.unit_of_work() as session:
        task, created = dial.dial(session, dial.Dial(
            agent_id=grant.agent_id, phone=body.phone, request_id=body.request_id,
            crm_record=body.crm_record, crm=body.crm), dispatcher.config(session),
            settings=ctx.settings, policies=ctx.policies, now=ctx.clock.now())
        view = CallView.of(task)
    if created:
        dispatcher.after_change()
    return view, created


@router.post(PREFIX + "dial", status_code=201, include_in_schema=False)
async def dial_number(body: DialIn, response: Response, ctx: AppContext = Depends(get_ctx),
                      grant: Grant = Depends(grant_of)) -> dict[str, Any]:
    """Click-to-dial as the token's agent: the outbound call, in their hands (201); the same
    ``request_id`` again answers the same call (200)."""
    grant.require(DIAL)
    view, created = await run_in_threadpool(_dial, ctx, grant, body)
    if not created:
        response.status_code = 200
    return {"call": asdict(view)}


Action = Callable[[Session, TaskRow, datetime], object]


def _act(ctx: AppContext, grant: Grant, task_id: str, action: Action) -> CallView:
    dispatcher = dispatcher_of(ctx)
    with ctx.db.unit_of_work() as session:
        task = service.get_task(session, task_id)
        if task.agent_id is None:  # withdrawn (the caller hung up), or waiting again
            # (its state is not told: the task may never have been this agent's)
            raise Conflict("this call is no longer offered to you", field="task_id")
        grant.owns(task.agent_id)
        action(session, task, ctx.clock.now())
    dispatcher.after_change()
    with ctx.db.unit_of_work(write=False) as session:
        return CallView.of(service.get_task(session, task_id))


async def _transition(ctx: AppContext, grant: Grant, task_id: str, action: Action
                      ) -> dict[str, Any]:
    grant.require(WRAP_UP)
    if not 1 <= len(task_id) <= 32:
        raise ValidationFailed("task_id: 1 to 32 characters", field="task_id")
    return {"call": asdict(await run_in_threadpool(_act, ctx, grant, task_id, action))}


@router.post(PREFIX + "calls/{task_id}/accept", include_in_schema=False)
async def accept(task_id: str, ctx: AppContext = Depends(get_ctx),
                 grant: Grant = Depends(grant_of)) -> dict[str, Any]:
    return await _transition(ctx, grant, task_id, lambda s, task, now: service.accept(
        s, task.id, grant.agent_id, settings=ctx.settings, policies=ctx.policies, now=now)
        )


@router.post(PREFIX + "calls/{task_id}/reject", include_in_schema=False)
async def reject(task_id: str, ctx: AppContext = Depends(get_ctx),
                 grant: Grant = Depends(grant_of)) -> dict[str, Any]:
    return await _transition(ctx, grant, task_id, lambda s, task, now: service.reject(
        s, task.id, grant.agent_id, now))


@router.post(PREFIX + "calls/{task_id}/end", include_in_schema=False)
async def end(task_id: str, ctx: AppContext = Depends(get_ctx),
              grant: Grant = Depends(grant_of)) -> dict[str, Any]:
    return await _transition(ctx, grant, task_id, lambda s, task, now: service.end(
        s, task.id, grant.agent_id, now))


class WrapUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    disposition: str = Field(min_length=1, max_length=40)
    notes: str | None = Field(default=None, max_length=4000)
    crm_record: str | None = Field(default=None, min_length=1, max_length=200, description=(
        "The record the page shows; a call dialed from a record keeps its own"))
    crm: str | None = Field(default=None, min_length=1, max_length=64)


@router.post(PREFIX + "calls/{task_id}/wrap-up", include_in_schema=False)
async def wrap_up(task_id: str, body: WrapUpIn, ctx: AppContext = Depends(get_ctx),
                  grant: Grant = Depends(grant_of)) -> dict[str, Any]:
    """The outcome (code and notes) on the customer's timeline as ``call.wrapped_up``,
    carrying the CRM record, so the CRM connector logs it on that record. A second wrap-up
    of the same call answers 409 and records nothing more."""
    def complete(session: Session, task: TaskRow, now: datetime) -> object:
        config = dispatcher_of(ctx).config(session)
        codes = [c["code"] for c in _codes(config, task.queue, "en")]
        if body.disposition not in codes:
            raise ValidationFailed("unknown wrap-up code", errors=[{
                "field": "disposition", "code": "invalid_value",
                "detail": f"one of {', '.join(codes)}"}])
        attributes = task.attributes or {}
        record = attributes.get("crm_record") or body.crm_record
        crm = attributes.get("crm") or body.crm
        data = {k: v for k, v in (("crm_record", record), ("crm", crm)) if v}
        return wrapup.complete(session, task.id, grant.agent_id, disposition=body.disposition,
                        notes=body.notes, data=data, outcome=None,
                        config=config, settings=ctx.settings,
                        policies=ctx.policies, now=now)

    return await _transition(ctx, grant, task_id, complete)


def _revoke_own(ctx: AppContext, token: str | None) -> None:
    with ctx.db.unit_of_work() as session:
        widget_tokens.revoke(session, token or "", ctx.clock.now())


@router.delete(PREFIX + "token", status_code=204, include_in_schema=False)
async def forget(request: Request, ctx: AppContext = Depends(get_ctx),
                 grant: Grant = Depends(grant_of)) -> Response:
    """The page is done with its token (the CRM user signed out)."""
    await run_in_threadpool(_revoke_own, ctx, _bearer(request))
    return Response(status_code=204)


# -- CORS: configured CRM origins only -------------------------------------------------------

ALLOWED_HEADERS = "Authorization, Content-Type"
ALLOWED_METHODS = "GET, POST, DELETE"


class OriginRefused(Forbidden):
    code, title = "origin_not_allowed", "Origin not allowed"


class WidgetCors:
    """ASGI middleware for ``/v1/widget/…``: a browser request from an origin of
    ``CIRCULO_WIDGET_ORIGINS`` gets CORS headers (never with credentials: the widget sends no
    cookie); one from any other origin is refused with 403 before the token is looked at.
    Requests without ``Origin`` (a server, a test) pass untouched."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        ctx: AppContext = scope["app"].state.ctx
        allowed = origin.lower() in ctx.settings.widget_origins
        cors = [(b"access-control-allow-origin", origin.encode("latin-1")),
                (b"vary", b"Origin"), (b"access-control-max-age", b"600")]
        if not allowed:
            error = OriginRefused(f"origin {origin!r} may not use the widget: add it to "
                                  "CIRCULO_WIDGET_ORIGINS")
            await problem_response(error)(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await send({"type": "http.response.start", "status": 204, "headers": [
                *cors, (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
                (b"access-control-allow-headers", ALLOWED_HEADERS.encode())]})
            await send({"type": "http.response.body", "body": b""})
            return

        async def with_cors(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *cors]}
            await send(message)

        await self.app(scope, receive, with_cors)


__all__ = ["WidgetCors", "router"]
