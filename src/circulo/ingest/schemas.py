"""The event envelope: what systems send to ``POST /v1/events``. Documented in docs/events.md."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from circulo.customers.records import RECORD_KINDS
from circulo.jsonshape import Moment

Channel = Literal[
    "voice", "email", "chat", "sms", "whatsapp", "web", "mobile", "social", "in_person", "iot",
    "ivr", "mail", "other",
]
EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$"
SOURCE_PATTERN = r"^[a-z0-9][a-z0-9_.\-]{0,63}$"
MAX_PROPERTIES_BYTES = 64 * 1024
# Traits become the profile every agent reads: bounded in count, name and size.
MAX_TRAITS = 100
MAX_TRAIT_NAME = 64
MAX_TRAIT_BYTES = 4 * 1024  # one value, serialised
MAX_TRAITS_BYTES = 32 * 1024  # all of an event's traits, serialised
MAX_NAME_LENGTH = 200  # names, titles, cities: what a card shows on one line
ONE_LINE_TRAITS = ("name", "first_name", "last_name", "preferred_name", "title", "company",
                   "city", "country", "postal_code", "tier", "segment", "advisor", "gender",
                   "timezone", "national_id", "social_security", "birthday", "customer_since")

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
    data: dict[str, Any] | None = None  # bounded by jsonshape.check on the whole item

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
    occurred_at: Moment | None = Field(
        default=None, description="ISO 8601; without an offset it is read as UTC. "
        "Defaults to the time Círculo received it."
    )
    channel: Channel | None = None
    identifiers: Identifiers = Field(default_factory=Identifiers)
    traits: dict[str, Any] | None = None  # bounded by jsonshape.check on the whole item
    consent: Annotated[list[ConsentStatement], Field(max_length=20)] | None = None
    record: RecordIn | None = None
    properties: dict[str, Any] | None = None  # bounded by jsonshape.check on the whole item


class EventBatchIn(BaseModel):
    """Documentation shape of the batch form; items are validated one by one."""

    events: list[EventIn]


@dataclass(frozen=True, slots=True)
class EventResult:
    """What became of one stored (or already stored) event. ``suppressed``: the event carries
    an identifier of an erased person; it is acknowledged (do not resend it) but not stored
    (docs/privacy.md), with ``code`` ``erased_identifier`` and no ``event_id``."""

    index: int
    status: Literal["accepted", "duplicate", "suppressed"]
    event_id: str | None
    customer_id: str | None
    resolution: str
    candidates: list[str] | None = None
    warnings: list[str] | None = None
    code: str | None = None

    def as_json(self) -> dict[str, Any]:
        """Candidates, warnings and code only when there are some (by hand: ``asdict`` copies
        deeply and cost 6.5 ms per answer of 1,000 events)."""
        out: dict[str, Any] = {"index": self.index, "status": self.status,
                               "event_id": self.event_id, "customer_id": self.customer_id,
                               "resolution": self.resolution}
        if self.candidates is not None:
            out["candidates"] = self.candidates
        if self.warnings is not None:
            out["warnings"] = self.warnings
        if self.code is not None:
            out["code"] = self.code
        return out


@dataclass(frozen=True, slots=True)
class ItemError:
    """Why one item of a batch was refused."""

    index: int
    field: str
    code: str
    detail: str

    def as_problem_item(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "code": self.code,
                "detail": self.detail}


@dataclass(frozen=True, slots=True)
class IngestResult:
    """The answer of the ingest pipeline, to the API and to every package that ingests.
    Plain dataclasses: orjson renders them as they are, and the OpenAPI schema is theirs."""

    accepted: int
    duplicates: int
    rejected: int
    results: list[EventResult]
    errors: list[ItemError]
    suppressed: int = 0

    def problem_items(self) -> list[dict[str, Any]]:
        return [e.as_problem_item() for e in self.errors]

    def as_json(self) -> dict[str, Any]:
        """The answer as the API sends it: a result's candidates and warnings only when it
        has them."""
        return {"accepted": self.accepted, "duplicates": self.duplicates,
                "suppressed": self.suppressed, "rejected": self.rejected,
                "results": [r.as_json() for r in self.results],
                "errors": self.problem_items()}
