"""API shapes of routing: agents, tasks, callbacks, overrides, statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from circulo.errors import ProblemItem
from circulo.ingest.schemas import SOURCE_PATTERN, Identifiers
from circulo.jsonshape import AwareMoment, JsonObject

ChannelName = Literal["voice", "email", "chat", "sms", "whatsapp", "social", "backoffice"]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]
Proficiency = Annotated[int, Field(ge=1, le=5)]


class AgentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    site: Name = Field(default="main", description="Site or 'remote': one virtual center")
    skills: dict[Name, Proficiency] = Field(default_factory=dict,
                                            description="Skill -> proficiency 1-5")
    languages: list[Annotated[str, Field(min_length=2, max_length=8)]] = Field(
        default_factory=list)
    queues: list[Name] = Field(default_factory=list, description="Queues this agent serves")
    teams: list[Name] = Field(default_factory=list)
    capacity: dict[ChannelName, Annotated[int, Field(ge=0, le=100)]] = Field(
        default_factory=dict,
        description="Tasks at once per channel; defaults: voice 1, chat 3, email 5, sms 3, "
                    "whatsapp 3, social 3, backoffice 1")
    wrap_up: float | None = Field(default=None, ge=0, le=3600,
                                  description="Seconds of after-call work (else the queue's)")


class PresenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    presence: Literal["available", "away", "offline"]
    reason: str | None = Field(default=None, max_length=64,
                               description="Why away: break, training, meeting...")


class AgentOut(BaseModel):
    id: str
    name: str | None
    site: str
    skills: dict[str, int]
    languages: list[str]
    queues: list[str]
    teams: list[str]
    capacity: dict[str, int]
    wrap_up: float | None
    presence: str
    away_reason: str | None
    state: str = Field(description="Set by the system: idle, reserved, busy, wrap_up")
    state_since: datetime
    presence_since: datetime
    load: dict[str, int]
    connected: bool
    last_seen: datetime | None


class TaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queue: Name
    channel: ChannelName = "voice"
    identifiers: Identifiers = Field(default_factory=Identifiers,
                                     description="Who is behind it (resolved to a customer)")
    priority: int = Field(default=0, ge=-1000, le=1000,
                          description="Added to the priority the policy computes")
    skills: dict[Name, Proficiency] = Field(default_factory=dict,
                                            description="Required skills: minimum proficiency")
    language: str | None = Field(default=None, min_length=2, max_length=8)
    attributes: JsonObject = Field(default_factory=dict,
                                       description="Anything the policy or the agent needs "
                                                   "(IVR choice, order number, subject)")
    reason: str | None = Field(default=None, max_length=200)
    source: str = Field(default="api", pattern=SOURCE_PATTERN)
    external_id: str | None = Field(default=None, min_length=1, max_length=200,
                                    description="The sender's id (call id, ticket id): "
                                                "sending it again returns the same task")


class TaskBatchIn(BaseModel):
    """Many contacts at once (an e-mail backlog, a CRM's or ERP's work items)."""

    model_config = ConfigDict(extra="forbid")

    tasks: list[TaskIn] = Field(min_length=1,
                                description="Up to CIRCULO_MAX_BATCH_SIZE (5,000) tasks")


class TaskBatchItem(BaseModel):
    index: int = Field(description="Position in the batch")
    status: Literal["created", "duplicate"] = Field(
        description="duplicate: this source + external_id was already a task (or appeared "
                    "earlier in the batch); the task is that one")
    task_id: str
    state: str
    queue: str = Field(description="Where it waits (a routing override may have moved it)")
    customer_id: str | None
    agent_id: str | None
    position: int | None = Field(description="Place in its queue, if routing has taken it in "
                                             "already (else null: GET the task later)")
    expected_wait_seconds: float | None


class TaskBatchOut(BaseModel):
    created: int
    duplicates: int
    rejected: int
    results: list[TaskBatchItem]
    errors: list[ProblemItem] = Field(description="Why each refused item was refused")


class CallbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queue: Name
    identifiers: Identifiers
    window_start: AwareMoment | None = Field(default=None,
                                               description="Not before (default now)")
    window_end: AwareMoment
    priority: int = Field(default=0, ge=-1000, le=1000)
    attempts: int = Field(default=3, ge=1, le=20, description="Attempts before giving up")
    skills: dict[Name, Proficiency] = Field(default_factory=dict)
    language: str | None = Field(default=None, min_length=2, max_length=8)
    attributes: JsonObject = Field(default_factory=dict)
    reason: str | None = Field(default=None, max_length=200,
                               description="e.g. investigation_closed, customer_request")
    source: str = Field(default="api", pattern=SOURCE_PATTERN)
    external_id: str | None = Field(default=None, min_length=1, max_length=200)


class AgentAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent_id: Name


class RejectIn(AgentAction):
    reason: str | None = Field(default=None, max_length=200)


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent_id: Name
    disposition: str | None = Field(default=None, max_length=100,
                                    description="The outcome code the agent picked")
    notes: str | None = Field(default=None, max_length=10_000)
    data: JsonObject | None = Field(default=None, description="Data captured")
    outcome: Literal["reached", "no_answer", "busy", "voicemail", "failed", "wrong_number",
                     "declined"] | None = Field(
        default=None, description="For a callback: whether the customer was reached; not "
                                  "reached means another attempt while attempts and the "
                                  "window allow")


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=200)


class TaskOut(BaseModel):
    id: str
    kind: str
    state: str
    queue: str
    channel: str
    customer_id: str | None
    customer: dict[str, Any] = Field(description="What routing knew of the customer")
    priority: int
    skills: dict[str, int]
    language: str | None
    attributes: dict[str, Any]
    reason: str | None
    team: str | None
    agent_id: str | None
    position: int | None = Field(description="Place in its queue, while waiting")
    expected_wait_seconds: float | None
    ivr: dict[str, Any] | None = Field(description="A routing override's message/question")
    created_at: datetime
    queued_at: datetime
    not_before: datetime | None
    window_end: datetime | None
    reserved_until: datetime | None
    assigned_at: datetime | None
    ended_at: datetime | None
    completed_at: datetime | None
    attempts: int
    max_attempts: int
    outcome: str | None
    result: dict[str, Any]
    parent_id: str | None


class AbandonOut(BaseModel):
    task: TaskOut
    decision: str = Field(description="ignore, callback, winback or sms")
    reason: str
    callback_id: str | None


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queue: Name | None = None
    team: Name | None = None
    priority_boost: int = Field(default=0, ge=-1000, le=1000)
    ivr: dict[Literal["message", "question"], dict[Literal["es", "en"], str]] | None = Field(
        default=None, description="What the IVR says and asks this customer, per language")
    reason: str | None = Field(default=None, max_length=500)
    expires_at: AwareMoment | None = None
    ttl_seconds: int | None = Field(default=None, ge=1, le=90 * 86400)


class OverrideOut(BaseModel):
    id: str
    customer_id: str
    queue: str | None
    team: str | None
    priority_boost: int
    ivr: dict[str, Any] | None
    reason: str | None
    source: str
    expires_at: datetime
    created_at: datetime
    canceled_at: datetime | None


class RuleErrorOut(BaseModel):
    rule: str = Field(description="Where the rule is: `line 7: queues.general.priority[0].when`")
    condition: str
    errors: int
    last_error: str | None


class PolicyOut(BaseModel):
    version: int | None
    created: bool = False
    skills: list[str]
    queues: list[str]
    agents: int
    document: dict[str, Any] | None = None
    rule_errors: list[RuleErrorOut] = Field(
        default_factory=list,
        description="Rules that failed to evaluate (a type error such as a text compared "
                    "with a number), counted by this server since the policy was loaded; such "
                    "a rule does not hold. Missing data (a customer without the trait) is not "
                    "an error.")
