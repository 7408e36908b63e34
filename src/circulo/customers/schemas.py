"""API shapes of the customer domain, for the OpenAPI document (and validation of views)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class BadgeOut(BaseModel):
    code: str = Field(description="Stable code: vip, at_risk, open_dispute, new_caller...")
    label: str = Field(description="In the requested language")
    tone: str = Field(description="gold, red, orange, blue, grey: a hint for the UI")


class FieldOut(BaseModel):
    key: str
    label: str
    value: Any


class RecordOut(BaseModel):
    kind: str
    kind_label: str
    key: str
    status: str
    status_label: str
    title: str | None
    amount: float | None
    currency: str | None
    since: str
    updated_at: str


class HistoryOut(BaseModel):
    at: str
    type: str
    label: str
    channel: str | None
    channel_label: str | None
    reason: str | None


class SuggestionOut(BaseModel):
    id: str
    code: str
    journey: str
    status: Literal["open", "accepted", "dismissed"]
    text: str | dict[str, str] = Field(description="In the card's language (or es and en)")
    created_at: str
    expires_at: str
    decided_at: str | None = None
    decided_by: str | None = None


class ChurnOut(BaseModel):
    """The churn model's score of the customer (circulo.churn; docs/churn.md)."""

    risk: float = Field(ge=0, le=1, description="Probability of leaving; also the "
                                                  "churn_risk trait routing reads")
    percent: int
    factors: list[str] = Field(description="Up to three main reasons, in the card's language",
                               examples=[["3 contactos insatisfechos en 30 días",
                                          "cliente desde hace 2 meses", "NPS detractor"]])
    model_version: int
    scored_at: str


class CardOut(BaseModel):
    customer_id: str | None
    role: str | None = None
    role_title: str | None = None
    language: Literal["es", "en"]
    name: str | None
    greeting: str | None = None
    hint: str | None = Field(default=None, description="Advice for the agent (new caller)")
    badges: list[BadgeOut]
    fields: list[FieldOut]
    indicators: list[FieldOut]
    open_records: list[RecordOut] = Field(description="Open business records, before history")
    history: list[HistoryOut] = Field(description="Last contacts, newest first")
    links: dict[str, str] = Field(description="Screen-pop URLs, e.g. {'crm': 'https://...'}")
    suggestions: list[SuggestionOut] = Field(
        default_factory=list, description="Next best actions journeys suggest; accept or "
                                          "dismiss them with POST /v1/suggestions/{id}/...")
    churn: ChurnOut | None = Field(default=None, description="The churn risk and its main "
                                   "reasons, once a churn model has scored the customer")


class CandidateOut(BaseModel):
    """Enough to ask the right question, without reading another customer's data out."""

    customer_id: str
    name: str | None
    email: str | None = Field(description="Masked: m****@example.cat")
    open_records: int = Field(description="How many open orders, tickets, disputes...")
    last_contact_at: str | None
    badges: list[BadgeOut]


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(pattern=r"^[0-9A-Za-z_-]{1,32}$",
                             description="The candidate the caller turned out to be")
    event_id: str | None = Field(default=None, pattern=r"^[0-9A-Za-z_-]{1,32}$",
                                 description="The ambiguous contact (its event id)")
    phone: str | None = Field(default=None, max_length=64,
                              description="Or the identifier looked up, when no event was "
                              "stored")
    email: str | None = Field(default=None, max_length=320)
    account: str | None = Field(default=None, max_length=64)
    role: str = Field(default="support", max_length=40, description="Card role to answer with")


class ConfirmOut(BaseModel):
    customer_id: str
    event_id: str | None = Field(description="The contact, now attributed to the customer")
    confirmation_event_id: str | None = Field(
        description="The identity.confirmed event on the timeline (null when repeated)")
    candidates: int
    card: CardOut


class CardLookupOut(BaseModel):
    match: Literal["unique", "ambiguous", "none"]
    card: CardOut | None = Field(description="Null when ambiguous: the agent asks who it is")
    candidates: list[CandidateOut]
    hint: str | None = None
    narrowed_by: str | None = Field(default=None, description="'postal_code' if the hint decided")
    pin_verified: bool | None = Field(default=None, description="When a pin was given")


class IdentifierOut(BaseModel):
    kind: str
    value: str
    source: str
    since: str


class CustomerOut(BaseModel):
    id: str
    requested_id: str | None = Field(description="The id asked for, when it was merged into id")
    name: str | None
    traits: dict[str, Any]
    provenance: dict[str, Any] = Field(description="Per trait: source and time of its value")
    consent: dict[str, Any] = Field(description="channel -> purpose -> {granted, at, source}")
    has_pin: bool
    indicators: dict[str, Any]
    identifiers: list[IdentifierOut]
    created_at: str
    updated_at: str


class EventOut(BaseModel):
    id: str
    type: str
    source: str
    client_id: str | None
    channel: str | None
    occurred_at: str
    received_at: str
    resolution: str
    identifiers: dict[str, Any]
    traits: dict[str, Any] | None
    properties: dict[str, Any] | None
    consent: list[dict[str, Any]] | None
    record: dict[str, Any] | None


class TimelineOut(BaseModel):
    customer_id: str
    events: list[EventOut]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at end")


class RecordFullOut(BaseModel):
    kind: str
    source: str
    key: str
    status: str
    open: bool
    title: str | None
    amount: float | None
    currency: str | None
    data: dict[str, Any]
    opened_at: str
    updated_at: str
    closed_at: str | None


class RecordsOut(BaseModel):
    customer_id: str
    records: list[RecordFullOut]


class MergeRefOut(BaseModel):
    id: str
    action: str
    survivor_id: str
    absorbed_id: str
    reason: str
    at: str


class ExportOut(CustomerOut):
    exported_at: str
    records: list[RecordFullOut]
    events: list[EventOut]
    merges: list[MergeRefOut]
    recordings: list[dict[str, Any]] = Field(
        default_factory=list, description="Recorded calls: id, call_id, language, status, "
        "created_at, duration, transcript, segments, audio_url (docs/speech.md)")


class ErasureOut(BaseModel):
    customer_id: str
    erased_profiles: int
    removed: dict[str, int] = Field(description="Rows deleted, canceled or scrubbed, per table")
    erased_at: str
    suppressed_identifiers: int = Field(
        description="Identifiers now suppressed: resent events carrying them are not stored")
    webhooks: int = Field(description="customer.erased webhooks queued for subscribers")
