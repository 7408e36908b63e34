"""API shapes of webhook subscriptions and deliveries."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

URL_RULE = ("{}, http(s): a public address, or one CIRCULO_EGRESS_ALLOW names (loopback, "
            "private and metadata addresses are refused)")


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, description=URL_RULE.format("Where to POST"))
    event_types: list[str] = Field(
        min_length=1, max_length=100,
        description="Event types or patterns: call.wrapped_up, call.*, *",
    )
    description: str = Field(default="", max_length=500)
    max_in_flight: int = Field(default=4, ge=1, le=64,
                               description="Deliveries in flight to this URL at once")


class SubscriptionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2000,
                            description=URL_RULE.format("A new URL"))
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=100)
    status: Literal["active", "paused"] | None = None


class SubscriptionOut(BaseModel):
    id: str
    url: str
    event_types: list[str]
    status: str
    description: str
    max_in_flight: int
    created_at: str
    updated_at: str
    secret: str | None = Field(
        default=None, description="Only when created or rotated: keep it to verify signatures")


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_seconds: int = Field(default=86_400, ge=0, le=30 * 86_400,
                               description="How long the previous secrets keep signing")


class DeliveryOut(BaseModel):
    id: str = Field(description="The webhook-id header: the same on every retry")
    event_type: str
    status: str = Field(description="pending, delivering, delivered, dead, canceled")
    attempts: int
    customer_id: str | None
    created_at: str
    next_attempt_at: str | None
    delivered_at: str | None
    last_status_code: int | None
    last_latency_ms: int | None
    last_error: str | None = Field(description="Why the last attempt failed: the status with "
                                   "its standard phrase or a fixed reason, never the answer")


class DeliveriesOut(BaseModel):
    counts: dict[str, int]
    deliveries: list[DeliveryOut]


class AttemptOut(BaseModel):
    attempt: int
    at: str
    status_code: int | None
    latency_ms: int
    outcome: str
    error: str | None


class DeliveryDetailOut(DeliveryOut):
    attempts_log: list[AttemptOut]


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["dead", "delivered", "canceled"] = "dead"


class ReplayOut(BaseModel):
    replayed: int
