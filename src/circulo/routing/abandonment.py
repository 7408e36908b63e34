"""The abandoned-call policy's decision (S14). Pure: facts in, a decision out.

In order: a contact that was not a call, a short abandon (a misdial, an IVR slip), a caller
with no number, a caller who already got through again or already has a callback waiting are
left alone. Otherwise the first rule whose condition holds decides: a win-back callback for
valuable customers, an agent callback, an SMS instead, or nothing. With no rule matching, the
customer gets an agent callback in the queue they abandoned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from circulo.routing.policy import AbandonPolicy


@dataclass(frozen=True, slots=True)
class AbandonFacts:
    channel: str
    waited: float
    has_phone: bool
    recontacted: bool
    callback_pending: bool
    sms_allowed: bool


@dataclass(frozen=True, slots=True)
class AbandonDecision:
    action: str  # ignore | callback | winback | sms
    reason: str
    queue: str | None = None
    priority: int = 0
    delay: float = 0.0
    rule: int | None = None


def decide(policy: AbandonPolicy, facts: AbandonFacts, context: Mapping[str, Any],
           queue: str) -> AbandonDecision:
    if facts.channel != "voice":
        return AbandonDecision("ignore", "not_a_call")
    if facts.waited < policy.short_abandon:
        return AbandonDecision("ignore", "short_abandon")
    if not facts.has_phone:
        return AbandonDecision("ignore", "no_number")
    if facts.recontacted:
        return AbandonDecision("ignore", "recontacted")
    if facts.callback_pending:
        return AbandonDecision("ignore", "callback_pending")
    for index, rule in enumerate(policy.rules):
        if rule.when is not None and not rule.when.holds(context):
            continue
        if rule.action == "sms" and not facts.sms_allowed:
            return AbandonDecision("callback", "sms_not_allowed", queue, rule.priority,
                                   rule.delay, index)
        return AbandonDecision(rule.action, "rule", rule.queue or queue, rule.priority,
                               rule.delay, index)
    return AbandonDecision("callback", "default", queue)
