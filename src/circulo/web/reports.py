"""The reports page (``/reports``, supervisors and administrators): a period in the user's
time zone, the figures, charts with a table under each, and the CSV download.

The page reads the same report as ``GET /v1/reports`` (``circulo.reports.service``); the
charts are drawn by static/reports.js from each figure's ``data-chart`` attribute (the CSP
allows no inline script), and the tables carry the same numbers for everyone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from circulo.api_deps import get_ctx
from circulo.auth import users
from circulo.context import AppContext
from circulo.errors import ValidationFailed
from circulo.reports import service
from circulo.reports.engine import Report
from circulo.reports.period import Period
from circulo.web.common import language, redirect, render, signed_in
from circulo.web.reports_texts import CATALOGUE
from circulo.web.texts import register, texts

register(CATALOGUE)

router = APIRouter(include_in_schema=False)
ROLES = users.SUPERVISING  # the report names every agent's scores
PRESETS = ("today", "yesterday", "week", "month", "custom")


@dataclass(frozen=True, slots=True)
class Asked:
    preset: str
    first: str
    last: str


def asked(request: Request, today: date) -> Asked:
    """The period the form asked for: a preset in the user's zone, or custom dates."""
    query = request.query_params
    preset = query.get("period", "")
    if preset not in PRESETS:
        preset = "custom" if query.get("from") or query.get("to") else "today"
    if preset == "custom":
        return Asked(preset, query.get("from", "")[:20], query.get("to", "")[:20])
    first, last = {
        "today": (today, today),
        "yesterday": (today - timedelta(days=1),) * 2,
        "week": (today - timedelta(days=today.weekday()), today),
        "month": (today.replace(day=1), today),
    }[preset]
    return Asked(preset, first.isoformat(), last.isoformat())


def _report(ctx: AppContext, first: str, last: str, zone: str) -> Report:
    period = service.period_of(first or None, last or None, zone, ctx.clock.now())
    with ctx.db.unit_of_work() as session:
        return service.report(session, period)


def number(value: float | int | None, lang: str, digits: int = 1) -> str:
    """A figure as people of the language write it (``50,0`` in Spanish), or a dash."""
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,d}"
    if lang == "es":
        text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
    return text


def _bucket_label(period: Period, start: date, lang: str) -> str:
    return start.strftime("%d/%m" if lang == "es" else "%m/%d") if period.bucket == "day" \
        else start.isoformat()


def charts(report: Report, lang: str) -> dict[str, str]:
    """Each chart's data as the JSON its ``data-chart`` attribute carries (the template
    escapes it; the script parses it)."""
    t = texts(lang)
    p = report.period
    labels = [_bucket_label(p, b.start, lang) for b in report.trend]
    x_label = t["reports.day"] if p.bucket == "day" else t["reports.week_of"]

    def bars(title: str, names: list[str], values: list[float | None], unit: str = ""
             ) -> str:
        return json.dumps({"kind": "bars", "title": title, "labels": names,
                           "series": [{"label": title, "values": values, "unit": unit}]})

    return {
        "trend": json.dumps({"kind": "lines", "labels": labels, "x_label": x_label, "series": [
            {"label": t["reports.contacts"], "values": [b.contacts for b in report.trend],
             "unit": ""},
            {"label": t["reports.service_level"],
             "values": [b.service_level for b in report.trend], "unit": "%"}]}),
        "nps": json.dumps({"kind": "lines", "labels": labels, "x_label": x_label, "series": [
            {"label": t["reports.nps"], "values": [b.nps for b in report.trend], "unit": ""}]}),
        "reasons": bars(t["reports.contacts"],
                        [c.key or t["reports.no_reason"] for c in report.by_reason],
                        [c.contacts for c in report.by_reason]),
        "channels": bars(t["reports.contacts"], [c.key for c in report.by_channel],
                         [c.contacts for c in report.by_channel]),
        "agents": bars(t["reports.csat"], [a.agent_id for a in report.agents],
                       [a.scores.csat_average for a in report.agents]),
    }


def _problem(error: ValidationFailed, lang: str) -> str:
    t = texts(lang)
    code = (error.errors or [{}])[0].get("code", "invalid_date")
    key = f"reports.{code}"
    return t.get(key, t["reports.invalid_date"]).format(days=service.MAX_DAYS)


@router.get("/reports")
async def reports_page(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    signed = await signed_in(request, ctx)
    if signed is None:
        return redirect("/sign-in")
    user = signed.user
    lang = language(request, user)
    t = texts(lang)
    common: dict[str, Any] = {"user": user, "csrf_token": signed.csrf_token, "area": "/reports"}
    if user.role not in ROLES:
        return render("reports.html", lang, 403, message=t["reports.forbidden"], **common)
    try:
        wanted = asked(request, service.today(user.time_zone, ctx.clock.now()))
    except ValidationFailed as error:
        return render("reports.html", lang, 422, message=_problem(error, lang), **common)
    values: dict[str, Any] = {"asked": wanted, "presets": PRESETS, **common}
    try:
        report = await run_in_threadpool(_report, ctx, wanted.first, wanted.last,
                                          user.time_zone)
    except ValidationFailed as error:
        return render("reports.html", lang, 422, message=_problem(error, lang), **values)
    p = report.period
    download = "/v1/reports.csv?" + urlencode({"from": p.first.isoformat(),
                                               "to": p.last.isoformat(), "tz": p.time_zone})
    return render("reports.html", lang, report=report, charts=charts(report, lang),
                  n=lambda value, digits=1: number(value, lang, digits),
                  bucket=lambda start: _bucket_label(p, start, lang), download=download,
                  **values)
