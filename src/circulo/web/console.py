"""The supervisor's console (issue 16, scope 3 live part and 5): the live board by queue,
priority class, site and agent; the alerts with their acknowledgement; moving an agent
between queues; the duplicate-review queue; the journeys and what they did.

The board is pushed over Server-Sent Events (``/console/stream``) as *batched* updates: one
message per interval carrying only the rows that changed since the previous message (rows
keyed by id), the first message carrying them all, so a reconnect loses nothing and a board
of 500 agents and 2,000 waiting contacts stays cheap. The database is the source of truth:
each process computes the board at most once per interval whatever the number of open
boards (``latest``), and a stream re-checks its session every time, telling the page to go
to sign-in when it has ended.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from circulo.api_deps import get_ctx
from circulo.auth import users
from circulo.console import board as console
from circulo.console.alerts import Alert, Thresholds
from circulo.context import AppContext
from circulo.errors import Conflict, NotFound, ValidationFailed
from circulo.identity import review
from circulo.routing.dispatcher import dispatcher_of
from circulo.web import console_texts, texts
from circulo.web.common import HEADERS, checked, current, language, redirect, render, signed_in

router = APIRouter(include_in_schema=False)
texts.register(console_texts.CATALOGUE)

SUPERVISING = users.SUPERVISING
AREA = "/console"


# -- the board, computed once per interval per process ----------------------------------------

def rules_of(ctx: AppContext) -> console.BoardRules:
    s = ctx.settings
    return console.BoardRules(
        Thresholds(vip_wait_seconds=s.console_vip_wait_alert,
                   abandons_per_day=s.console_abandons_alert),
        at_risk_churn=s.console_at_risk_churn,
        mood_window=timedelta(seconds=s.console_sentiment_window))


def local_midnight(ctx: AppContext, now: datetime) -> datetime:
    local = now.astimezone(ZoneInfo(ctx.settings.timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(now.tzinfo)


def compute(ctx: AppContext) -> console.Board:
    now = ctx.clock.now()
    with ctx.db.unit_of_work(write=False) as session:
        queues = dispatcher_of(ctx).config(session).queues
        return console.board(session, now, local_midnight(ctx, now), queues, rules_of(ctx))


# by id of the context, with a weak reference proving it is still that context
_latest: dict[int, tuple[weakref.ref[AppContext], console.Board]] = {}
_lock = threading.Lock()


def latest(ctx: AppContext) -> console.Board:
    """The board of this process, recomputed when older than most of an interval (by the
    context's clock): ten open boards cost one computation per interval, not ten."""
    with _lock:
        held = _latest.get(id(ctx))
        kept = held[1] if held and held[0]() is ctx else None
        age = (ctx.clock.now() - kept.as_of).total_seconds() if kept else None
        if kept and age is not None and 0 <= age < ctx.settings.console_interval * 0.8:
            return kept
        made = compute(ctx)
        for gone in [k for k, (ref, _) in _latest.items() if ref() is None]:
            del _latest[gone]  # contexts that ended (tests build many)
        _latest[id(ctx)] = (weakref.ref(ctx), made)
        return made


def forget(ctx: AppContext) -> None:
    """Drop this process's board after a change (an acknowledgement, a move), so the next
    read computes it again. Taken under the lock: a board being computed when the change
    committed holds the lock, is stored, and is dropped here, instead of being stored after
    the drop and shown as current (an acknowledged alert coming back)."""
    with _lock:
        _latest.pop(id(ctx), None)


# -- what the page shows ----------------------------------------------------------------------

def _clock(moment: datetime | None, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%H:%M:%S") if moment else ""


def alert_text(alert: Alert, t: dict[str, str], zone: str) -> str:
    value = int(alert.value) if float(alert.value).is_integer() else alert.value
    target = alert.target
    name = f"console.alert.{alert.kind}" + ("_urgent" if alert.urgent else "")
    return t[name].format(
        customer=alert.customer_name or alert.customer_id or t["console.unknown_customer"],
        queue=alert.queue or "", value=value,
        target=int(target) if target is not None and float(target).is_integer() else target,
        since=_clock(alert.since, zone)[:5] if alert.kind == "angry"
        else _clock(alert.since, zone))


def alerts_out(alerts: list[Alert], t: dict[str, str], zone: str) -> list[dict[str, str]]:
    """The alerts as the page lists them; their texts hold no running clock, so the list
    (and the focus on its buttons) changes only when an alert comes or goes."""
    return [{"key": a.key, "kind": a.kind, "text": alert_text(a, t, zone)} for a in alerts]


def update(before: dict[str, dict[str, Any]] | None, alerts_before: list[dict[str, str]] | None,
           now: console.Board, t: dict[str, str], zone: str
           ) -> tuple[bytes | None, list[dict[str, str]]]:
    """One batched update: the rows that changed and, if they changed, the alerts; None when
    nothing did."""
    rows, removed = console.changes(before, now)
    alerts = alerts_out(now.alerts, t, zone)
    if not rows and not removed and alerts == alerts_before:
        return None, alerts
    message: dict[str, Any] = {"as_of": _clock(now.as_of, zone),
                               "now_ms": int(now.as_of.timestamp() * 1000),
                               "rows": rows, "removed": removed}
    if alerts != alerts_before:
        message["alerts"] = alerts
    return orjson.dumps(message), alerts


# -- pages ------------------------------------------------------------------------------------

def denied(request: Request, signed: users.SignedIn) -> Response:
    lang = language(request, signed.user)
    return render("console_denied.html", lang, 403, user=signed.user,
                  csrf_token=signed.csrf_token, area=AREA)


def _board_values(ctx: AppContext) -> dict[str, Any]:
    with ctx.db.unit_of_work(write=False) as session:
        queues = sorted(dispatcher_of(ctx).config(session).queues)
        agents = [(a.id, a.name or a.id, ", ".join(a.queues)) for a in console.agents(session)]
    return {"queues": queues, "agents": agents}


async def board_page(request: Request, ctx: AppContext, signed: users.SignedIn, *,
                     status: int = 200, message: str = "", error: str = "",
                     chosen: str = "", queues_text: str = "") -> Response:
    lang = language(request, signed.user)
    values = await run_in_threadpool(_board_values, ctx)
    t = texts.texts(lang)
    labels = {key: value for key, value in t.items() if key.startswith(
        ("console.presence.", "console.state.", "console.class.", "console.below_target",
         "console.ack", "console.no_alerts", "console.offline", "console.as_of",
         "console.session_ended"))}
    return render("console_board.html", lang, status, user=signed.user,
                  csrf_token=signed.csrf_token, area=AREA, section="board", message=message,
                  error=error, chosen=chosen, queues_text=queues_text,
                  labels=orjson.dumps(labels).decode(), **values)


async def _supervisor(request: Request, ctx: AppContext) -> users.SignedIn | Response:
    signed = await signed_in(request, ctx)
    if signed is None:
        return redirect("/sign-in")
    if signed.user.role not in SUPERVISING:
        return denied(request, signed)
    return signed


@router.get("/console")
async def console_board(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    signed = await _supervisor(request, ctx)
    if isinstance(signed, Response):
        return signed
    return await board_page(request, ctx, signed)


@router.get("/console/stream")
async def console_stream(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    """The board as batched SSE updates (event ``board``); ``signed-out`` when the session
    ends. ``?limit=n`` ends the stream after n updates (tests, benchmarks); ``?full=1``
    sends every row every time, the naive way the benchmark compares with."""
    token = request.cookies.get(users.COOKIE)
    signed = await signed_in(request, ctx)
    if signed is None or token is None:
        return Response(status_code=401, headers=HEADERS)
    if signed.user.role not in SUPERVISING:
        return Response(status_code=403, headers=HEADERS)
    try:
        limit = int(request.query_params.get("limit", "0"))
    except ValueError:
        limit = 0
    full = request.query_params.get("full") == "1"
    t = texts.texts(language(request, signed.user))
    zone = signed.user.time_zone
    interval = ctx.settings.console_interval

    async def events() -> AsyncIterator[dict[str, str]]:
        before: dict[str, dict[str, Any]] | None = None
        alerts: list[dict[str, str]] | None = None
        sent = 0
        loop = asyncio.get_running_loop()
        while not await request.is_disconnected():
            started = loop.time()
            resumed = await run_in_threadpool(current, ctx, token)
            if resumed is None or resumed.user.role not in SUPERVISING:  # ended, or demoted
                yield {"event": "signed-out", "data": "/sign-in"}
                return
            now = await run_in_threadpool(latest, ctx)
            data, alerts = update(None if full else before, None if full else alerts, now,
                                  t, zone)
            before = now.rows
            if data is not None:
                yield {"event": "board", "data": data.decode()}
                sent += 1
                if limit and sent >= limit:
                    return
            # one update per interval, however long the board took to compute
            await asyncio.sleep(max(0.05, interval - (loop.time() - started)))

    return EventSourceResponse(events(), ping=15, headers={"Cache-Control": "no-store"})


@router.post("/console/alerts/ack")
async def acknowledge(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    signed, form, valid = await checked(request, ctx)
    if signed is None:
        return redirect("/sign-in")
    if signed.user.role not in SUPERVISING:
        return denied(request, signed)
    t = texts.texts(language(request, signed.user))
    if not valid:
        return await board_page(request, ctx, signed, status=403, error=t["refused"])

    def run() -> bool:
        with ctx.db.unit_of_work() as session:
            return console.acknowledge(session, form.get("key"), f"user:{signed.user.username}",
                                       ctx.clock.now())
    try:
        await run_in_threadpool(run)
    except ValidationFailed:
        return await board_page(request, ctx, signed, status=422, error=t["console.unknown_alert"])
    forget(ctx)  # the next update leaves it out
    return await board_page(request, ctx, signed, message=t["console.acked"])


@router.post("/console/agents")
async def reassign(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    signed, form, valid = await checked(request, ctx)
    if signed is None:
        return redirect("/sign-in")
    if signed.user.role not in SUPERVISING:
        return denied(request, signed)
    t = texts.texts(language(request, signed.user))
    agent_id, text = form.get("agent_id"), form.get("queues")
    if not valid:
        return await board_page(request, ctx, signed, status=403, error=t["refused"],
                                chosen=agent_id, queues_text=text)
    names = console.parse_queues(text)

    def run() -> tuple[str, list[str]]:
        with ctx.db.unit_of_work() as session:
            queues = dispatcher_of(ctx).config(session).queues
            agent = console.reassign(session, agent_id, names, queues,
                                     f"user:{signed.user.username}", ctx.clock.now())
            return agent.name or agent.id, list(agent.queues)
    try:
        name, now_serves = await run_in_threadpool(run)
    except NotFound:
        return await board_page(request, ctx, signed, status=404,
                                error=t["console.unknown_agent"], queues_text=text)
    except ValidationFailed as exc:
        code = exc.errors[0]["code"] if exc.errors else ""
        if code == "unknown_queue":
            values = await run_in_threadpool(_board_values, ctx)
            unknown = [n for n in names if n not in values["queues"]]
            error = t["console.unknown_queue"].format(names=", ".join(unknown),
                                                      known=", ".join(values["queues"]))
        else:
            error = t["console.no_queues"]
        return await board_page(request, ctx, signed, status=422, error=error,
                                chosen=agent_id, queues_text=text)
    # routing takes the new queues now (the dispatcher reads the changed agent)
    await run_in_threadpool(dispatcher_of(ctx).after_change)
    forget(ctx)
    return await board_page(request, ctx, signed, message=t["console.reassigned"].format(
        agent=name, queues=", ".join(now_serves)), chosen=agent_id)


# -- the duplicate-review queue ---------------------------------------------------------------

def _suggestions(ctx: AppContext) -> list[dict[str, Any]]:
    with ctx.db.unit_of_work(write=False) as session:
        found = review.list_suggestions(session, status="open", order="score", limit=50,
                                        offset=0, customer_id=None)
        names = review.names_of(session, found)
        return [review.view(s, names) for s in found]


async def identity_page(request: Request, ctx: AppContext, signed: users.SignedIn, *,
                        status: int = 200, message: str = "", error: str = "") -> Response:
    lang = language(request, signed.user)
    suggestions = await run_in_threadpool(_suggestions, ctx)
    return render("console_identity.html", lang, status, user=signed.user,
                  csrf_token=signed.csrf_token, area=AREA, section="identity",
                  suggestions=suggestions, message=message, error=error)


@router.get("/console/identity")
async def identity(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    signed = await _supervisor(request, ctx)
    if isinstance(signed, Response):
        return signed
    return await identity_page(request, ctx, signed)


@router.post("/console/identity/{suggestion_id}/{decision}")
async def decide(suggestion_id: str, decision: str, request: Request,
                 ctx: AppContext = Depends(get_ctx)) -> Response:
    signed, _, valid = await checked(request, ctx)
    if signed is None:
        return redirect("/sign-in")
    if signed.user.role not in SUPERVISING:
        return denied(request, signed)
    t = texts.texts(language(request, signed.user))
    if decision not in ("accept", "reject"):
        return await identity_page(request, ctx, signed, status=404,
                                   error=t["console.no_suggestion"])
    if not valid:
        return await identity_page(request, ctx, signed, status=403, error=t["refused"])
    actor = f"user:{signed.user.username}"

    def run() -> tuple[str, str]:
        with ctx.db.unit_of_work() as session:
            if decision == "accept":
                done = review.accept(session, suggestion_id, ctx.policies, ctx.clock.now(),
                                     actor)
            else:
                done = review.reject(session, suggestion_id, ctx.clock.now(), actor)
            pair = done.suggestion
            names = review.names_of(session, [pair])
            return (names.get(pair.profile_a) or pair.profile_a,
                    names.get(pair.profile_b) or pair.profile_b)
    try:
        a, b = await run_in_threadpool(run)
    except NotFound:
        return await identity_page(request, ctx, signed, status=404,
                                   error=t["console.no_suggestion"])
    except Conflict:
        return await identity_page(request, ctx, signed, status=409,
                                   error=t["console.already_decided"])
    key = "console.accepted" if decision == "accept" else "console.rejected"
    return await identity_page(request, ctx, signed, message=t[key].format(a=a, b=b))


# -- journeys ---------------------------------------------------------------------------------

def _journeys(ctx: AppContext) -> list[console.JourneyActivity]:
    with ctx.db.unit_of_work(write=False) as session:
        return console.journey_activity(session)


@router.get("/console/journeys")
async def journeys(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    signed = await _supervisor(request, ctx)
    if isinstance(signed, Response):
        return signed
    lang = language(request, signed.user)
    found = await run_in_threadpool(_journeys, ctx)
    zone = ZoneInfo(signed.user.time_zone)
    return render("console_journeys.html", lang, user=signed.user,
                  csrf_token=signed.csrf_token, area=AREA, section="journeys",
                  journeys=found, zone=zone)
