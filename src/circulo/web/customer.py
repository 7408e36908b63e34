"""The customer side of the agent's desk (issue 16; S1, S12): the customer panel the desk
loads when an offer arrives, its full-page twin (the screen-pop link), customer search, and
"who is calling?" for a task nobody could be attributed to.

Fragments (no ``<html>``) answer htmx requests; an expired session gets 401 with
``HX-Redirect: /sign-in`` (htmx follows it), a full page a redirect. Every state change
(a note, a suggestion decided, a caller confirmed) needs the session's CSRF token and is
idempotent: a double click or a repeated form changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from circulo.api_deps import get_ctx
from circulo.auth import users
from circulo.config import Settings
from circulo.context import AppContext
from circulo.customers import card_service
from circulo.customers import desk as customer_desk
from circulo.customers.models import Event
from circulo.errors import Conflict, Forbidden, NotFound, ValidationFailed
from circulo.i18n import t as label
from circulo.ids import new_id
from circulo.journeys import service as journeys
from circulo.routing import desk_context
from circulo.textan.views import Badge
from circulo.textan.views import badges as text_badges
from circulo.web.common import checked, language, redirect, render, signed_in
from circulo.web.cust_texts import CATALOGUE
from circulo.web.texts import register, texts

register(CATALOGUE)
router = APIRouter(include_in_schema=False)
ROLES = frozenset(users.ROLES)
TIMELINE_SHOWN = 30
FRAGMENT = {"X-Circulo-Fragment": "1"}  # cust.js lets htmx show these even on 4xx


@dataclass(frozen=True, slots=True)
class Item:
    """One line of the timeline, ready to show."""

    at: datetime
    label: str
    channel: str | None
    detail: str | None
    recording: str | None = None  # a recorded call's id: the line links to its page
    badges: tuple[Badge, ...] = ()  # what reading the message found (sentiment, urgency, reason)


@dataclass(frozen=True, slots=True)
class Panel:
    customer_id: str
    card: dict[str, Any]
    context: desk_context.ContactContext
    notes: list[customer_desk.Note]
    viewers: list[customer_desk.Viewer]
    timeline: list[Item]
    channels: list[str]
    channel: str
    task_id: str | None


# -- helpers --------------------------------------------------------------------------------

def when(zone: str, lang: str, now: datetime) -> Callable[[datetime | str | None], str]:
    """A time in the user's zone: the time alone today, with the date otherwise."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    today = now.astimezone(tz).date()

    def fmt(value: datetime | str | None) -> str:
        if value is None or value == "":
            return ""
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        local = moment.astimezone(tz)
        if local.date() == today:
            return local.strftime("%H:%M")
        return local.strftime("%d/%m/%Y %H:%M" if lang == "es" else "%Y-%m-%d %H:%M")
    return fmt


def channel_label(channel: str | None, lang: str) -> str:
    if not channel:
        return texts(lang)["cust.channel.none"]
    own = texts(lang).get(f"cust.channel.{channel}")
    return own or label(f"channel.{channel}", lang, channel)


def _detail(event: Event) -> str | None:
    analysed = event.analysis or {}
    if isinstance(analysed.get("redacted"), str) and analysed["redacted"]:
        return str(analysed["redacted"])[:160]  # the words as analysed: personal data masked
    props = event.properties or {}
    for key in ("reason", "disposition", "name", "title", "text", "subject", "event"):
        value = props.get(key)
        if isinstance(value, str | int | float) and value != "":
            return str(value)[:160]
    return None


def event_label(event_type: str, lang: str) -> str:
    """The event's name for a person: the shared catalogue, ours, then "record: status"
    for record events (``dispute.opened``), else the type itself."""
    t = texts(lang)
    noun, _, verb = event_type.partition(".")
    for key in (f"cust.event.{event_type}", f"cust.event.{verb}"):
        if key in t and (key != f"cust.event.{verb}" or verb in ("queued", "answered")):
            return t[key]
    named = label(f"event.{event_type}", lang, "")
    if named:
        return named
    kind, status = label(f"record.{noun}", lang, ""), label(f"status.{verb}", lang, "")
    if kind:
        return f"{kind}: {status or verb.replace('_', ' ')}"
    return event_type


def _recording(event: Event, reviewer: bool) -> str | None:
    """The recorded call an event is about, for those who may review recordings."""
    recording = (event.properties or {}).get("recording_id") if reviewer else None
    return recording if isinstance(recording, str) and recording.isalnum() else None


