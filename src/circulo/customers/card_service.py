"""Who is this, and what should the agent know? Lookup by any identifier, then the card."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from string import Formatter
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session

from circulo import hooks
from circulo.config import Settings
from circulo.customers import cards
from circulo.customers import repository as repo
from circulo.customers import service as customers
from circulo.customers.indicators import view
from circulo.customers.state import ProfileState
from circulo.errors import ValidationFailed
from circulo.i18n import t
from circulo.identity import service as identity

LOOKUP_KINDS = ("phone", "email", "external_id", "account", "customer_id")
# Where the card's suggestions come from (journeys' next best actions), registered at start-up
# by circulo.wiring: journeys build on customers, not the other way round.
SuggestionSource = Callable[[Session, str, str, datetime], list[dict[str, Any]]]
suggestion_sources: hooks.Registry[SuggestionSource] = hooks.Registry("card suggestions")
# Sections of the card that packages above customers add (churn: the risk and its reasons),
# by name; a section with nothing to say answers None and is left out.
CardSection = Callable[[Session, str, str, datetime], dict[str, Any] | None]
card_sections: hooks.Registry[CardSection] = hooks.Registry("card sections")


def lookup_card(
    session: Session,
    *,
    query: dict[str, str],
    role: str,
    lang: str,
    postal_code: str | None,
    settings: Settings,
    templates: cards.Templates,
    policies: customers.Policies,
    now: datetime,
) -> dict[str, Any]:
    given = {k: v for k, v in query.items() if v}
    if len(given) != 1:
        raise ValidationFailed(
            "give exactly one of: " + ", ".join(LOOKUP_KINDS),
            errors=[{"field": "query", "code": "one_identifier",
                     "detail": f"got {sorted(given) or 'none'}"}],
        )
    if role not in templates.roles:
        raise ValidationFailed(f"unknown role '{role}'", errors=[
            {"field": "role", "code": "unknown_role",
             "detail": f"expected one of {sorted(templates.roles)}"}])
    kind, value = next(iter(given.items()))
    if kind == "customer_id":
        profiles = [customers.active_root(session, value)]
    else:
        ids = identity.find_customers(session, identity.normalize_lookup(kind, value, settings))
        profiles = customers.profiles_by_ids(session, ids)
    narrowed_by = None
    if len(profiles) > 1 and postal_code:
        hinted = [p for p in profiles if str(p.traits.get("postal_code", "")) == postal_code]
        if len(hinted) == 1:
            profiles, narrowed_by = hinted, "postal_code"
    if not profiles:
        return {"match": "none", "card": cards.new_caller_card(lang), "candidates": []}
    if len(profiles) > 1:
        ids = [p.id for p in profiles]
        contacts = identity.contact_points_of(session, ids)
        open_counts = customers.open_record_counts(session, ids)
        asked = value.strip().lower() if kind == "email" else None
        return {
            "match": "ambiguous", "card": None,
            "hint": t("card.ambiguous.hint", lang),
            "candidates": [
                _candidate(p, role, lang, templates, policies, now,
                           email=_email_to_show(contacts.get(p.id, []), asked),
                           open_records=open_counts.get(p.id, 0))
                for p in sorted(profiles, key=lambda p: p.indicators.get("last_contact_at") or "",
                                reverse=True)
            ],
        }
    profile = profiles[0]
    card = render_card(session, profile, role, lang, settings=settings, templates=templates,
                       policies=policies, now=now)
    # Next best actions (S6-S10 journeys' suggestions) for the agent to take or dismiss.
    card["suggestions"] = [item for section in suggestion_sources.handlers()
                           for item in section(session, profile.id, lang, now)]
    for name in card_sections.names():
        add = card_sections.get(name)
        extra = add(session, profile.id, lang, now) if add is not None else None
        if extra is not None:
            card[name] = extra
    result: dict[str, Any] = {"match": "unique", "card": card, "candidates": []}
    if narrowed_by:
        result["narrowed_by"] = narrowed_by
    return result


def mask_email(address: str) -> str:
    """``m****@example.cat``: enough for the agent to ask "is your address the one that
    starts with m?", not enough to read another customer's address out."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}****@{domain}"


def _email_to_show(contacts: list[tuple[str, str]], asked: str | None) -> str | None:
    """The candidate's oldest e-mail that is not the one looked up (shared by them all)."""
    emails = [v for k, v in contacts if k == "email" and v != asked]
    return mask_email(emails[0]) if emails else None


def _candidate(profile: ProfileState, role: str, lang: str, templates: cards.Templates,
               policies: customers.Policies, now: datetime, *, email: str | None,
               open_records: int) -> dict[str, Any]:
    """What tells candidates apart without revealing their data: the name, a masked
    e-mail, when they last got in touch, how many open records they have, their badges."""
    indicators = view(profile.indicators, policies.indicators, now)
    return {
        "customer_id": profile.id,
        "name": profile.display_name,
        "email": email,
        "open_records": open_records,
        "last_contact_at": indicators["last_contact_at"],
        "badges": cards.evaluate_badges(
            templates, templates.roles[role].badges, profile.traits, indicators,
            {"id": profile.id, "age_days": cards.customer_age_days(
                profile.traits, indicators, profile.created_at, now)}, lang),
    }


def render_card(session: Session, profile: ProfileState, role: str, lang: str, *,
                settings: Settings, templates: cards.Templates, policies: customers.Policies,
                now: datetime) -> dict[str, Any]:
    spec = templates.roles[role]
    open_records = [
        {"kind": r.kind, "key": r.key, "status": r.status, "title": r.title,
         "amount": r.amount, "currency": r.currency, "opened_at": r.opened_at.isoformat(),
         "updated_at": r.updated_at.isoformat()}
        for r in repo.open_records(session, profile.id, limit=50)
    ]
    history = [
        {"occurred_at": e.occurred_at.isoformat(), "type": e.type, "channel": e.channel,
         "reason": (e.properties or {}).get("reason") or (e.properties or {}).get("disposition")}
        for e in repo.recent_of_types(session, profile.id, policies.contact_types_sorted,
                                      spec.history)
    ]
    return cards.render(
        templates, role, lang, customer_id=profile.id, created_at=profile.created_at,
        traits=profile.traits, indicators=view(profile.indicators, policies.indicators, now),
        open_records=open_records, history=history,
        links=_links(session, profile.id, settings), now=now,
    )


def _links(session: Session, profile_id: str, settings: Settings) -> dict[str, str]:
    """Screen-pop URLs (S4): each configured template whose placeholders this customer has,
    filled with its external ids (URL-quoted) or its Círculo id."""
    if not settings.screen_pop_urls:
        return {}
    values = {"customer_id": profile_id}
    for ident in identity.identifiers_of(session, profile_id):
        if ident.kind == "external_id":
            namespace, _, value = ident.value.partition(":")
            values.setdefault(namespace, value)
    links = {}
    for name, template in settings.screen_pop_urls.items():
        fields = [f for _, f, _, _ in Formatter().parse(template) if f]
        if all(f in values for f in fields):
            links[name] = template.format(**{f: quote(values[f], safe="") for f in fields})
    return links


def screen_pop_links(session: Session, profile_id: str, settings: Settings) -> dict[str, str]:
    """The customer's screen-pop URLs (S4), by name, for the agent's desk."""
    return _links(session, profile_id, settings)
