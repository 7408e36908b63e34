"""The agent's desk: presence, live offers (SSE), accept/reject, the contact in hand, end,
wrap-up with the queue's codes, callbacks and tasks by urgency, click-to-dial.

Thin: every decision is ``circulo.routing.agent_desk``'s, always as the signed-in user's own
agent (a user without one sees why the desk is empty). The stream re-reads the database, so a
reconnect (the server restarted, the network blinked) shows every offer still standing, and
several server processes serve desks alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import escape
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from circulo.api_deps import get_ctx
from circulo.auth import users
from circulo.context import AppContext
from circulo.errors import NotFound
from circulo.routing import agent_desk
from circulo.routing.dispatcher import dispatcher_of
from circulo.web import desk_texts
from circulo.web.common import (
    HEADERS,
    checked,
    current,
    language,
    new_token,
    redirect,
    render,
    signed_in,
    templates,
)
from circulo.web.texts import register, texts

router = APIRouter(include_in_schema=False)
register(desk_texts.CATALOGUE)

TICK = 0.25  # seconds between the stream's cheap looks at the agent's row
SESSION_EVERY = 5.0  # seconds between the stream's session checks (and heartbeats)
REFRESH_EVERY = 30.0  # the whole state is re-read this often anyway (callbacks falling due)
SUCCESS = {"accept": "accepted", "reject": "rejected", "end": "ended", "wrap-up": "wrapped"}


def _clock(user: users.UserView) -> Callable[[datetime | None], str]:
    try:
        zone = ZoneInfo(user.time_zone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")

    def at(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%H:%M") if moment is not None else ""

    return at


def _state(ctx: AppContext, agent_id: str) -> agent_desk.DeskState | None:
    dispatcher = dispatcher_of(ctx)
    try:
        with ctx.db.unit_of_work(write=False) as session:
            return agent_desk.desk_state(session, agent_id, dispatcher.config(session),
                                         ctx.settings, ctx.clock.now())
    except NotFound:
        return None


def _values(signed: users.SignedIn, state: agent_desk.DeskState | None, ctx: AppContext,
            lang: str, message: str = "", error: bool = False) -> dict[str, Any]:
    return {"state": state, "at": _clock(signed.user), "message": message, "error": error,
            "now": ctx.clock.now(), "auto_open": ctx.settings.desk_auto_open_crm,
            "reasons": agent_desk.AWAY_REASONS, "csrf_token": signed.csrf_token}


def work_html(signed: users.SignedIn, state: agent_desk.DeskState | None, ctx: AppContext,
              lang: str) -> str:
    """The work panel alone, as the stream sends it."""
    return templates.get_template("desk_work.html").render(
        t=texts(lang), lang=lang, user=signed.user, **_values(signed, state, ctx, lang))


def desk_page(request: Request, signed: users.SignedIn, *, status: int = 200,
              message: str = "", ctx: AppContext | None = None) -> HTMLResponse:
    """The desk; without ``ctx`` (an error answer of another page) the work panel is left
    for the stream to fill."""
    lang = language(request, signed.user)
    error = status >= 400
    if ctx is not None:
        state = _state(ctx, signed.user.agent_id) if signed.user.agent_id else None
        values = _values(signed, state, ctx, lang, message, error)
    else:
        values = {"message": message, "error": error, "state": None,
                  "csrf_token": signed.csrf_token, "reasons": agent_desk.AWAY_REASONS}
    return render("desk.html", lang, status, user=signed.user, area="/desk",
                  role=texts(lang)["role." + signed.user.role], has_ctx=ctx is not None,
                  dial_request=new_token(), **values)


@router.get("/desk")
async def desk(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    signed = await signed_in(request, ctx)
    if signed is None:
        return redirect("/sign-in")
    if signed.user.agent_id:
        await run_in_threadpool(_heartbeat, ctx, signed.user.agent_id)
    return await run_in_threadpool(lambda: desk_page(request, signed, ctx=ctx))


@router.get("/desk/work")
async def work(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    signed = await signed_in(request, ctx)
    if signed is None:
        return Response(status_code=401, headers=HEADERS)
    return await run_in_threadpool(_fragment, request, ctx, signed, "", False, 200)


def _fragment(request: Request, ctx: AppContext, signed: users.SignedIn, message: str,
              error: bool, status: int) -> HTMLResponse:
    lang = language(request, signed.user)
    state = _state(ctx, signed.user.agent_id) if signed.user.agent_id else None
    html = work_html(signed, state, ctx, lang)
    if message:  # out of band: the stream's later updates of the work panel keep it
        kind = "error" if error else "ok"
        role = "alert" if error else "status"
        html += (f'<p id="desk-message" class="desk-message {kind}" role="{role}" '
                 f'hx-swap-oob="true">{escape(message)}</p>')
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _heartbeat(ctx: AppContext, agent_id: str) -> None:
    try:
        with ctx.db.unit_of_work() as session:
            agent_desk.heartbeat(session, agent_id, ctx.clock.now())
    except NotFound:
        pass


# -- actions -----------------------------------------------------------------------------------

def _act(ctx: AppContext, agent_id: str, action: str, task_id: str,
         form: dict[str, str]) -> agent_desk.Done:
    dispatcher = dispatcher_of(ctx)
    now = ctx.clock.now()
    with ctx.db.unit_of_work() as session:
        config = dispatcher.config(session)
        if action == "accept":
            done = agent_desk.accept(session, task_id, agent_id, settings=ctx.settings,
                                     policies=ctx.policies, now=now)
        elif action == "reject":
            done = agent_desk.reject(session, task_id, agent_id, now)
        elif action == "end":
            done = agent_desk.end(session, task_id, agent_id, now)
        elif action == "wrap-up":
            done = agent_desk.wrap_up(session, task_id, agent_id, code=form.get("code", ""),
                                      notes=form.get("notes", ""), config=config,
                                      settings=ctx.settings, policies=ctx.policies, now=now)
        elif action == "presence":
            agent_desk.set_presence(session, agent_id, form.get("presence", ""),
                                    form.get("reason", ""), now)
            done = agent_desk.Done("")
        else:  # dial
            done = agent_desk.dial(session, agent_id, form.get("phone", ""),
                                   form.get("request_id", ""), config=config,
                                   settings=ctx.settings, policies=ctx.policies, now=now)
    if not done.repeated:
        dispatcher.after_change()
    return done


async def _answer(request: Request, ctx: AppContext, action: str, task_id: str = ""
                  ) -> Response:
    signed, form, valid = await checked(request, ctx)
    if signed is None:
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={**HEADERS, "HX-Redirect": "/sign-in"})
        return redirect("/sign-in")
    t = texts(language(request, signed.user))
    htmx = bool(request.headers.get("hx-request"))
    if not valid:
        message, status = t["refused"], 403
    elif not signed.user.agent_id:
        message, status = t["desk.refused.no_agent"], 403
    else:
        try:
            done = await run_in_threadpool(_act, ctx, signed.user.agent_id, action, task_id,
                                           dict(form.fields))
        except NotFound:  # the user names an agent routing does not (or no longer) know
            message, status = t["desk.refused.no_agent"], 409
        except agent_desk.Refused as refused:
            message = t[f"desk.refused.{refused.code}"]
            status = 403 if refused.forbidden else 404 if refused.code == "gone" \
                else 422 if refused.code.startswith("bad_") else 409
        else:
            key = {"presence": "presence", "dial": "dialed"}.get(action, SUCCESS.get(action))
            if action == "accept" and done.repeated:
                key = "accepted_again"
            message, status = t[f"desk.done.{key}"], 200
            if not htmx:
                return redirect("/desk")
    if htmx:
        return await run_in_threadpool(_fragment, request, ctx, signed, message,
                                       status >= 400, status)
    return await run_in_threadpool(
        lambda: desk_page(request, signed, status=status, message=message, ctx=ctx))


@router.post("/desk/presence")
async def presence(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    return await _answer(request, ctx, "presence")


@router.post("/desk/dial")
async def dial(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    return await _answer(request, ctx, "dial")


@router.post("/desk/tasks/{task_id}/accept")
async def accept(task_id: str, request: Request, ctx: AppContext = Depends(get_ctx)
                 ) -> Response:
    return await _answer(request, ctx, "accept", task_id)


@router.post("/desk/tasks/{task_id}/reject")
async def reject(task_id: str, request: Request, ctx: AppContext = Depends(get_ctx)
                 ) -> Response:
    return await _answer(request, ctx, "reject", task_id)


@router.post("/desk/tasks/{task_id}/end")
async def end(task_id: str, request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    return await _answer(request, ctx, "end", task_id)


@router.post("/desk/tasks/{task_id}/wrap-up")
async def wrap_up(task_id: str, request: Request, ctx: AppContext = Depends(get_ctx)
                  ) -> Response:
    return await _answer(request, ctx, "wrap-up", task_id)


# -- the live stream ---------------------------------------------------------------------------

def _look(ctx: AppContext, agent_id: str) -> tuple[object, ...] | None:
    with ctx.db.unit_of_work(write=False) as session:
        return agent_desk.look(session, agent_id, ctx.clock.now())


def _check_session(ctx: AppContext, token: str, agent_id: str | None
                   ) -> users.SignedIn | None:
    signed = current(ctx, token)
    if signed is not None and agent_id:
        _heartbeat(ctx, agent_id)  # the page is open: the agent is at their desk
    return signed


def _notices(ctx: AppContext, agent_id: str, gone: list[str]) -> list[str]:
    with ctx.db.unit_of_work(write=False) as session:
        ended = agent_desk.closed_offers(session, agent_id, gone)
    return [ended[t] for t in gone if ended.get(t) in ("timeout", "revoked", "canceled")]


@router.get("/desk/stream")
async def stream(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    """``work`` events carry the work panel's HTML whenever it changes (first at once, so a
    reconnect shows what is standing); ``notice`` events say an offer was withdrawn or
    expired; ``signin`` says the session ended (the page goes to the sign-in form)."""
    token = request.cookies.get(users.COOKIE)
    signed = await signed_in(request, ctx)
    if signed is None or token is None:
        return Response(status_code=401, headers=HEADERS)
    lang = language(request, signed.user)
    agent_id = signed.user.agent_id
    session_token: str = token
    viewer: users.SignedIn = signed

    async def events() -> AsyncIterator[ServerSentEvent]:
        nonlocal viewer
        loop = asyncio.get_running_loop()
        version: tuple[object, ...] | None = None
        fingerprint = ""
        shown: set[str] = set()
        last_session = last_full = loop.time()
        first = True
        while True:
            if await request.is_disconnected():
                return
            now = loop.time()
            if now - last_session >= SESSION_EVERY:
                last_session = now
                resumed = await run_in_threadpool(_check_session, ctx, session_token,
                                                  agent_id)
                if resumed is None:
                    yield ServerSentEvent(data="/sign-in", event="signin")
                    return
                viewer = resumed
            seen = await run_in_threadpool(_look, ctx, agent_id) if agent_id else None
            if first or seen != version or now - last_full >= REFRESH_EVERY:
                version, last_full = seen, now
                state = await run_in_threadpool(_state, ctx, agent_id) if agent_id else None
                current_fp = state.fingerprint if state is not None else "none"
                if first or current_fp != fingerprint:
                    offers = {t.id for t in state.offers} if state is not None else set()
                    gone = sorted(shown - offers)
                    shown = offers
                    if gone and agent_id:
                        t = texts(lang)
                        for outcome in await run_in_threadpool(_notices, ctx, agent_id,
                                                               gone):
                            yield ServerSentEvent(data=t[f"desk.notice.{outcome}"],
                                                  event="notice")
                    fingerprint = current_fp
                    html = await run_in_threadpool(work_html, viewer, state, ctx, lang)
                    yield ServerSentEvent(data=html, event="work", retry=1000)
                first = False
            await asyncio.sleep(TICK)

    return EventSourceResponse(events(), headers={**HEADERS, "Cache-Control": "no-cache"},
                               ping=15)
