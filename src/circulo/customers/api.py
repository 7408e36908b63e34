"""Cards, profiles, timelines, records, export and erasure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.concurrency import run_in_threadpool

from circulo.api_deps import ORJSONResponse, client_address, get_ctx, require
from circulo.auth.service import Principal
from circulo.auth.throttle import PIN
from circulo.context import AppContext
from circulo.customers import card_service, privacy, views
from circulo.customers.schemas import (
    CardLookupOut,
    ConfirmIn,
    ConfirmOut,
    CustomerOut,
    ExportOut,
    RecordsOut,
    TimelineOut,
)
from circulo.errors import PROBLEM_JSON, PinLocked, ValidationFailed
from circulo.i18n import pick_language
from circulo.ingest import attribution, pin_checks

router = APIRouter(prefix="/v1", tags=["customers"])


@router.get(
    "/cards",
    summary="Recognise a customer and get their card",
    description=(
        "Give exactly one of `phone` (any format), `email`, `external_id` (`source:id`), "
        "`account` or `customer_id`. `match` is `unique` (the card), `ambiguous` (no card; "
        "the candidates, so the agent asks) or `none` (a new-caller card). `postal_code` is a "
        "weak hint that can only narrow an ambiguous match. Labels follow `Accept-Language` "
        "(es, en)."
    ),
    response_model=None,
    responses={200: {"model": CardLookupOut, "description": "The match and the card"},
               423: {"description": "Wrong PINs have locked this customer's PIN checks "
                                    "(`pin_locked`, with `Retry-After`)",
                     "content": {PROBLEM_JSON: {"schema": {
                         "$ref": "#/components/schemas/Problem"}}}}},
)
# ``async`` on purpose: the lookup is a few indexed sub-millisecond queries, cheaper to run on
# the event loop than to hand to a thread (2,227 vs 1,576 cards/s, p99 32 vs 117 ms on the
# 1M-profile benchmark). Slower endpoints (ingest, export) stay in the thread pool, and so does
# a PIN check (a deliberately slow hash).
async def get_card(
    request: Request,
    phone: str | None = Query(default=None, max_length=64),
    email: str | None = Query(default=None, max_length=320),
    external_id: str | None = Query(default=None, max_length=240),
    account: str | None = Query(default=None, max_length=64),
    customer_id: str | None = Query(default=None, max_length=32),
    role: str = Query(default="support", max_length=40),
    postal_code: str | None = Query(default=None, max_length=16),
    pin: str | None = Query(default=None, max_length=12, description=(
        "Verify a PIN as well (`pin_verified`). Wrong PINs are limited per client "
        "(429) and per customer (423 `pin_locked` while locked); see docs/cards.md")),
    accept_language: str | None = Header(default=None),
    ctx: AppContext = Depends(get_ctx),
    _: Principal = Depends(require("read")),
) -> ORJSONResponse:
    lookup = _CardLookup(
        query={"phone": phone or "", "email": email or "", "external_id": external_id or "",
               "account": account or "", "customer_id": customer_id or ""},
        role=role, lang=pick_language(accept_language, ctx.settings.default_language),
        postal_code=postal_code)
    if pin is None:
        return ORJSONResponse(lookup.run(ctx, None))
    client = client_address(request.scope)
    ctx.throttle.check(PIN, client)
    try:
        result = await run_in_threadpool(lookup.run, ctx, pin)
    except PinLocked:
        ctx.throttle.failed(PIN, client)
        raise
    if result.get("pin_verified") is False:
        ctx.throttle.failed(PIN, client)
    return ORJSONResponse(result)


@dataclass(frozen=True, slots=True)
class _CardLookup:
    query: dict[str, str]
    role: str
    lang: str
    postal_code: str | None

    def run(self, ctx: AppContext, pin: str | None) -> dict[str, Any]:
        """The card, and with a PIN its check (which writes the failure counter)."""
        now = ctx.clock.now()
        with ctx.db.unit_of_work(write=pin is not None) as session:
            result = card_service.lookup_card(
                session, query=self.query, role=self.role, lang=self.lang,
                postal_code=self.postal_code, settings=ctx.settings,
                templates=ctx.templates, policies=ctx.policies, now=now)
            if pin is not None and result["match"] == "unique":
                result["pin_verified"] = pin_checks.check_pin(
                    session, result["card"]["customer_id"], pin, settings=ctx.settings,
                    policies=ctx.policies, now=now)
            return result


@router.post(
    "/cards/resolve",
    summary="Confirm which candidate an ambiguous caller is",
    description=(
        "When a lookup or a contact was `ambiguous`, the agent asks and confirms who is "
        "speaking. Give the contact's `event_id` (or the identifier that was looked up) and "
        "the chosen `customer_id`, one of the candidates. The contact is attributed to that "
        "customer (their indicators count it); nothing is merged and no identifier moves. "
        "The choice is recorded on their timeline as `identity.confirmed`. Answers the "
        "customer's card. Needs the `routing` scope (what agents' desktops hold)."
    ),
    response_model=ConfirmOut,
)
def confirm_caller(body: ConfirmIn, accept_language: str | None = Header(default=None),
                   ctx: AppContext = Depends(get_ctx),
                   principal: Principal = Depends(require("routing"))) -> dict[str, Any]:
    lang = pick_language(accept_language, ctx.settings.default_language)
    lookups = {k: v for k, v in (("phone", body.phone), ("email", body.email),
                                 ("account", body.account)) if v}
    given = sorted([*lookups, *(["event_id"] if body.event_id else [])])
    if len(given) != 1:
        raise ValidationFailed(
            "give either event_id or one identifier (phone, email or account)",
            errors=[{"field": "event_id", "code": "one_of", "detail": f"got {given}"}])
    if body.role not in ctx.templates.roles:
        raise ValidationFailed(f"unknown role '{body.role}'", errors=[
            {"field": "role", "code": "unknown_role",
             "detail": f"expected one of {sorted(ctx.templates.roles)}"}])
    with ctx.db.unit_of_work() as session:
        confirmed = attribution.confirm_caller(
            session, customer_id=body.customer_id, event_id=body.event_id,
            lookup=next(iter(lookups.items())) if lookups else None, role=body.role,
            lang=lang, actor=f"key:{principal.name}", settings=ctx.settings,
            templates=ctx.templates, policies=ctx.policies, now=ctx.clock.now())
        return {"customer_id": confirmed.customer_id, "event_id": confirmed.event_id,
                "confirmation_event_id": confirmed.confirmation_id,
                "candidates": len(confirmed.candidates), "card": confirmed.card}


@router.get("/customers/{customer_id}", summary="A customer's profile",
            response_model=CustomerOut)
def get_customer(customer_id: str, ctx: AppContext = Depends(get_ctx),
                 _: Principal = Depends(require("read"))) -> dict[str, Any]:
    with ctx.db.unit_of_work(write=False) as session:
        return views.profile_view(session, customer_id, ctx.policies, ctx.clock.now())


@router.get("/customers/{customer_id}/timeline", summary="Events, newest first, paginated",
            response_model=TimelineOut)
def get_timeline(
    customer_id: str,
    limit: int = Query(default=50, ge=1, le=500),
    cursor: str | None = Query(default=None, description="next_cursor of the previous page"),
    ctx: AppContext = Depends(get_ctx),
    _: Principal = Depends(require("read")),
) -> dict[str, Any]:
    with ctx.db.unit_of_work(write=False) as session:
        return views.timeline_page(session, customer_id, limit=limit, cursor=cursor)


@router.get("/customers/{customer_id}/records", summary="Orders, tickets, disputes...",
            response_model=RecordsOut)
def get_records(
    customer_id: str,
    kind: str | None = Query(default=None),
    open: bool = Query(default=False, description="Only open records"),
    limit: int = Query(default=100, ge=1, le=1000),
    ctx: AppContext = Depends(get_ctx),
    _: Principal = Depends(require("read")),
) -> dict[str, Any]:
    with ctx.db.unit_of_work(write=False) as session:
        return views.records_page(session, customer_id, kind=kind, open_only=open, limit=limit)


@router.get("/customers/{customer_id}/export",
            summary="Everything held about a person (right of access)",
            response_model=ExportOut)
def export_customer(customer_id: str, ctx: AppContext = Depends(get_ctx),
                    _: Principal = Depends(require("admin"))) -> dict[str, Any]:
    with ctx.db.unit_of_work(write=False) as session:
        return privacy.export(session, customer_id, ctx.policies, ctx.clock.now())

