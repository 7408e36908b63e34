"""The survey pages: the customer's public page behind a signed, single-use link
(``/s/{token}``, no sign-in) and the supervisor's live CSAT and NPS (``/console/surveys``).

The public page works without JavaScript: native radio groups in fieldsets (keyboard and
screen readers know them), a form that posts back, and a clear page for every refusal
(already answered, expired, unknown or tampered link, answers out of range), never a 500.
Failures count against the caller's address (``CIRCULO_SURVEY_FAILURE_LIMIT``), so links
cannot be guessed at speed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from circulo.api_deps import client_address, get_ctx
from circulo.auth import users
from circulo.auth.throttle import SURVEY
from circulo.context import AppContext
from circulo.errors import CirculoError, TooManyRequests, ValidationFailed
from circulo.reports import service as reports
from circulo.surveys import engine
from circulo.surveys import service as surveys
from circulo.surveys.definition import Survey
from circulo.web import surveys_texts, texts
from circulo.web.common import HEADERS, language, read_form, redirect, render, signed_in
from circulo.web.reports import number

router = APIRouter(include_in_schema=False)
texts.register(surveys_texts.CATALOGUE)
AREA = "/console"
LIVE_SECONDS = 5  # the console's scores refresh this often (htmx polling; the DB is the truth)
STATUS = {"answered": 409, "expired": 410, "invalid": 404}


# -- the customer's page ----------------------------------------------------------------------

def _lang(request: Request, fallback: str) -> str:
    asked = request.query_params.get("lang", "")
    return asked if asked in ("es", "en") else fallback


def _message(state: str, lang: str, status: int, **values: Any) -> Response:
    return render("survey_message.html", lang, status, state=state, **values)


def _form(token: str, survey: Survey, lang: str, status: int = 200, *,
          problems: tuple[engine.Problem, ...] = (), values: dict[str, str] | None = None
          ) -> Response:
    return render("survey_form.html", lang, status, token=token, survey=survey,
                  problems={p.field: p for p in problems}, values=values or {},
                  other="en" if lang == "es" else "es")


def _throttled(ctx: AppContext, client: str, lang: str) -> Response | None:
    try:
        ctx.throttle.check(SURVEY, client)
    except TooManyRequests as exc:
        response = _message("busy", lang, 429, wait=exc.retry_after)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return None


@router.get("/s/{token}")
async def survey_page(token: str, request: Request, ctx: AppContext = Depends(get_ctx)
                      ) -> Response:
    client = client_address(request.scope)
    busy = _throttled(ctx, client, _lang(request, "es"))
    if busy:
        return busy

    def run() -> surveys.Opened:
        with ctx.db.unit_of_work(write=False) as session:
            return surveys.open_link(session, ctx.settings, token, ctx.clock.now())
    opened = await run_in_threadpool(run)
    lang = _lang(request, opened.language)
    if opened.state == "open" and opened.survey is not None:
        return _form(token, opened.survey, lang)
    if opened.state != "answered":
        ctx.throttle.failed(SURVEY, client)
    return _message(opened.state, lang, STATUS[opened.state])


@router.post("/s/{token}")
async def survey_answer(token: str, request: Request, ctx: AppContext = Depends(get_ctx)
                        ) -> Response:
    client = client_address(request.scope)
    busy = _throttled(ctx, client, _lang(request, "es"))
    if busy:
        return busy
    try:
        form = await read_form(request)
    except CirculoError:  # a body over the form limit
        form = None
    chosen = form.get("lang") if form else ""
    asked = chosen if chosen in ("es", "en") else None

    def run() -> surveys.Submitted:
        with ctx.db.unit_of_work() as session:
            return surveys.submit_link(session, ctx.settings, ctx.policies, token,
                                       dict(form.fields) if form else {}, asked,
                                       ctx.clock.now())
    try:
        done = await run_in_threadpool(run)
    except IntegrityError:  # another submission of the same link won the race
        done = surveys.Submitted("answered", asked or "es")
    lang = asked or done.language
    if done.state == "saved":
        return _message("thanks", lang, 200)
    if done.state != "answered":
        ctx.throttle.failed(SURVEY, client)
    if done.state == "problems" and done.survey is not None:
        values = {k: v for k, v in (form.fields if form else {}).items()}
        return _form(token, done.survey, lang, 422, problems=done.problems, values=values)
    return _message(done.state, lang, STATUS.get(done.state, 404))


# -- the supervisor's scores ------------------------------------------------------------------

async def _supervisor(request: Request, ctx: AppContext) -> users.SignedIn | Response:
    signed = await signed_in(request, ctx)
    if signed is None:
        return redirect("/sign-in")
    if signed.user.role not in users.SUPERVISING:
        lang = language(request, signed.user)
        return render("console_denied.html", lang, 403, user=signed.user,
                      csrf_token=signed.csrf_token, area=AREA)
    return signed


def _boards(ctx: AppContext, first: str | None, last: str | None
            ) -> tuple[surveys.Scoreboard, surveys.Scoreboard | None, str | None]:
    now = ctx.clock.now()
    zone = ctx.settings.timezone
    today = reports.period_of(None, None, zone, now)
    chosen, error = None, None
    if first or last:
        try:
            period = reports.period_of(first or None, last or None, zone, now)
        except ValidationFailed as exc:
            error = exc.detail
        else:
            chosen = period
    with ctx.db.unit_of_work(write=False) as session:
        live = surveys.scoreboard(session, today.start, today.end)
        past = surveys.scoreboard(session, chosen.start, chosen.end) if chosen else None
    return live, past, error


def _clock(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%H:%M:%S")


@router.get("/console/surveys")
async def scores_page(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    signed = await _supervisor(request, ctx)
    if isinstance(signed, Response):
        return signed
    lang = language(request, signed.user)
    first = request.query_params.get("from", "")[:10]
    last = request.query_params.get("to", "")[:10]
    live, past, error = await run_in_threadpool(_boards, ctx, first, last)
    return render("surveys_console.html", lang, 422 if error else 200, user=signed.user,
                  csrf_token=signed.csrf_token, area=AREA, section="surveys", live=live,
                  past=past, first=first, last=last,
                  error=texts.texts(lang)["surveys.bad_period"] if error else "",
                  as_of=_clock(ctx.clock.now(), signed.user.time_zone), every=LIVE_SECONDS,
                  dimensions=surveys.DIMENSIONS, num=number)


@router.get("/console/surveys/live")
async def scores_live(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    """Today's scores, the fragment the page polls (htmx, every few seconds)."""
    signed = await _supervisor(request, ctx)
    if isinstance(signed, Response):
        if signed.status_code in (302, 303):  # signed out meanwhile: htmx follows HX-Redirect
            return Response(status_code=204, headers={**HEADERS, "HX-Redirect": "/sign-in"})
        return signed
    lang = language(request, signed.user)
    live, _, _ = await run_in_threadpool(_boards, ctx, None, None)
    return render("surveys_live.html", lang, live=live, every=LIVE_SECONDS,
                  as_of=_clock(ctx.clock.now(), signed.user.time_zone),
                  dimensions=surveys.DIMENSIONS, num=number)
