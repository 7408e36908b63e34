"""``POST /v1/crm/{name}/webhook``: what a CRM tells Círculo about its contacts.

HubSpot (Webhooks API v3) is authenticated by its v3 signature with the app's client secret;
Salesforce Outbound Messages, which cannot sign or add headers, by a token in the URL and the
sending organization's id. Neither can send a Círculo API key, hence this separate door.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.models import APIKeyIn
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from circulo.api_deps import ORJSONResponse, get_ctx, parse_json, read_body, vendor_scheme
from circulo.connectors import service as outbox
from circulo.connectors.hubspot import inbound as hubspot
from circulo.connectors.hubspot.connector import HubSpotConnector
from circulo.connectors.registry import ConnectorSpec, connectors_for
from circulo.connectors.salesforce import inbound as salesforce
from circulo.connectors.salesforce.connector import SalesforceConnector
from circulo.context import AppContext
from circulo.errors import BadSignature, Forbidden, NotFound, ValidationFailed
from circulo.ingest import service as ingest
from circulo.ingest.schemas import IngestResult

router = APIRouter(prefix="/v1", tags=["crm"])


@router.post(
    "/crm/{name}/webhook",
    summary="Contact changes from a CRM (HubSpot webhooks, Salesforce Outbound Messages)",
    description=(
        "For a connector of type `hubspot`: the JSON array HubSpot sends, verified with "
        "`X-HubSpot-Signature-v3` and `X-HubSpot-Request-Timestamp` (config `client_secret`; "
        "the timestamp must be within 5 minutes of the server's clock, before or after). "
        "Property changes of email, phone, names and language update the customer; a new "
        "contact is read in full through the API, once per HubSpot `eventId` (a retry or a "
        "replay is counted in `duplicates`); deletions are recorded. For `salesforce`: "
        "the SOAP Outbound Message for Contacts or Leads, called as `?token=` "
        "(config `inbound_token`); answered with the acknowledgement Salesforce expects; a "
        "resent notification (same `Id`) changes nothing."),
    dependencies=[
        vendor_scheme("HubSpotSignature", APIKeyIn.header, "X-HubSpot-Signature-v3",
                      "HubSpot connectors: HubSpot's v3 signature (HMAC-SHA256 with the app's "
                      "client secret) with X-HubSpot-Request-Timestamp within 5 minutes"),
        vendor_scheme("SalesforceToken", APIKeyIn.query, "token",
                      "Salesforce connectors: the connector's inbound_token")],
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        "text/xml": {"schema": {"type": "string"}}}}},
    responses={200: {"description": "Accepted"}, 403: {"description": "Bad signature or token"},
               404: {"description": "No such connector"}},
)
async def crm_webhook(name: str, request: Request,
                      ctx: AppContext = Depends(get_ctx)) -> Response:
    spec = connectors_for(ctx.settings).get(name)
    if spec is None or not isinstance(spec.connector, HubSpotConnector | SalesforceConnector):
        raise NotFound(f"no HubSpot or Salesforce connector named '{name}'")
    # Whatever can be checked without the body is checked before reading it.
    if isinstance(spec.connector, HubSpotConnector):
        config = spec.connector.config
        if config.client_secret is None:
            raise Forbidden(f"connector '{name}' has no client_secret to verify HubSpot with")
        signature = request.headers.get("x-hubspot-signature-v3")
        stamp = request.headers.get("x-hubspot-request-timestamp")
        if not signature or not stamp:
            raise BadSignature("the request has no HubSpot signature (v3) and timestamp")
        body = await read_body(request, ctx.settings.max_body_bytes)
        uri = config.webhook_url or str(request.url)
        if not hubspot.signature_ok(config.client_secret.get_secret_value(), signature, stamp,
                                    request.method, uri, body, now=ctx.clock.now()):
            raise BadSignature("the HubSpot signature (v3) does not match or is too old")
        return await run_in_threadpool(_hubspot, ctx, spec, body)
    sf = spec.connector.config
    token = request.query_params.get("token", "")
    if sf.inbound_token is None or not hmac.compare_digest(
            token.encode(), sf.inbound_token.get_secret_value().encode()):
        raise BadSignature("missing or wrong ?token= for this Salesforce connector")
    body = await read_body(request, ctx.settings.max_body_bytes)
    return await run_in_threadpool(_salesforce, ctx, spec, body)


@dataclass(frozen=True, slots=True)
class _Received:
    result: IngestResult
    fetching: int  # contact reads queued
    skipped: int  # contact reads already queued for an earlier delivery of the same event


def _ingest(ctx: AppContext, spec: ConnectorSpec, events: list[dict[str, Any]],
            fetch: list[dict[str, Any]]) -> _Received:
    now = ctx.clock.now()
    with ctx.db.unit_of_work() as session:
        result = ingest.ingest(session, {"events": events}, settings=ctx.settings,
                               policies=ctx.policies, now=now, actor=f"crm:{spec.name}") \
            if events else IngestResult(0, 0, 0, [], [])
        # A contact read is not an event the events table would deduplicate: the vendor's
        # event id is remembered instead, so a replay or a retry queues no second read.
        fresh = outbox.first_seen(session, spec.name, [item["event_id"] for item in fetch],
                                  now=now, retention=ctx.settings.vendor_event_retention)
        queued = 0
        for item in fetch:
            if item["event_id"] in fresh:
                fresh.discard(item["event_id"])  # twice in one delivery is still one read
                queued += 1
                outbox.enqueue_request(session, spec.destination, "crm.contact_sync_requested",
                                       item, ordering_key=item["contact_id"], now=now)
    return _Received(result, queued, len(fetch) - queued)


def _hubspot(ctx: AppContext, spec: ConnectorSpec, body: bytes) -> Response:
    items = parse_json(body)
    if not isinstance(items, list):
        raise ValidationFailed("body: HubSpot sends a JSON array of events", errors=[
            {"field": "body", "code": "not_an_array", "detail": "expected a JSON array"}])
    translation = hubspot.translate(items, source=spec.name, namespace=spec.namespace)
    received = _ingest(ctx, spec, translation.events, translation.fetch)
    result = received.result
    return ORJSONResponse({"accepted": result.accepted,
                           "duplicates": result.duplicates + received.skipped,
                           "fetching": received.fetching, "ignored": translation.ignored,
                           "errors": result.problem_items()})


def _salesforce(ctx: AppContext, spec: ConnectorSpec, body: bytes) -> Response:
    assert isinstance(spec.connector, SalesforceConnector)  # noqa: S101
    try:
        message = salesforce.parse(body, source=spec.name, namespace=spec.namespace)
    except salesforce.OutboundMessageError as exc:
        raise ValidationFailed(f"body: {exc}", errors=[
            {"field": "body", "code": "not_an_outbound_message", "detail": str(exc)}]) from exc
    expected = spec.connector.config.organization_id
    if expected and message.organization_id[:15] != expected[:15]:
        raise Forbidden(f"Outbound Message from organization '{message.organization_id}'")
    _ingest(ctx, spec, message.events, [])
    return Response(salesforce.ACK, media_type="text/xml")
