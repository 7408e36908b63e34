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


class SharedOut(BaseModel):
    shared: list[SharedIdentifierOut]
    limit: int = Field(description="CIRCULO_MAX_PROFILES_PER_IDENTIFIER")
