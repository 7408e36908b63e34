"""``GET /v1/reports`` and ``GET /v1/reports.csv``: the figures of a period."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from circulo.api_deps import get_ctx, require
from circulo.auth.service import Principal
from circulo.context import AppContext
from circulo.reports import service
from circulo.reports.engine import Report
from circulo.reports.schemas import ReportOut

router = APIRouter(prefix="/v1", tags=["reports"])

ACCESS = ("Scope `read` for an API key; a signed-in user needs a supervisor's or an "
          "administrator's role (the report names every agent's scores). ")
PERIOD = ("`from` and `to` are local days (YYYY-MM-DD, both inclusive, today by default) "
          f"in `tz` (an IANA zone, `CIRCULO_TIMEZONE` by default), at most {service.MAX_DAYS} "
          "days. Formulas: docs/reports.md.")


def allowed(principal: Principal = Depends(require("read"))) -> Principal:
    if principal.user_id is not None:
        principal.require("routing")  # the scope only supervisors' and admins' sessions have
    return principal


def _report(ctx: AppContext, first: str | None, last: str | None, tz: str | None) -> Report:
    period = service.period_of(first, last, tz or ctx.settings.timezone, ctx.clock.now())
    with ctx.db.unit_of_work() as session:
        return service.report(session, period)


@router.get("/reports", response_model=ReportOut, summary="Figures of a period",
            description="Service level, ASA, AHT, abandonment, first-contact resolution, "
                        "contacts by reason and channel, CSAT by agent and queue, NPS trend, "
                        "computed from the stored tasks and survey answers. " + ACCESS + PERIOD)
def get_report(first: str | None = Query(None, alias="from", examples=["2026-11-01"]),
               last: str | None = Query(None, alias="to", examples=["2026-11-30"]),
               tz: str | None = Query(None, max_length=64, examples=["Europe/Madrid"]),
               ctx: AppContext = Depends(get_ctx), _: Principal = Depends(allowed)
               ) -> ReportOut:
    return ReportOut.model_validate(_report(ctx, first, last, tz))


@router.get("/reports.csv", summary="Figures of a period as CSV",
            response_class=Response,
            responses={200: {"content": {"text/csv": {}},
                             "description": "`section,key,metric,value`, one figure a line"}},
            description="The same figures as `GET /v1/reports`, one a line. " + ACCESS + PERIOD)
def get_report_csv(first: str | None = Query(None, alias="from", examples=["2026-11-01"]),
                   last: str | None = Query(None, alias="to", examples=["2026-11-30"]),
                   tz: str | None = Query(None, max_length=64, examples=["Europe/Madrid"]),
                   ctx: AppContext = Depends(get_ctx), _: Principal = Depends(allowed)
                   ) -> Response:
    report = _report(ctx, first, last, tz)
    name = f"circulo-report-{report.period.first}-{report.period.last}.csv"
    return Response(service.csv_of(report), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
