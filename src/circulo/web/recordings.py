"""The recordings pages (``/recordings``, supervisors and administrators; quality review,
S24): recorded calls searched by what was said, and each one with its player, its
timestamped transcript and, once made, its analysis. The customer panel's timeline links
here. The audio is served by ``GET /v1/recordings/{id}/audio`` (the session stands for the
key, ranges answered so the player seeks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from circulo.api_deps import get_ctx
from circulo.auth import users
from circulo.context import AppContext
from circulo.errors import NotFound
from circulo.speech import service
from circulo.speech.models import Recording
from circulo.textan.views import URGENCY, intent_label
from circulo.web.common import language, redirect, render, signed_in
from circulo.web.customer import when
from circulo.web.rec_texts import CATALOGUE
from circulo.web.texts import register, texts

register(CATALOGUE)

router = APIRouter(include_in_schema=False)
ROLES = users.SUPERVISING  # quality review: recordings are every agent's calls
PAGE = 20
MAX_QUERY = 200
SNIPPET = 160


@dataclass(frozen=True, slots=True)
class Found:
    recordings: list[Recording]
    total: int
    q: str
    page: int


def clock_time(seconds: float | None) -> str:
    """``m:ss.s`` (``h:mm:ss`` past an hour): how players show a position."""
    if seconds is None:
        return "—"
    whole = int(seconds)
    minutes, secs = divmod(whole, 60)
    if minutes >= 60:
        return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}.{int((seconds - whole) * 10)}"


def snippet(text: str | None, q: str) -> str:
    """The part of a transcript around the first match (or its start)."""
    if not text:
        return ""
    at = text.lower().find(q.lower()) if q else -1
    start = max(0, at - SNIPPET // 3) if at >= 0 else 0
    piece = text[start:start + SNIPPET]
    return ("…" if start else "") + piece + ("…" if start + SNIPPET < len(text) else "")


def _search(ctx: AppContext, q: str, page: int) -> Found:
    with ctx.db.unit_of_work(write=False) as session:
        rows, total = service.search(session, text=q or None, limit=PAGE,
                                     offset=(page - 1) * PAGE)
        for row in rows:
            session.expunge(row)
    return Found(rows, total, q, page)


def _one(ctx: AppContext, recording_id: str) -> tuple[Recording, service.AnalysisSummary | None]:
    with ctx.db.unit_of_work(write=False) as session:
        recording = service.get(session, recording_id)
        analysis = service.analysis_of(session, recording)
        session.expunge(recording)
    return recording, analysis


async def _reviewer(request: Request, ctx: AppContext) -> tuple[Any, str] | Response:
    signed = await signed_in(request, ctx)
    if signed is None:
        return redirect("/sign-in")
    return signed, language(request, signed.user)


@router.get("/recordings")
async def recordings_page(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    checked = await _reviewer(request, ctx)
    if isinstance(checked, Response):
        return checked
    signed, lang = checked
    common: dict[str, Any] = {"user": signed.user, "csrf_token": signed.csrf_token,
                              "area": "/recordings"}
    if signed.user.role not in ROLES:
        return render("recordings.html", lang, 403, message=texts(lang)["rec.forbidden"],
                      **common)
    q = request.query_params.get("q", "").strip()[:MAX_QUERY]
    page_text = request.query_params.get("page", "1")
    # ASCII digits only (isdigit also takes "²", which int refuses), and few of them (int
    # refuses over 4,300 digits): anything else is the first page
    readable = page_text.isascii() and page_text.isdigit() and len(page_text) <= 9
    page = min(int(page_text), 5000) if readable and int(page_text) > 0 else 1
    found = await run_in_threadpool(_search, ctx, q, page)
    pages = max(1, -(-found.total // PAGE))

    def link(number: int) -> str:
        return "/recordings?" + urlencode({"q": q, "page": number} if q else {"page": number})

    return render("recordings.html", lang, found=found, pages=pages, link=link,
                  when=when(signed.user.time_zone, lang, ctx.clock.now()),
                  clock=clock_time, snippet=snippet, message="", **common)


@router.get("/recordings/{recording_id}")
async def recording_page(request: Request, recording_id: str,
                         ctx: AppContext = Depends(get_ctx)) -> Response:
    checked = await _reviewer(request, ctx)
    if isinstance(checked, Response):
        return checked
    signed, lang = checked
    common: dict[str, Any] = {"user": signed.user, "csrf_token": signed.csrf_token,
                              "area": "/recordings"}
    if signed.user.role not in ROLES:
        return render("recording.html", lang, 403, message=texts(lang)["rec.forbidden"],
                      **common)
    try:
        recording, analysis = await run_in_threadpool(_one, ctx, recording_id[:32])
    except NotFound:
        return render("recording.html", lang, 404, message=texts(lang)["rec.not_found"],
                      **common)
    # reasons and the contact reason as people read them (the configured intents' labels)
    reasons = [URGENCY[r][lang] if r in URGENCY else r.replace("_", " ")
               for r in (analysis.reasons if analysis else ())]
    intent = intent_label(ctx.settings, analysis.intent, lang) if analysis and analysis.intent \
        else None
    return render("recording.html", lang, recording=recording, analysis=analysis,
                  reasons=reasons, intent=intent,
                  when=when(signed.user.time_zone, lang, ctx.clock.now()), clock=clock_time,
                  message="", **common)