def _items(events: list[Event], lang: str, settings: Settings,
           reviewer: bool = False) -> list[Item]:
    return [Item(e.occurred_at, event_label(e.type, lang),
                 channel_label(e.channel, lang) if e.channel else None, _detail(e),
                 recording=_recording(e, reviewer),
                 badges=tuple(text_badges(e.analysis, settings, lang)))
            for e in events]


def card_role(ctx: AppContext, user: users.UserView) -> str:
    if user.card_role and user.card_role in ctx.templates.roles:
        return user.card_role
    return "support" if "support" in ctx.templates.roles else next(iter(ctx.templates.roles))


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def fragment(name: str, lang: str, status: int = 200, **values: Any) -> HTMLResponse:
    response = render(name, lang, status, **values)
    response.headers.update(FRAGMENT)
    return response


def message(lang: str, status: int, key: str, *, page: bool,
            user: users.UserView | None = None, csrf_token: str = "") -> HTMLResponse:
    """A clear message: on a page, or a fragment (for htmx) when ``page`` is false."""
    text = texts(lang)[key]
    if not page:
        return fragment("cust_message.html", lang, status, message=text)
    return render("cust_page.html", lang, status, user=user, csrf_token=csrf_token,
                  area="/desk", panel=None, message=text)


async def _session(request: Request, ctx: AppContext, *, page: bool
                   ) -> users.SignedIn | Response:
    signed = await signed_in(request, ctx)
    return _admitted(request, signed, page=page)


def _admitted(request: Request, signed: users.SignedIn | None, *, page: bool
              ) -> users.SignedIn | Response:
    if signed is None:
        if page:
            return redirect("/sign-in")
        lang = language(request)
        response = fragment("cust_message.html", lang, 401,
                            message=texts(lang)["cust.session_expired"])
        response.headers["HX-Redirect"] = "/sign-in"
        return response
    if signed.user.role not in ROLES:
        lang = language(request, signed.user)
        return message(lang, 403, "cust.forbidden_role", page=page, user=signed.user,
                       csrf_token=signed.csrf_token)
    return signed


def _build_panel(ctx: AppContext, signed: users.SignedIn, customer_id: str,
                 task_id: str | None, channel: str, lang: str) -> Panel:
    now = ctx.clock.now()
    user = signed.user
    with ctx.db.unit_of_work() as session:
        root = customer_desk.root_of(session, customer_id)
        card = card_service.lookup_card(
            session, query={"customer_id": root}, role=card_role(ctx, user), lang=lang,
            postal_code=None, settings=ctx.settings, templates=ctx.templates,
            policies=ctx.policies, now=now)["card"]
        try:
            context = desk_context.contact_context(session, root, task_id,
                                                   settings=ctx.settings, now=now)
        except NotFound:  # a task id that does not exist: the customer without it
            context = desk_context.contact_context(session, root, None,
                                                   settings=ctx.settings, now=now)
        viewers = customer_desk.look(session, root, user_id=user.id, name=user.name, now=now,
                                     opened=True)
        return Panel(root, card, context, customer_desk.notes_of(session, root), viewers,
                     _items(customer_desk.timeline(session, root, channel=channel,
                                                   limit=TIMELINE_SHOWN), lang,
                            ctx.settings, user.role in users.SUPERVISING),
                     customer_desk.channels_of(session, root), channel,
                     context.task.task_id if context.task else None)


def _panel_values(ctx: AppContext, signed: users.SignedIn, panel: Panel, lang: str
                  ) -> dict[str, Any]:
    return {"panel": panel, "card": panel.card, "csrf_token": signed.csrf_token,
            "when": when(signed.user.time_zone, lang, ctx.clock.now()), "note_id": new_id(),
            "channel_label": lambda c: channel_label(c, lang),
            "viewers_text": viewers_text(panel.viewers, lang)}


def viewers_text(viewers: list[customer_desk.Viewer], lang: str) -> str:
    t = texts(lang)
    if not viewers:
        return t["cust.alone"]
    names = [v.name for v in viewers]
    joined = names[0] if len(names) == 1 else \
        ", ".join(names[:-1]) + f" {t['cust.and']} " + names[-1]
    key = "cust.also_looking" if len(names) == 1 else "cust.also_looking_many"
    return t[key].format(names=joined)


# -- the panel and the page -----------------------------------------------------------------

