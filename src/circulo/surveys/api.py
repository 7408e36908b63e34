"""``POST /v1/surveys/responses``: the IVR's keypad answers after a call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from circulo.api_deps import get_ctx, parse_json, read_body, require
from circulo.auth.service import Principal
from circulo.context import AppContext
from circulo.errors import ValidationFailed, validation_errors
from circulo.surveys import engine, service
from circulo.surveys.engine import Answers
from circulo.surveys.schemas import KeypadIn, ResponseOut

router = APIRouter(prefix="/v1", tags=["surveys"])
MAX_BODY = 4096  # a task id and a few digits


def _problem(status: int, code: str, detail: str) -> dict[str, Any]:
    return {"description": detail, "content": {"application/problem+json": {"example": {
        "type": f"https://circulo.dev/problems/{code}", "status": status, "code": code}}}}


@router.post(
    "/surveys/responses", response_model=ResponseOut, status_code=201,
    summary="Keypad answers to the survey after a call (IVR)",
    description="The IVR asks the survey that follows the interaction (or `survey`) and sends "
                "the digits pressed: CSAT 1–5, NPS 0–10. One response per interaction, as on "
                "the survey page: it is stored with the interaction's agent, queue, site and "
                "reason, and a `survey.answered` event reaches the customer's timeline "
                "(journeys, indicators). Scope `ingest`.",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": KeypadIn.model_json_schema(),
        "example": {"task_id": "019a4b2c3d4e5f60718293a4b5c6d7e8",
                    "answers": {"csat": "4", "nps": "9"}, "language": "es"}}}}},
    responses={404: _problem(404, "not_found", "Unknown interaction, or no survey follows it"),
               409: _problem(409, "already_answered", "The interaction has its response"),
               410: _problem(410, "survey_expired", "The survey of this interaction closed"),
               422: _problem(422, "validation_failed",
                             "An answer out of range, missing or not asked: `errors` name "
                             "each (`answers.csat`) and why")})
async def keypad_answers(request: Request, ctx: AppContext = Depends(get_ctx),
                         _: Principal = Depends(require("ingest"))) -> ResponseOut:
    body = parse_json(await read_body(request, MAX_BODY))
    try:
        given = KeypadIn.model_validate(body)
    except ValidationError as exc:
        errors = validation_errors(list(exc.errors(include_url=False)))
        raise ValidationFailed("invalid keypad answers: " + ", ".join(
            sorted({e["field"] or "body" for e in errors})), errors=errors) from None

    def run() -> ResponseOut:
        with ctx.db.unit_of_work() as session:
            row = service.answer_by_keypad(
                session, ctx.settings, ctx.policies, given.task_id, given.answers,
                given.survey, given.language, ctx.clock.now())
            low = engine.is_low(Answers(row.csat, row.nps, None),
                                service.catalogue_of(ctx.settings).low_score)
            return ResponseOut(
                id=row.id, task_id=row.task_id, survey=row.survey, customer_id=row.customer_id,
                agent_id=row.agent_id, queue=row.queue, site=row.site, reason=row.reason,
                channel=row.channel, language=row.language, csat=row.csat, nps=row.nps,
                low_score=low)
    try:
        return await run_in_threadpool(run)
    except IntegrityError:  # a second answer for the interaction raced this one and won
        raise service.AlreadyAnswered(f"interaction '{given.task_id}' already has its survey "
                                      "response", field="task_id") from None
