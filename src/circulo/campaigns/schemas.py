"""API shapes of outbound campaigns."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from circulo.ingest.schemas import SOURCE_PATTERN, Identifiers
from circulo.jsonshape import JsonObject

Texts = dict[Literal["es", "en"], str]


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str | None = Field(
        default=None, min_length=1, max_length=200,
        description="The sender's id for this member (its CRM contact id). Resending a member "
                    "with the same key is a no-op; without a key one is derived from the "
                    "identifiers.")
    identifiers: Identifiers
    traits: JsonObject | None = Field(
        default=None, description="What the sender knows: name, language, tier…")
    data: dict[str, str | int | float | bool | None] | None = Field(
        default=None, description="Values for the message placeholders of this member")


class CrmListIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    connector: str = Field(description="A configured CRM connector (hubspot, salesforce)")
    list_id: str = Field(min_length=1, max_length=100,
                         description="HubSpot list id, or Salesforce Campaign id")


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    source: str = Field(pattern=SOURCE_PATTERN, description="The sending system: crm, hubspot")
    external_id: str | None = Field(
        default=None, min_length=1, max_length=200,
        description="The sender's id for this campaign: sending it again adds only new members")
    channel: Literal["voice", "sms", "whatsapp", "email", "preferred"] = Field(
        description="voice queues calls for agents; sms, whatsapp and email send the message; "
                    "preferred uses each customer's preferred channel, then `fallback`")
    purpose: Literal["service", "marketing", "surveys"] = Field(
        default="marketing",
        description="Checked against each customer's consent: service unless refused, the "
                    "others only if granted")
    queue: str | None = Field(default=None, min_length=1, max_length=100,
                              description="Where the calls wait for agents (voice)")
    message: Texts | None = Field(
        default=None, description="Text per language, {first_name} {name} {campaign} and "
                                  "members' data keys as placeholders; the agent's script for "
                                  "voice")
    subject: Texts | None = Field(default=None, description="Email subject per language")
    language: Literal["es", "en"] = Field(
        default="es", description="Used when the customer's language is not in `message`")
    fallback: list[Literal["sms", "whatsapp", "email", "voice"]] | None = Field(
        default=None, description="Channel order for `preferred` (default sms, whatsapp, "
                                  "email, then voice when a queue is given)")
    members: list[MemberIn] = Field(default_factory=list)
    crm_list: CrmListIn | None = Field(
        default=None, description="Instead of members: read them from this CRM list")

    @model_validator(mode="after")
    def _coherent(self) -> CampaignIn:
        messaging = self.channel in ("sms", "whatsapp", "email") or (
            self.channel == "preferred" and set(self.fallback or ["sms"]) - {"voice"})
        if messaging and not self.message:
            raise ValueError("message: required to send sms, whatsapp or email")
        if self.channel == "voice" and not self.queue:
            raise ValueError("queue: required for a voice campaign")
        if self.channel == "preferred" and "voice" in (self.fallback or []) and not self.queue:
            raise ValueError("queue: required when voice is among the fallback channels")
        if self.message and self.language not in self.message:
            raise ValueError(f"message: needs a text in the default language "
                             f"'{self.language}'")
        if self.members and self.crm_list:
            raise ValueError("members: give members or crm_list, not both")
        return self


class MembersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    members: list[MemberIn] = Field(min_length=1)


class MemberError(BaseModel):
    index: int
    field: str
    code: str
    detail: str


class CampaignOut(BaseModel):
    id: str
    name: str
    source: str
    external_id: str | None
    channel: str
    purpose: str
    queue: str | None
    status: str = Field(description="loading (reading a CRM list), running, failed")
    error: str | None
    created_at: str
    members: int
    planned: dict[str, int] = Field(description="Members reached, by channel")
    skipped: dict[str, int] = Field(description="Members not reached, by reason")
    added: int | None = Field(default=None, description="Members added by this request")
    errors: list[MemberError] = Field(default_factory=list,
                                      description="Members refused by this request")


class CampaignMemberOut(BaseModel):
    key: str
    position: int
    customer_id: str | None
    status: str = Field(description="planned or skipped")
    channel: str | None
    reason: str | None
    action_event_id: str | None = Field(
        description="The campaign.call_requested / campaign.message_requested event")


class CampaignMembersOut(BaseModel):
    members: list[CampaignMemberOut]
    next_after: int | None = Field(description="Pass as `after` for the next page")