@router.get("/desk/customers/{customer_id}/panel")
async def panel_fragment(request: Request, customer_id: str,
                         task: str | None = Query(default=None, max_length=32),
                         channel: str = Query(default="", max_length=32),
                         ctx: AppContext = Depends(get_ctx)) -> Response:
    signed = await _session(request, ctx, page=False)
    if isinstance(signed, Response):
        return signed
    lang = language(request, signed.user)
    try:
        panel = await run_in_threadpool(_build_panel, ctx, signed, customer_id[:32], task,
                                        channel, lang)
    except NotFound:
        return fragment("cust_message.html", lang, 404,
                        message=texts(lang)["cust.not_found"])
    # inside an offer the desk already shows the record's links (and opens one by itself)
    return fragment("cust_panel.html", lang, in_task=task is not None,
                    **_panel_values(ctx, signed, panel, lang))


@router.get("/desk/customers/{customer_id}")
async def customer_page(request: Request, customer_id: str,
                        task: str | None = Query(default=None, max_length=32),
                        channel: str = Query(default="", max_length=32),
                        ctx: AppContext = Depends(get_ctx)) -> Response:
    signed = await _session(request, ctx, page=True)
    if isinstance(signed, Response):
        return signed
    lang = language(request, signed.user)
    try:
        panel = await run_in_threadpool(_build_panel, ctx, signed, customer_id[:32], task,
                                        channel, lang)
    except NotFound:
        return render("cust_page.html", lang, 404, user=signed.user,
                      csrf_token=signed.csrf_token, area="/desk", panel=None,
                      message=texts(lang)["cust.not_found"])
    return render("cust_page.html", lang, user=signed.user, area="/desk", message="",
                  **_panel_values(ctx, signed, panel, lang))


def _timeline(ctx: AppContext, customer_id: str, channel: str, lang: str,
              reviewer: bool = False) -> tuple[str, list[Item]]:
    with ctx.db.unit_of_work(write=False) as session:
        root = customer_desk.root_of(session, customer_id)
        return root, _items(customer_desk.timeline(session, root, channel=channel,
                                                   limit=TIMELINE_SHOWN), lang, ctx.settings,
                            reviewer)


@router.get("/desk/customers/{customer_id}/timeline")
async def timeline_fragment(request: Request, customer_id: str,
                            channel: str = Query(default="", max_length=32),
                            ctx: AppContext = Depends(get_ctx)) -> Response:
    signed = await _session(request, ctx, page=False)
    if isinstance(signed, Response):
        return signed
    lang = language(request, signed.user)
    try:
        root, items = await run_in_threadpool(_timeline, ctx, customer_id[:32], channel, lang,
                                              signed.user.role in users.SUPERVISING)
    except NotFound:
        return fragment("cust_message.html", lang, 404, message=texts(lang)["cust.not_found"])
    return fragment("cust_timeline.html", lang, customer_id=root, items=items,
                    channel=channel, when=when(signed.user.time_zone, lang, ctx.clock.now()))


def _look(ctx: AppContext, user: users.UserView, customer_id: str
          ) -> tuple[str, list[customer_desk.Viewer]]:
    with ctx.db.unit_of_work() as session:
        root = customer_desk.root_of(session, customer_id)
        return root, customer_desk.look(session, root, user_id=user.id, name=user.name,
                                        now=ctx.clock.now())


@router.get("/desk/customers/{customer_id}/viewers")
async def viewers_fragment(request: Request, customer_id: str,
                           ctx: AppContext = Depends(get_ctx)) -> Response:
    """Polled every few seconds while the card is open: the heartbeat and the answer."""
    signed = await _session(request, ctx, page=False)
    if isinstance(signed, Response):
        return signed
    lang = language(request, signed.user)
    try:
        root, viewers = await run_in_threadpool(_look, ctx, signed.user, customer_id[:32])
    except NotFound:
        return fragment("cust_message.html", lang, 404, message=texts(lang)["cust.not_found"])
    return fragment("cust_viewers.html", lang, customer_id=root,
                    viewers_text=viewers_text(viewers, lang), viewers=viewers)


# -- notes ----------------------------------------------------------------------------------

def _add_note(ctx: AppContext, user: users.UserView, customer_id: str, note_id: str,
              text: str) -> tuple[str, list[customer_desk.Note]]:
    with ctx.db.unit_of_work() as session:
        root = customer_desk.root_of(session, customer_id)
        customer_desk.add_note(session, root, text, author_id=user.id, author_name=user.name,
                               note_id=note_id, now=ctx.clock.now())
        return root, customer_desk.notes_of(session, root)


def _notes(ctx: AppContext, customer_id: str) -> tuple[str, list[customer_desk.Note]]:
    with ctx.db.unit_of_work(write=False) as session:
        root = customer_desk.root_of(session, customer_id)
        return root, customer_desk.notes_of(session, root)


