"""The channel choice and message rendering of campaigns, without a database."""

from __future__ import annotations

from typing import Any

import pytest

from circulo.campaigns.engine import Plan, Reach, choose, pick_language, placeholders, render

YES = {"granted": True, "at": "2026-01-01T00:00:00+00:00", "source": "crm"}
NO = {**YES, "granted": False}


def reach(phones: tuple[str, ...] = (), mobiles: tuple[str, ...] = (),
          emails: tuple[str, ...] = (), consent: dict[str, Any] | None = None,
          preferred: str | None = None) -> Reach:
    return Reach(phones, mobiles, emails, consent or {}, preferred)


@pytest.mark.parametrize(("channel", "purpose", "who", "expected"), [
    ("sms", "marketing", reach(("+34600",), ("+34600",), consent={"sms": {"marketing": YES}}),
     Plan("sms", "+34600")),
    ("sms", "marketing", reach(("+34600",), ("+34600",)), Plan(None, reason="no_consent")),
    ("sms", "service", reach(("+34600",), ("+34600",)), Plan("sms", "+34600")),
    ("sms", "service", reach(("+34600",), ("+34600",), consent={"sms": {"service": NO}}),
     Plan(None, reason="consent_denied")),
    ("sms", "service", reach(("+34910",)), Plan(None, reason="no_mobile")),
    ("voice", "service", reach(("+34910",)), Plan("voice", "+34910")),
    ("email", "service", reach(("+34910",)), Plan(None, reason="no_email")),
])
def test_a_fixed_channel(channel: str, purpose: str, who: Reach, expected: Plan) -> None:
    assert choose(channel, purpose, who) == expected


def test_preferred_goes_first_then_the_fallback_order() -> None:
    consent = {"sms": {"service": YES}, "email": {"service": YES}}
    both = reach(("+34600",), ("+34600",), ("a@example.es",), consent, preferred="email")
    assert choose("preferred", "service", both, ("sms", "email")) == Plan("email",
                                                                         "a@example.es")
    no_pref = reach(("+34600",), ("+34600",), ("a@example.es",), consent)
    assert choose("preferred", "service", no_pref, ("sms", "email")).channel == "sms"
    nothing = reach()
    assert choose("preferred", "marketing", nothing, ("sms", "email")) == Plan(
        None, reason="sms:no_mobile,email:no_email")


def test_templates() -> None:
    assert placeholders("Hola {first_name}, tu {offer}") == {"first_name", "offer"}
    assert render("Hola {first_name}, {x}", {"first_name": "Ana", "x": None}) == "Hola Ana, "
    assert pick_language({"es": "", "en": ""}, "en-GB", "es") == "en"
    assert pick_language({"es": "", "en": ""}, "fr", "es") == "es"
    assert pick_language({"es": ""}, None, "es") == "es"
