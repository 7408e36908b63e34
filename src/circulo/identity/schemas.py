"""API shapes of the identity domain."""

from __future__ import annotations

from pydantic import BaseModel, Field

CUSTOMER_ID = r"^[0-9A-Za-z_-]{1,32}$"


class MergeIn(BaseModel):
    survivor_id: str = Field(pattern=CUSTOMER_ID, description="The customer that stays")
    absorbed_id: str = Field(pattern=CUSTOMER_ID, description="The customer merged into it")
    reason: str = Field(default="", max_length=500, pattern=r"^[^\x00]*$")


class MergeOut(BaseModel):
    id: str
    action: str = Field(description="merge or undo")
    survivor_id: str
    absorbed_id: str
    reason: str
    link_kind: str | None = Field(description="The kind of identifier that linked them")
    event_id: str | None = Field(description="The event that caused the merge")
    actor: str
    undoes: str | None = Field(description="For an undo: the merge it undoes")
    created_at: str
    undone: bool | None = Field(default=None, description="For a merge: was it undone?")


class MergesOut(BaseModel):
    merges: list[MergeOut]


class SharedIdentifierOut(BaseModel):
    kind: str
    value: str
    profile_count: int
    first_flagged_at: str
    last_seen_at: str
    reason: str = Field(description="limit: held by more customers than the merge limit; "
                        "declined: held by people the evidence told apart")


class SharedOut(BaseModel):
    shared: list[SharedIdentifierOut]
    limit: int = Field(description="CIRCULO_MAX_PROFILES_PER_IDENTIFIER")


class EvidenceValue(BaseModel):
    customer_id: str
    value: str | None
    source: str | None = Field(description="The system the value came from")


class EvidenceField(BaseModel):
    field: str = Field(description="name, birthday, postal_code, national_id, "
                       "social_security, email, mobile, phone, address, city")
    level: str = Field(description="How the values compare: exact, compatible, initials, "
                       "given_differs, agree, near, differs...")
    weight: float = Field(description="Its weight in the score: positive agrees")
    verdict: str = Field(description="agrees, disagrees or neutral")
    values: list[EvidenceValue] = Field(description="Each customer's value, and its source")


class SuggestedCustomer(BaseModel):
    customer_id: str
    name: str | None


class SuggestionOut(BaseModel):
    id: str
    status: str = Field(description="open, accepted, rejected or obsolete")
    origin: str = Field(description="ingest (a link the evidence declined) or dedupe")
    score: float = Field(description="Match weight: the sum of the evidence weights (log2 "
                         "odds); negative means the evidence says two people")
    probability: float | None = Field(description="Match probability (batch dedupe)")
    customers: list[SuggestedCustomer]
    evidence: list[EvidenceField]
    shared_identifiers: list[dict[str, str]] = Field(
        description="Identifiers both hold: what made them candidates")
    event_id: str | None = Field(description="The event whose link was declined")
    run_id: str | None = Field(description="The dedupe run that found them")
    created_at: str
    decided_at: str | None
    decided_by: str | None
    merge_id: str | None = Field(description="For an accepted suggestion: its merge (undoable)")
    note: str | None = Field(description="Why an obsolete suggestion closed: merged, erased")


class SuggestionsOut(BaseModel):
    suggestions: list[SuggestionOut]
