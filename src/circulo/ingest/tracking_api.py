"""Segment-compatible tracking endpoints: point an unmodified Segment or RudderStack SDK at
Círculo (host = Círculo's URL, write key = a Círculo API key with the ``ingest`` scope)."""

from __future__ import annotations

import zlib
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from circulo.api_deps import (
    ORJSONResponse,
    get_ctx,
    key_from_request,
    key_schemes,
    parse_json,
    read_body,
)
from circulo.auth.service import PINS_WRITE, Principal
from circulo.context import AppContext
from circulo.errors import (
    PROBLEM_JSON,
    CirculoError,
    MalformedJSON,
    PayloadTooLarge,
    ValidationFailed,
)
from circulo.ingest import service
from circulo.ingest.tracking import MESSAGE_TYPES, MessageError, to_event

router = APIRouter(prefix="/v1", tags=["tracking (Segment-compatible)"])

_DESCRIPTION = (
    "Segment HTTP tracking API shape. Authenticate with HTTP Basic (the write key is a "
    "Círculo API key with the `ingest` scope, as user name; empty password), a Bearer key, "
    "or `writeKey` in the body. A key in the headers is checked before the body is read. "
    "Bodies may be gzip-compressed (`Content-Encoding: gzip`); compressed or not, at most "
    "`CIRCULO_TRACKING_MAX_BODY_BYTES` (1 MiB). "
    "Answers 200 `{\"success\": true}` when at least one message was accepted (with the "
    "per-message `errors`), 400 when none was. See docs/tracking.md for the mapping."
)


def _parse(body: bytes, gzipped: bool, limit: int) -> Any:
    """The JSON of a body, inflated first when gzipped, never past ``limit`` bytes inflated
    (a few kilobytes of gzip can inflate to gigabytes)."""
    if gzipped:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            body = inflater.decompress(body, limit + 1)
        except zlib.error as exc:
            raise MalformedJSON(f"the body is not valid gzip: {exc}") from exc
        if len(body) > limit or inflater.unconsumed_tail:
            raise PayloadTooLarge(f"the uncompressed body exceeds {limit} bytes", limit=limit)
    return parse_json(body)


async def _read_json(request: Request, limit: int) -> Any:
    body = await read_body(request, limit)
    gzipped = request.headers.get("content-encoding", "").lower() == "gzip"
    return await run_in_threadpool(_parse, body, gzipped, limit)


def _segment_error(error: CirculoError) -> Response:
    """problem+json, plus Segment's ``success``/``message`` so SDKs log something useful."""
    body = {**error.to_problem(), "success": False, "message": error.detail}
    return ORJSONResponse(body, status_code=error.status, media_type=PROBLEM_JSON)


async def _handle(request: Request, ctx: AppContext, default_type: str | None) -> Response:
    limit = ctx.settings.tracking_max_body_bytes
    try:
        # A key in the headers is checked before the body is read or inflated; only browser
        # SDKs put it in the body, read then within the tracking cap.
        secret = key_from_request(request)
        if secret is not None:
            principal = _authorize(ctx, secret)
            payload = await _read_json(request, limit)
        else:
            payload = await _read_json(request, limit)
            principal = _authorize(ctx, payload.get("writeKey")
                                   if isinstance(payload, dict) else None)
        return await run_in_threadpool(_ingest, ctx, payload, default_type, principal)
    except CirculoError as error:
        return _segment_error(error)


def _authorize(ctx: AppContext, secret: Any) -> Principal:
    principal = ctx.authenticate(secret if isinstance(secret, str) else None)
    principal.require("ingest")
    return principal


def _messages(payload: Any, default_type: str | None) -> list[Any]:
    if default_type is not None:
        return [payload]
    if not isinstance(payload, dict) or not isinstance(payload.get("batch"), list):
        raise ValidationFailed("a batch body is {\"batch\": [messages]}", errors=[
            {"field": "batch", "code": "list_type", "detail": "expected a list of messages"}])
    shared = payload.get("context") if isinstance(payload.get("context"), dict) else {}
    # A message's own context wins over the batch's; one that is not an object is left for
    # to_event to refuse (that message only).
    return [{**m, "context": {**shared, **(m.get("context") or {})}}
            if isinstance(m, dict) and shared and isinstance(m.get("context") or {}, dict)
            else m for m in payload["batch"]]


def _ingest(ctx: AppContext, payload: Any, default_type: str | None,
            principal: Principal) -> Response:
    messages = _messages(payload, default_type)
    translated: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = []
    for message in messages:
        try:
            translated.append((to_event(message, default_type=default_type,
                                        source=ctx.settings.tracking_source,
                                        region=ctx.settings.default_region), None))
        except MessageError as exc:
            translated.append((None, {"field": exc.field, "code": "invalid_message",
                                      "detail": exc.detail}))
    with ctx.db.unit_of_work() as session:
        result = service.ingest_translated(
            session, translated, settings=ctx.settings, policies=ctx.policies,
            now=ctx.clock.now(), actor=f"key:{principal.name}",
            may_set_pin=principal.allows(PINS_WRITE))
    errors = result.problem_items()
    if not result.results:
        raise ValidationFailed(f"none of the {len(messages)} message(s) was accepted",
                               errors=errors)
    body = {"success": True, "accepted": result.accepted, "duplicates": result.duplicates,
            "rejected": result.rejected, "errors": errors}
    return ORJSONResponse(body)


def _route(name: str | None) -> Any:
    async def endpoint(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
        return await _handle(request, ctx, name)

    endpoint.__name__ = f"tracking_{name or 'batch'}"
    return endpoint


for _name in MESSAGE_TYPES:
    router.add_api_route(f"/{_name}", _route(_name), methods=["POST"],
                         summary=f"Segment-compatible {_name}", description=_DESCRIPTION,
                         response_class=Response, dependencies=key_schemes(basic=True))
for _path in ("/batch", "/import"):
    router.add_api_route(_path, _route(None), methods=["POST"],
                         summary="Segment-compatible batch", description=_DESCRIPTION,
                         response_class=Response, dependencies=key_schemes(basic=True))