@router.post("/desk/customers/{customer_id}/notes")
async def add_note(request: Request, customer_id: str,
                   ctx: AppContext = Depends(get_ctx)) -> Response:
    signed, form, valid = await checked(request, ctx)
    admitted = _admitted(request, signed, page=not is_htmx(request))
    if isinstance(admitted, Response):
        return admitted
    lang = language(request, admitted.user)
    if not valid:
        return message(lang, 403, "cust.refused", page=not is_htmx(request),
                       user=admitted.user, csrf_token=admitted.csrf_token)
    status, error = 200, ""
    try:
        root, notes = await run_in_threadpool(
            _add_note, ctx, admitted.user, customer_id[:32],
            form.get("note_id")[:32] or new_id(), form.get("text"))
    except NotFound:
        return message(lang, 404, "cust.not_found", page=not is_htmx(request),
                       user=admitted.user, csrf_token=admitted.csrf_token)
    except ValidationFailed:
        status, error = 422, texts(lang)["cust.note_bad"]
        root, notes = await run_in_threadpool(_notes, ctx, customer_id[:32])
    if not is_htmx(request) and status == 200:
        return redirect(f"/desk/customers/{quote(root, safe='')}")
    return fragment("cust_notes.html", lang, status, customer_id=root, notes=notes,
                    csrf_token=admitted.csrf_token, note_id=new_id(), error=error,
                    when=when(admitted.user.time_zone, lang, ctx.clock.now()))


# -- suggestions ----------------------------------------------------------------------------

def _decide(ctx: AppContext, user: users.UserView, customer_id: str, suggestion_id: str,
            decision: str, lang: str) -> tuple[str, list[dict[str, Any]]]:
    now = ctx.clock.now()
    with ctx.db.unit_of_work() as session:
        root = customer_desk.root_of(session, customer_id)
        actor = f"agent:{user.agent_id}" if user.agent_id else f"user:{user.username}"
        row = journeys.decide(session, suggestion_id, decision, actor=actor, note=None,
                              settings=ctx.settings, policies=ctx.policies, now=now)
        session.flush()  # the sessions do not autoflush: the list must see the decision
        if customer_desk.root_of(session, row.customer_id) != root:
            raise NotFound("the suggestion is another customer's")
        return root, journeys.card_suggestions(session, root, lang, now)


@router.post("/desk/customers/{customer_id}/suggestions/{suggestion_id}/{decision}")
async def decide_suggestion(request: Request, customer_id: str, suggestion_id: str,
                            decision: str, ctx: AppContext = Depends(get_ctx)) -> Response:
    signed, _, valid = await checked(request, ctx)
    admitted = _admitted(request, signed, page=False)
    if isinstance(admitted, Response):
        return admitted
    lang = language(request, admitted.user)
    if not valid:
        return fragment("cust_message.html", lang, 403, message=texts(lang)["cust.refused"])
    if decision not in ("accepted", "dismissed"):
        return fragment("cust_message.html", lang, 404,
                        message=texts(lang)["cust.suggestion_gone"])
    try:
        root, suggestions = await run_in_threadpool(
            _decide, ctx, admitted.user, customer_id[:32], suggestion_id[:32], decision, lang)
    except (NotFound, ValidationFailed):
        return fragment("cust_message.html", lang, 409,
                        message=texts(lang)["cust.suggestion_gone"])
    return fragment("cust_suggestions.html", lang, customer_id=root, suggestions=suggestions,
                    csrf_token=admitted.csrf_token,
                    done=texts(lang)[f"cust.{decision}"])


# -- search ---------------------------------------------------------------------------------

def _search(ctx: AppContext, query: str) -> list[customer_desk.Hit]:
    with ctx.db.unit_of_work(write=False) as session:
        return customer_desk.search(session, query, ctx.settings)


@router.get("/desk/search")
async def search(request: Request, q: str = Query(default="", max_length=200),
                 ctx: AppContext = Depends(get_ctx)) -> Response:
    signed = await _session(request, ctx, page=not is_htmx(request))
    if isinstance(signed, Response):
        return signed
    lang = language(request, signed.user)
    hits = await run_in_threadpool(_search, ctx, q) if q.strip() else []
    values: dict[str, Any] = {"q": q, "hits": hits, "searched": bool(q.strip())}
    if is_htmx(request):
        return fragment("cust_results.html", lang, **values)
    return render("cust_search.html", lang, user=signed.user, csrf_token=signed.csrf_token,
                  area="/desk", **values)


