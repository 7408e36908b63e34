"""Outbound campaigns: a CRM posts a segment, Círculo starts calling or messaging (S3)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from circulo.api_deps import get_ctx, require
from circulo.auth.service import Principal
from circulo.campaigns import service
from circulo.campaigns.schemas import CampaignIn, CampaignMembersOut, CampaignOut, MembersIn
from circulo.context import AppContext
from circulo.errors import PayloadTooLarge, ValidationFailed

router = APIRouter(prefix="/v1", tags=["campaigns"])


def _check_size(ctx: AppContext, members: int) -> None:
    if members > ctx.settings.max_batch_size:
        raise PayloadTooLarge(f"members: at most {ctx.settings.max_batch_size} per request; "
                              "send the rest to POST /v1/campaigns/{id}/members")


@router.post(
    "/campaigns", response_model=CampaignOut, status_code=201,
    summary="Start an outbound campaign from a list of customers",
    description=(
        "Each member is resolved to a customer (created when unknown), reached on the "
        "campaign's channel if their consent allows (or, with `preferred`, on their preferred "
        "channel and then `fallback`), and handed on as a `campaign.call_requested` or "
        "`campaign.message_requested` event: on the customer's timeline and delivered to "
        "webhook subscribers (a dialer, an SMS/email provider) through the outbox. With "
        "`crm_list` the members are read from a HubSpot list or Salesforce Campaign instead. "
        "Sending the same `source` + `external_id` again adds only new members (200)."),
    responses={200: {"model": CampaignOut, "description": "Existing campaign, new members "
                                                          "added"}},
)
def start(body: CampaignIn, response: Response, ctx: AppContext = Depends(get_ctx),
          principal: Principal = Depends(require("campaigns"))) -> dict[str, Any]:
    _check_size(ctx, len(body.members))
    with ctx.db.unit_of_work() as session:
        view, created = service.start(session, body, settings=ctx.settings,
                                      policies=ctx.policies, now=ctx.clock.now(),
                                      actor=f"key:{principal.name}")
    if not created:
        response.status_code = 200
    return view


@router.post("/campaigns/{campaign_id}/members", response_model=CampaignOut,
             summary="Add members to a campaign (a further page of the list)")
def add_members(campaign_id: str, body: MembersIn, ctx: AppContext = Depends(get_ctx),
                principal: Principal = Depends(require("campaigns"))) -> dict[str, Any]:
    _check_size(ctx, len(body.members))
    with ctx.db.unit_of_work() as session:
        campaign = service.get(session, campaign_id, for_update=True)
        summary = service.add_members(session, campaign, body.members, settings=ctx.settings,
                                      policies=ctx.policies, now=ctx.clock.now(),
                                      actor=f"key:{principal.name}")
        if not summary["added"] and summary["errors"]:
            raise ValidationFailed("no member could be added", errors=summary["errors"])
        return service.view(session, campaign, summary)


@router.get("/campaigns", response_model=list[CampaignOut], summary="Recent campaigns")
def list_campaigns(limit: int = Query(50, ge=1, le=500), ctx: AppContext = Depends(get_ctx),
                   _: Principal = Depends(require("read"))) -> list[dict[str, Any]]:
    with ctx.db.unit_of_work(write=False) as session:
        return service.views(session, service.recent(session, limit))


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut, summary="A campaign")
def get_campaign(campaign_id: str, ctx: AppContext = Depends(get_ctx),
                 _: Principal = Depends(require("read"))) -> dict[str, Any]:
    with ctx.db.unit_of_work(write=False) as session:
        return service.view(session, service.get(session, campaign_id))


@router.get("/campaigns/{campaign_id}/members", response_model=CampaignMembersOut,
            summary="A campaign's members: who is reached on which channel, who is skipped "
                    "and why")
def members(campaign_id: str, status: str | None = Query(None, pattern="^(planned|skipped)$"),
            after: int = Query(-1, ge=-1), limit: int = Query(100, ge=1, le=1000),
            ctx: AppContext = Depends(get_ctx),
            _: Principal = Depends(require("read"))) -> dict[str, Any]:
    with ctx.db.unit_of_work(write=False) as session:
        return service.members_page(session, campaign_id, status=status, after=after,
                                    limit=limit)
