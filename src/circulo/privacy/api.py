"""Erasure and suppression routes (scope ``admin``)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from circulo.api_deps import get_ctx, require
from circulo.auth.service import Principal
from circulo.context import AppContext
from circulo.customers.schemas import ErasureOut
from circulo.errors import ValidationFailed
from circulo.identity import suppression
from circulo.identity.normalize import InvalidIdentifier, normalize_identifiers
from circulo.ingest.schemas import Identifiers
from circulo.privacy import erasure
from circulo.routing.dispatcher import dispatcher_of

router = APIRouter(prefix="/v1", tags=["privacy"])
log = logging.getLogger(__name__)


@router.delete("/customers/{customer_id}",
               summary="Erase a person's personal data (right to erasure)",
               description="Cancels and scrubs everything held about the person in every "
               "table, suppresses the identifiers only they held (resent old events carrying "
               "them are answered `suppressed`) and queues a signed `customer.erased` webhook "
               "for subscribers. See docs/privacy.md.",
               response_model=ErasureOut)
def erase_customer(customer_id: str, ctx: AppContext = Depends(get_ctx),
                   _: Principal = Depends(require("admin"))) -> dict[str, Any]:
    with ctx.db.unit_of_work() as session:
        result = erasure.erase(session, customer_id, ctx.settings, ctx.clock.now())
    # The dispatcher's picture of the queues drops the canceled tasks and frees the agents.
    dispatcher_of(ctx).after_change()
    # Deleted rows must not linger in the write-ahead log (SQLite; secure_delete zeroes the
    # pages themselves).
    ctx.db.checkpoint()
    log.info("customer erased: %d profile(s), %d identifier(s) suppressed",
             result.erased_profiles, result.suppressed_identifiers)
    return asdict(result)


class LiftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    identifiers: Identifiers = Field(description="The identifiers to accept again")


class LiftOut(BaseModel):
    lifted: int = Field(description="How many of them were suppressed (and are no longer)")


@router.post("/suppressions/lift", response_model=LiftOut,
             summary="Accept an erased person's identifiers again (they came back)",
             description="Events carrying these identifiers are stored again, creating or "
             "linking a customer as usual. Identifiers are normalised as in events.")
def lift_suppression(body: LiftIn, ctx: AppContext = Depends(get_ctx),
                     _: Principal = Depends(require("admin"))) -> dict[str, int]:
    try:
        normalized = normalize_identifiers(body.identifiers.model_dump(exclude_none=True),
                                           region=ctx.settings.default_region,
                                           junk=ctx.settings.all_junk_values)
    except InvalidIdentifier as exc:
        raise ValidationFailed(exc.detail, errors=[
            {"field": exc.field, "code": exc.code,
             "detail": exc.detail}]) from exc
    if not suppression.suppressible(normalized.identifiers):
        raise ValidationFailed("give at least one identifier", errors=[
            {"field": "identifiers", "code": "missing", "detail": "no identifier given"}])
    with ctx.db.unit_of_work() as session:
        return {"lifted": suppression.lift(session, ctx.settings, normalized.identifiers)}