# -- who is calling -------------------------------------------------------------------------

def _who(ctx: AppContext, user: users.UserView, task_id: str, lang: str
         ) -> desk_context.Who:
    with ctx.db.unit_of_work(write=False) as session:
        return desk_context.who(session, task_id, user.agent_id, role=card_role(ctx, user),
                                lang=lang, settings=ctx.settings, templates=ctx.templates,
                                policies=ctx.policies, now=ctx.clock.now())


def _who_values(found: desk_context.Who, signed: users.SignedIn, lang: str, now: datetime
                ) -> dict[str, Any]:
    t = texts(lang)
    kind = t.get(f"cust.kind.{found.kind}", found.kind or "")
    return {"who": found, "csrf_token": signed.csrf_token, "when": when(
        signed.user.time_zone, lang, now),
        "hint": t["cust.ambiguous_hint"].format(kind=kind),
        "evidence": t["cust.evidence"].format(kind=kind, value=found.value or "")}


@router.get("/desk/tasks/{task_id}/who")
async def who_fragment(request: Request, task_id: str,
                       ctx: AppContext = Depends(get_ctx)) -> Response:
    signed = await _session(request, ctx, page=False)
    if isinstance(signed, Response):
        return signed
    lang = language(request, signed.user)
    try:
        found = await run_in_threadpool(_who, ctx, signed.user, task_id[:32], lang)
    except NotFound:
        return fragment("cust_message.html", lang, 404,
                        message=texts(lang)["cust.task_not_found"])
    if found.match == "known" and found.customer_id:
        return await panel_fragment(request, found.customer_id, task=task_id, channel="",
                                    ctx=ctx)
    return fragment("cust_who.html", lang, **_who_values(found, signed, lang, ctx.clock.now()))


@router.get("/desk/tasks/{task_id}/caller")
async def caller_page(request: Request, task_id: str,
                      ctx: AppContext = Depends(get_ctx)) -> Response:
    """A task's caller as a page (a screen-pop link for a task): who is calling while
    nobody is attributed, the customer's panel once someone is."""
    signed = await _session(request, ctx, page=True)
    if isinstance(signed, Response):
        return signed
    lang = language(request, signed.user)
    try:
        found = await run_in_threadpool(_who, ctx, signed.user, task_id[:32], lang)
    except NotFound:
        return render("cust_page.html", lang, 404, user=signed.user,
                      csrf_token=signed.csrf_token, area="/desk", panel=None,
                      message=texts(lang)["cust.task_not_found"])
    if found.match == "known" and found.customer_id:
        return redirect(f"/desk/customers/{quote(found.customer_id, safe='')}"
                        f"?task={quote(task_id, safe='')}")
    return render("cust_page.html", lang, user=signed.user, area="/desk", panel=None,
                  message="", **_who_values(found, signed, lang, ctx.clock.now()))


def _confirm(ctx: AppContext, user: users.UserView, task_id: str, customer_id: str) -> str:
    with ctx.db.unit_of_work() as session:
        task = desk_context.confirm(session, task_id, user.agent_id or "", customer_id,
                                    settings=ctx.settings, policies=ctx.policies,
                                    now=ctx.clock.now())
        return str(task.customer_id)


@router.post("/desk/tasks/{task_id}/who")
async def confirm_who(request: Request, task_id: str,
                      ctx: AppContext = Depends(get_ctx)) -> Response:
    signed, form, valid = await checked(request, ctx)
    admitted = _admitted(request, signed, page=False)
    if isinstance(admitted, Response):
        return admitted
    lang = language(request, admitted.user)
    t = texts(lang)
    if not valid:
        return fragment("cust_message.html", lang, 403, message=t["cust.refused"])
    try:
        customer_id = await run_in_threadpool(_confirm, ctx, admitted.user, task_id[:32],
                                              form.get("customer_id")[:32])
    except Forbidden:
        return fragment("cust_message.html", lang, 403, message=t["cust.confirm_not_yours"])
    except NotFound:
        return fragment("cust_message.html", lang, 404, message=t["cust.task_not_found"])
    except desk_context.TaskHasCustomer:
        return fragment("cust_message.html", lang, 409, message=t["cust.confirm_conflict"])
    except Conflict:  # not one of the candidates
        return fragment("cust_message.html", lang, 409, message=t["cust.confirm_bad"])
    return await panel_fragment(request, customer_id, task=task_id, channel="", ctx=ctx)
