"""Choosing how to reach each campaign member, and the message in their language. Pure.

Consent: for the ``service`` purpose a channel may be used unless the customer said no; for
any other purpose (marketing, surveys) only if they said yes ("not asked" is not a yes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from circulo.customers.traits import has_consent

TEXT_CHANNELS = frozenset({"sms", "whatsapp"})
CHANNELS = ("voice", "sms", "whatsapp", "email")
DEFAULT_FALLBACK = ("sms", "whatsapp", "email", "voice")
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
PROFILE_FIELDS = frozenset({"first_name", "last_name", "name", "campaign"})


@dataclass(frozen=True, slots=True)
class Reach:
    """What Círculo knows about reaching one customer."""

    phones: tuple[str, ...]
    mobiles: tuple[str, ...]  # the phones that can take an SMS or WhatsApp
    emails: tuple[str, ...]
    consent: dict[str, Any]
    preferred_channel: str | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    channel: str | None  # None: skipped, see reason
    to: str | None = None
    reason: str | None = None


def allowed(consent: dict[str, Any], channel: str, purpose: str) -> str | None:
    """None when the channel may be used for this purpose, else the reason it may not."""
    said = has_consent(consent, channel, purpose)
    if said is False:
        return "consent_denied"
    if said is None and purpose != "service":
        return "no_consent"
    return None


def _try(channel: str, purpose: str, reach: Reach) -> Plan:
    if channel == "voice":
        addresses, missing = reach.phones, "no_phone"
    elif channel in TEXT_CHANNELS:
        addresses, missing = reach.mobiles, "no_mobile"
    else:
        addresses, missing = reach.emails, "no_email"
    if not addresses:
        return Plan(None, reason=missing)
    refused = allowed(reach.consent, channel, purpose)
    if refused:
        return Plan(None, reason=refused)
    return Plan(channel, addresses[0])


def choose(channel: str, purpose: str, reach: Reach,
           fallback: tuple[str, ...] = DEFAULT_FALLBACK) -> Plan:
    """A fixed channel, or with ``preferred`` the customer's preferred channel first and then
    the campaign's fallback order. A skipped member's reason names each channel tried."""
    if channel != "preferred":
        return _try(channel, purpose, reach)
    order = list(fallback)
    if reach.preferred_channel in order:
        order.remove(reach.preferred_channel)
        order.insert(0, reach.preferred_channel)
    reasons = []
    for option in order:
        plan = _try(option, purpose, reach)
        if plan.channel:
            return plan
        reasons.append(f"{option}:{plan.reason}")
    return Plan(None, reason=",".join(reasons) or "no_channel")


def placeholders(template: str) -> set[str]:
    return set(PLACEHOLDER.findall(template))


def pick_language(texts: dict[str, str], language: str | None, default: str) -> str:
    """The customer's language when the campaign speaks it, else the campaign's default."""
    primary = (language or "").split("-")[0].lower()
    return primary if primary in texts else default


def render(template: str, values: dict[str, Any]) -> str:
    return PLACEHOLDER.sub(lambda m: "" if values.get(m.group(1)) is None
                           else str(values[m.group(1)]), template)
