"""``POST /v1/events``: one event or a batch. Thin: parse, authorise, call the service."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from circulo.api_deps import ORJSONResponse, get_ctx, parse_json, read_body, require
from circulo.auth.service import PINS_WRITE, Principal
from circulo.context import AppContext
from circulo.errors import ValidationFailed
from circulo.ingest import service
from circulo.ingest.schemas import EventBatchIn, EventIn, IngestResult

router = APIRouter(prefix="/v1", tags=["ingest"])

_BODY_SCHEMA = {
    "oneOf": [
        {"$ref": "#/components/schemas/EventIn"},
        {"$ref": "#/components/schemas/EventBatchIn"},
    ]
}


@router.post(
    "/events",
    response_model=IngestResult,
    summary="Send one event or a batch of events",
    description=(
        "Accepts one event object or `{\"events\": [...]}` (up to `CIRCULO_MAX_BATCH_SIZE`, "
        "5,000 by default). Items are validated one by one: valid items are stored even when "
        "others are rejected. 200 when every item was accepted, 207 when some were rejected "
        "(see `errors`), 422 (problem+json) when none was. Resending an event with the same "
        "`source` and `id` returns `duplicate` and changes nothing. An event carrying an "
        "identifier of an erased person is acknowledged as `suppressed` (code "
        "`erased_identifier`) and not stored: do not resend it (docs/privacy.md)."
    ),
    openapi_extra={"requestBody": {"required": True,
                                   "content": {"application/json": {"schema": _BODY_SCHEMA}}}},
    responses={207: {"model": IngestResult, "description": "Some items were rejected"}},
)
async def post_events(request: Request, ctx: AppContext = Depends(get_ctx),
                      principal: Principal = Depends(require("ingest"))) -> Response:
    body = await read_body(request, ctx.settings.max_body_bytes)
    # Parsing, like the rest, happens off the event loop: a batch can be megabytes.
    return await run_in_threadpool(_ingest, ctx, body, principal)


def _ingest(ctx: AppContext, body: bytes, principal: Principal) -> Response:
    payload = parse_json(body)
    with ctx.db.unit_of_work() as session:
        result = service.ingest(session, payload, settings=ctx.settings,
                                policies=ctx.policies, now=ctx.clock.now(),
                                actor=f"key:{principal.name}",
                                may_set_pin=principal.allows(PINS_WRITE))
    if result.errors and not result.results:
        raise ValidationFailed(
            f"all {result.rejected} event(s) were rejected; see errors",
            errors=result.problem_items(),
        )
    status = 207 if result.errors else 200
    return ORJSONResponse(result.as_json(), status_code=status)


# Make the envelope schemas appear in the OpenAPI document.
EXTRA_MODELS = (EventIn, EventBatchIn)
