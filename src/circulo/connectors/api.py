"""Webhook subscriptions, their delivery log, and replay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from circulo.api_deps import get_ctx, require
from circulo.auth.service import Principal
from circulo.connectors import service
from circulo.connectors.models import WebhookSubscription
from circulo.connectors.schemas import (
    DeliveriesOut,
    DeliveryDetailOut,
    DeliveryOut,
    ReplayIn,
    ReplayOut,
    RotateIn,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
)
from circulo.context import AppContext

router = APIRouter(prefix="/v1", tags=["webhooks"])


def _view(subscription: WebhookSubscription, secret: str | None = None) -> dict[str, Any]:
    return {
        "id": subscription.id, "url": subscription.url,
        "event_types": subscription.event_types, "status": subscription.status,
        "description": subscription.description, "max_in_flight": subscription.max_in_flight,
        "created_at": subscription.created_at.isoformat(),
        "updated_at": subscription.updated_at.isoformat(), "secret": secret,
    }


@router.post("/webhooks", status_code=201, response_model=SubscriptionOut,
             summary="Subscribe a URL to events (signed, Standard Webhooks)")
def create(body: SubscriptionIn, ctx: AppContext = Depends(get_ctx),
           _: Principal = Depends(require("admin"))) -> dict[str, Any]:
    with ctx.db.unit_of_work() as session:
        subscription = service.create_subscription(
            session, url=body.url, event_types=body.event_types, description=body.description,
            max_in_flight=body.max_in_flight, now=ctx.clock.now(), egress=ctx.settings.egress)
        return _view(subscription, subscription.secrets[0]["secret"])


@router.get("/webhooks", response_model=list[SubscriptionOut], summary="Subscriptions")
def list_all(ctx: AppContext = Depends(get_ctx),
             _: Principal = Depends(require("admin"))) -> list[dict[str, Any]]:
    with ctx.db.unit_of_work(write=False) as session:
        return [_view(s) for s in service.list_subscriptions(session)]


@router.get("/webhooks/{subscription_id}", response_model=SubscriptionOut,
            summary="A subscription")
def get_one(subscription_id: str, ctx: AppContext = Depends(get_ctx),
            _: Principal = Depends(require("admin"))) -> dict[str, Any]:
    with ctx.db.unit_of_work(write=False) as session:
        return _view(service.get_subscription(session, subscription_id))


@router.patch("/webhooks/{subscription_id}", response_model=SubscriptionOut,
              summary="Change the URL or event types; pause or resume")
def patch(subscription_id: str, body: SubscriptionPatch, ctx: AppContext = Depends(get_ctx),
          _: Principal = Depends(require("admin"))) -> dict[str, Any]:
    with ctx.db.unit_of_work() as session:
        return _view(service.update_subscription(
            session, subscription_id, url=body.url, event_types=body.event_types,
            status=body.status, now=ctx.clock.now(), egress=ctx.settings.egress))


@router.delete("/webhooks/{subscription_id}", status_code=204,
               summary="Delete a subscription; its pending deliveries are canceled")
def delete(subscription_id: str, ctx: AppContext = Depends(get_ctx),
           _: Principal = Depends(require("admin"))) -> Response:
    with ctx.db.unit_of_work() as session:
        service.delete_subscription(session, subscription_id, ctx.clock.now())
    return Response(status_code=204)


@router.post("/webhooks/{subscription_id}/rotate-secret", response_model=SubscriptionOut,
             summary="New signing secret; the old ones keep signing during the grace period")
def rotate(subscription_id: str, body: RotateIn, ctx: AppContext = Depends(get_ctx),
           _: Principal = Depends(require("admin"))) -> dict[str, Any]:
    with ctx.db.unit_of_work() as session:
        subscription, secret = service.rotate_secret(
            session, subscription_id, timedelta(seconds=body.grace_seconds), ctx.clock.now())
        return _view(subscription, secret)


@router.get("/webhooks/{subscription_id}/deliveries", response_model=DeliveriesOut,
            summary="The delivery log, newest first, with counts by status")
def deliveries(subscription_id: str, status: str | None = Query(default=None),
               limit: int = Query(default=100, ge=1, le=1000),
               ctx: AppContext = Depends(get_ctx),
               _: Principal = Depends(require("admin"))) -> dict[str, Any]:
    with ctx.db.unit_of_work(write=False) as session:
        return service.deliveries(session, subscription_id, status=status, limit=limit)


@router.post("/webhooks/{subscription_id}/replay", response_model=ReplayOut,
             summary="Deliver again every delivery in a status (dead by default)")
def replay_all(subscription_id: str, body: ReplayIn, ctx: AppContext = Depends(get_ctx),
               _: Principal = Depends(require("admin"))) -> dict[str, int]:
    with ctx.db.unit_of_work() as session:
        return {"replayed": service.replay_all(session, subscription_id, body.status,
                                               ctx.clock.now())}


@router.get("/deliveries/{message_id}", response_model=DeliveryDetailOut,
            summary="One delivery and every attempt")
def delivery(message_id: str, ctx: AppContext = Depends(get_ctx),
             _: Principal = Depends(require("admin"))) -> dict[str, Any]:
    with ctx.db.unit_of_work(write=False) as session:
        return service.attempts(session, message_id)


@router.post("/deliveries/{message_id}/replay", response_model=DeliveryOut,
             summary="Deliver one message again (same webhook-id)")
def replay_one(message_id: str, ctx: AppContext = Depends(get_ctx),
               _: Principal = Depends(require("admin"))) -> dict[str, Any]:
    with ctx.db.unit_of_work() as session:
        return service.message_view(service.replay_message(session, message_id, ctx.clock.now()))
