"""The event envelope: what systems send to ``POST /v1/events``. Documented in docs/events.md."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from circulo.customers.records import RECORD_KINDS
from circulo.jsonshape import JsonObject

Channel = Literal[
    "voice", "email", "chat", "sms", "whatsapp", "web", "mobile", "social", "in_person", "iot",
    "ivr", "mail", "other",
]
EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$"
SOURCE_PATTERN = r"^[a-z0-9][a-z0-9_.\-]{0,63}$"
MAX_PROPERTIES_BYTES = 64 * 1024

StrOrList = str | Annotated[list[str], Field(max_length=10)]


# JSON numbers beyond 64 bits cannot be stored or re-serialised (orjson refuses them).
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


class Identifiers(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: StrOrList | None = None
    phones: Annotated[list[str], Field(max_length=10)] | None = None
    email: StrOrList | None = None
    emails: Annotated[list[str], Field(max_length=10)] | None = None
    external_ids: dict[str, str | Int64] | None = Field(
        default=None, description="Ids in other systems, by source namespace: {\"crm\": \"C-1\"}"
    )
    account: StrOrList | None = Field(default=None, description="Account or contract number")
    anonymous_id: str | None = Field(default=None, max_length=200)
    customer_id: str | None = Field(default=None, max_length=32,
                                    description="A Círculo customer id")


class ConsentStatement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Literal["voice", "email", "sms", "whatsapp", "chat", "push", "mail"]
    purpose: Literal["service", "marketing", "surveys", "profiling"]
    granted: bool


class RecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="order, invoice, dispute, ticket, subscription, shipment...")
    key: str = Field(min_length=1, max_length=200, description="Its id in the source system")
    status: str | None = Field(default=None, max_length=40)
    open: bool | None = None
    title: str | None = Field(default=None, max_length=500)
    amount: float | None = None
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    data: JsonObject | None = None

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in RECORD_KINDS:
            raise ValueError(f"unknown record kind; expected one of {sorted(RECORD_KINDS)}")
        return value


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: str = Field(pattern=EVENT_TYPE_PATTERN, max_length=100,
                      description="Past tense, dotted: call.abandoned, order.placed")
    id: str | None = Field(
        default=None, min_length=1, max_length=200,
        description="Your id for this event. Resending the same id from the same source never "
        "creates a duplicate (CloudEvents semantics: source + id is unique).",
    )
    source: str = Field(pattern=SOURCE_PATTERN, description="The sending system: crm, shop, pbx")
    occurred_at: datetime | None = Field(
        default=None, description="ISO 8601; without an offset it is read as UTC. "
        "Defaults to the time Círculo received it."
    )
    channel: Channel | None = None
    identifiers: Identifiers = Field(default_factory=Identifiers)
    traits: JsonObject | None = None
    consent: Annotated[list[ConsentStatement], Field(max_length=20)] | None = None
    record: RecordIn | None = None
    properties: JsonObject | None = None


class EventBatchIn(BaseModel):
    """Documentation shape of the batch form; items are validated one by one."""

    events: list[EventIn]


class EventResult(BaseModel):
    index: int
    status: Literal["accepted", "duplicate", "suppressed"] = Field(
        description="suppressed: the event carries an identifier of an erased person; it is "
        "acknowledged (do not resend it) but not stored (docs/privacy.md)")
    event_id: str | None
    customer_id: str | None
    resolution: str
    code: str | None = Field(default=None, description="erased_identifier when suppressed")
    candidates: list[str] | None = None
    warnings: list[str] | None = None


class ItemError(BaseModel):
    index: int
    field: str
    code: str
    detail: str


class IngestResult(BaseModel):
    accepted: int
    duplicates: int
    suppressed: int
    rejected: int
    results: list[EventResult]
    errors: list[ItemError]
