"""``/v1/channels/twilio/*``: what Twilio tells Círculo (status callbacks, incoming SMS).

Twilio cannot send a Círculo API key; it signs each request instead (``X-Twilio-Signature``:
HMAC-SHA1 of the URL it called and the form fields, with the account's auth token), checked
with the official client's ``RequestValidator``. The URL is rebuilt from
``CIRCULO_PUBLIC_URL``: behind a proxy the URL this process sees is not the one Twilio
signed. Without ``CIRCULO_TWILIO_AUTH_TOKEN`` nothing can be verified, so nothing is taken.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.models import APIKeyIn
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import RequestValidator

from circulo.api_deps import ORJSONResponse, get_ctx, read_body, vendor_scheme
from circulo.connectors import twilio_inbound as twilio
from circulo.context import AppContext
from circulo.errors import BadSignature, Forbidden
from circulo.ingest import service as ingest
from circulo.ingest.schemas import IngestResult

router = APIRouter(prefix="/v1/channels/twilio", tags=["channels"])
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'
_FORM = {"application/x-www-form-urlencoded": {"schema": {
    "type": "object", "additionalProperties": {"type": "string"}}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "Missing or bad X-Twilio-Signature, or no auth token configured"},
    413: {"description": "A body larger than Twilio sends (`CIRCULO_TWILIO_MAX_BODY_BYTES`)"},
    422: {"description": "A required field is missing"}}
log = logging.getLogger(__name__)
_SIGNED = vendor_scheme(
    "TwilioSignature", APIKeyIn.header, "X-Twilio-Signature",
    "Twilio's signature (HMAC-SHA1 of the URL and form fields with CIRCULO_TWILIO_AUTH_TOKEN)")


def signed_url(request: Request, public_url: str | None) -> str:
    """The URL Twilio called, as Twilio wrote it (query string included)."""
    if not public_url:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{public_url.rstrip('/')}{request.url.path}{query}"


async def verified_form(request: Request, ctx: AppContext) -> dict[str, str]:
    """The form fields of a request Twilio signed; 403 otherwise."""
    token = ctx.settings.twilio_auth_token
    if token is None:
        raise Forbidden("CIRCULO_TWILIO_AUTH_TOKEN is not set: requests from Twilio cannot "
                        "be verified")
    # The signature covers the fields, so it can only be checked once they are read; but a
    # request without one is refused before a byte of its body is, and what is read stops
    # at what Twilio ever sends (CIRCULO_TWILIO_MAX_BODY_BYTES).
    signature = request.headers.get("x-twilio-signature")
    if not signature:
        raise BadSignature("the request has no X-Twilio-Signature")
    body = await read_body(request, ctx.settings.twilio_max_body_bytes)
    pairs = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    validator = RequestValidator(token.get_secret_value())
    if not validator.validate(signed_url(request, ctx.settings.public_url),
                              ImmutableMultiDict(pairs), signature):
        raise BadSignature("the X-Twilio-Signature does not match this URL and these fields")
    return dict(pairs)


def _ingest(ctx: AppContext, event: dict[str, Any]) -> IngestResult:
    with ctx.db.unit_of_work() as session:
        result = ingest.ingest(session, {"events": [event]}, settings=ctx.settings,
                               policies=ctx.policies, now=ctx.clock.now(), actor="twilio")
    for problem in result.errors:
        # Still a 200: Twilio would only retry the same fields (an alphanumeric sender, a
        # customer erased since). The log and the answer's "errors" tell the operator.
        log.warning("Twilio event %s not recorded: %s: %s", event["id"], problem.field,
                    problem.detail)
    return result


@router.post(
    "/status",
    summary="Delivery status of a message Círculo sent (Twilio's status callback)",
    description=(
        "Set as `StatusCallback` by the SMS and WhatsApp senders "
        "(`{CIRCULO_PUBLIC_URL}/v1/channels/twilio/status?message_id=…&customer_id=…`). "
        "`delivered`, `undelivered`, `failed` and `read` are recorded as "
        "`notification.<status>` events; the in-transit statuses are acknowledged and "
        "ignored."),
    dependencies=[_SIGNED],
    openapi_extra={"requestBody": {"required": True, "content": _FORM}},
    responses={200: {"description": "Recorded or ignored"}, **_RESPONSES},
)
async def twilio_status(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    form = await verified_form(request, ctx)
    event = twilio.status_event(form, message_id=request.query_params.get("message_id"),
                                customer_id=request.query_params.get("customer_id"))
    if event is None:
        return ORJSONResponse({"recorded": None, "accepted": 0, "duplicates": 0, "errors": []})
    result = await run_in_threadpool(_ingest, ctx, event)
    return ORJSONResponse({"recorded": event["type"], "accepted": result.accepted,
                           "duplicates": result.duplicates, "errors": result.problem_items()})


@router.post(
    "/sms",
    summary="An incoming SMS or WhatsApp message (Twilio's messaging webhook)",
    description=(
        "Configure as the number's \"A message comes in\" webhook (HTTP POST). Recorded as "
        "`sms.received` (WhatsApp: `message.received`) on the sender's profile, with the "
        "text in `properties.text`. Answered with an empty TwiML `<Response/>`: replies, if "
        "any, are sent by journeys through the outbox."),
    dependencies=[_SIGNED],
    openapi_extra={"requestBody": {"required": True, "content": _FORM}},
    responses={200: {"description": "Empty TwiML", "content": {"text/xml": {}}},
               **_RESPONSES},
    response_class=Response,
)
async def twilio_sms(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    form = await verified_form(request, ctx)
    await run_in_threadpool(_ingest, ctx, twilio.inbound_event(form))
    return Response(EMPTY_TWIML, media_type="text/xml")
