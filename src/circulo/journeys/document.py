"""The shape of a journey document (docs/journeys.md) as pydantic models: which fields exist and
the type of each. What needs the rest of the journey or of Círculo (CEL variables, event types
sources send, template variables, where steps go) is checked by ``definition``. Pure."""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar

from pydantic import Field

from circulo.docmodels import CelText, Doc, Duration, between, check, one_of

URGENCIES = ("low", "normal", "high", "urgent")
REENTRY = ("after_exit", "never", "always")
PURPOSES = ("service", "marketing")
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

Name = Annotated[str, check(lambda v: NAME.match(v) is not None,
                            "expected a name: lower case, digits, '_' or '-'")]
Clock = Annotated[str, check(lambda v: CLOCK.match(v) is not None,
                             'expected a time of day such as "09:00"')]
Text = str | dict[str, str]  # one text for both languages, or {es: ..., en: ...}
Types = str | list[str]  # an event type (call.*, *) or a list of them
Names = str | list[str]  # a name or a list of names (lists, tags)


class AudienceDoc(Doc):
    records: str = Field(description="a record kind")
    where: CelText | None = None


class CapDoc(Doc):
    max: Annotated[int, check(lambda v: v >= 1, "expected a whole number, at least 1")]
    per: Duration


class LimitsDoc(Doc):
    reentry: Annotated[str, one_of("reentry", REENTRY)] = "after_exit"
    cap: CapDoc | None = None


class TaskDoc(Doc):
    queue: str
    channel: str = "backoffice"
    priority: int = 0
    skills: dict[str, Any] | None = None
    reason: str | None = None
    note: Text | None = None


class AlertDoc(Doc):
    to: Annotated[str, check(lambda v: v == "advisor" or v.startswith(("agent:", "queue:")),
                             "expected advisor, agent:<id> or queue:<name>")]
    urgency: Annotated[str, one_of("urgency", URGENCIES)] = "normal"
    message: Text
    queue: str | None = None


class CallbackDoc(Doc):
    queue: str
    within: Duration = 86400.0
    slots: Annotated[int, check(lambda v: 0 <= v <= 5, "expected 0 to 5 slots to offer")] = 0
    priority: int = 0


class IvrDoc(Doc):
    message: Text | None = None
    question: Text | None = None


class RoutingOverrideDoc(Doc):
    queue: str | None = None
    team: str | None = None
    priority_boost: Annotated[int, between(-1000, 1000)] | None = None
    ivr: IvrDoc | None = None
    for_: Duration = Field(alias="for", description="how long the override lasts")
    reason: str | None = None


class NotifyDoc(Doc):
    channels: str | list[str] = "preferred"
    purpose: Annotated[str, one_of("purpose", PURPOSES)] = "service"
    subject: Text | None = None
    text: Text


class WebhookDoc(Doc):
    url: str
    body: dict[str, Any] | None = None
    method: str | None = None
    headers: dict[str, Any] | None = None


class EmitDoc(Doc):
    type: str
    properties: dict[str, Any] | None = None


class ConnectorDoc(Doc):
    name: str
    action: str
    params: dict[str, Any] | None = None


class SuggestDoc(Doc):
    code: Names
    text: Text
    for_: Duration = Field(default=86400.0, alias="for")


class ActionDoc(Doc):
    """One action: exactly one of the kinds below, optionally ``as`` a name."""

    field_kind: ClassVar[str] = "action"
    as_: Name | None = Field(default=None, alias="as")
    set_trait: dict[str, Any] | None = None
    tag: Names | None = None
    add_to_list: Names | None = None
    remove_from_list: Names | None = None
    task: TaskDoc | None = None
    alert: AlertDoc | None = None
    callback: CallbackDoc | None = None
    routing_override: RoutingOverrideDoc | None = None
    notify: NotifyDoc | None = None
    webhook: WebhookDoc | None = None
    emit: EmitDoc | None = None
    connector: ConnectorDoc | None = None
    suggest: SuggestDoc | None = None


class WaitDoc(Doc):
    for_: Types | None = Field(default=None, alias="for")
    where: CelText | None = None
    up_to: Duration | None = None
    until: Clock | None = None
    duration: Duration | None = None
    date: str | None = None
    before: Duration | None = None
    at: Clock | None = None
    yearly: bool | None = None


class BranchDoc(Doc):
    when: CelText | None = None
    go: str


class StepDoc(Doc):
    name: Name | None = None
    do: list[ActionDoc] | None = None
    wait: WaitDoc | None = None
    on_event: str | None = None
    on_timeout: str | None = None
    branch: list[BranchDoc] | None = None
    go: str | None = None
    end: bool = False


class JourneyDoc(Doc):
    journey: Name
    name: Text | None = None
    description: Any = None
    trigger: Types
    audience: AudienceDoc | None = None
    when: CelText | None = None
    limits: LimitsDoc | None = None
    steps: list[StepDoc]
