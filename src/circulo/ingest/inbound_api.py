"""``POST /v1/sources/{name}/webhook``: any system's JSON, mapped to events by a declarative
mapping (``CIRCULO_INBOUND_MAPPINGS``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
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
from circulo.errors import InvalidSignature, NotFound, ValidationFailed
from circulo.ingest import service
from circulo.ingest.mapping import SourceMapping
from circulo.ingest.signatures import SignatureRefused, fresh_timestamp, verify

router = APIRouter(prefix="/v1", tags=["ingest"])


@router.post(
    "/sources/{name}/webhook",
    summary="Receive a webhook from any system, mapped to events",
    description=(
        "The body is the other system's own JSON. The source's rules in the mapping file "
        "(`CIRCULO_INBOUND_MAPPINGS`) turn it into one or more events; what cannot be mapped "
        "is reported by item with the rule and the reason. Authenticate with an `ingest` key "
        "in `Authorization`/`X-API-Key`, or `?key=` for systems that cannot set headers. "
        "A source with `signing` in the mapping also needs its sender's signature: the Unix "
        "time in its timestamp header (default `X-Timestamp`, within `tolerance` seconds, "
        "300 by default) and `hex(HMAC-SHA256(secret, \"{timestamp}.{body}\"))` in its "
        "signature header (default `X-Signature`); a missing, wrong or stale one is a 401 "
        "`invalid_signature`, checked before the body is parsed. An item the rules give no "
        "`id` gets `sha256:<hex of the canonical body>` (`:<index>` with `items`), so a "
        "resent delivery is a duplicate. Answers like `POST /v1/events` (200, 207, 422)."
    ),
    response_class=Response,
    dependencies=key_schemes(query=True),
)
async def receive(name: str, request: Request, key: str | None = Query(default=None),
                  ctx: AppContext = Depends(get_ctx)) -> Response:
    principal = ctx.authenticate(key_from_request(request) or key)
    principal.require("ingest")
    mapping = ctx.mappings.get(name)
    if mapping is None:
        raise NotFound(f"no inbound mapping for source '{name}'", field="name",
                       known=sorted(ctx.mappings))
    if mapping.signing is None:
        body = await read_body(request, ctx.settings.max_body_bytes)
    else:
        try:
            timestamp = fresh_timestamp(mapping.signing, request.headers, ctx.clock.now())
            body = await read_body(request, ctx.settings.max_body_bytes)
            verify(mapping.signing, request.headers, timestamp, body)
        except SignatureRefused as exc:
            raise InvalidSignature(str(exc)) from exc
    return await run_in_threadpool(_receive, ctx, mapping, body, principal)


def _receive(ctx: AppContext, mapping: SourceMapping, body: bytes,
             principal: Principal) -> Response:
    payload = parse_json(body)
    translated = [(event, None if event else {"field": "", "code": "unmapped",
                                              "detail": str(why)})
                  for event, why in mapping.map(payload)]
    with ctx.db.unit_of_work() as session:
        result = service.ingest_translated(
            session, translated, settings=ctx.settings, policies=ctx.policies,
            now=ctx.clock.now(), actor=f"key:{principal.name}",
            may_set_pin=principal.allows(PINS_WRITE))
    if not result.results:
        raise ValidationFailed("nothing in this payload could be mapped and stored",
                               errors=result.problem_items())
    status = 207 if result.errors else 200
    return ORJSONResponse(result.as_json(), status_code=status)
