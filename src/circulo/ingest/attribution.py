"""Who is speaking: an agent confirms one of an ambiguous contact's candidates.

The contact (an event stored as ``ambiguous``) becomes that customer's: it counts in their
indicators and its record is theirs. Nothing is merged and no identifier moves: the family
landline stays shared. The confirmation itself is an event on the customer's timeline
(``identity.confirmed``), ingested like any other, so webhooks and journeys see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from circulo.config import Settings
from circulo.customers import card_service, cards
from circulo.customers import service as customers
from circulo.errors import Conflict, NotFound
from circulo.identity import service as identity
from circulo.identity.normalize import Identifier, Kind
from circulo.ingest import service as ingest

CONFIRMED = "identity.confirmed"


@dataclass(frozen=True, slots=True)
class Confirmed:
    customer_id: str
    event_id: str | None  # the contact now attributed, when one was given
    confirmation_id: str | None  # the identity.confirmed event (None when repeated)
    candidates: list[str]
    card: dict[str, Any]  # the customer's card, for the agent


def confirm_caller(session: Session, *, customer_id: str, event_id: str | None,
                   lookup: tuple[str, str] | None, role: str, lang: str, actor: str,
                   settings: Settings, templates: cards.Templates,
                   policies: customers.Policies, now: datetime) -> Confirmed:
    """The agent says who is speaking: ``event_id`` (the ambiguous contact) or ``lookup``
    (the identifier they looked up: kind and value) names the candidates."""
    identifier = identity.normalize_lookup(*lookup, settings) if lookup else None
    chosen = confirm(session, customer_id=customer_id, event_id=event_id, lookup=identifier,
                     actor=actor, settings=settings, policies=policies, now=now)
    card = card_service.lookup_card(
        session, query={"customer_id": chosen.customer_id}, role=role, lang=lang,
        postal_code=None, settings=settings, templates=templates,
        policies=policies, now=now)["card"]
    return Confirmed(chosen.customer_id, chosen.event_id, chosen.confirmation_id,
                     chosen.candidates, card)


@dataclass(frozen=True, slots=True)
class _Chosen:
    customer_id: str
    event_id: str | None
    confirmation_id: str | None
    candidates: list[str]


def _roots(session: Session, ids: list[str]) -> list[str]:
    roots = []
    for pid in ids:
        try:
            root = customers.active_root(session, pid).id
        except NotFound:  # erased since
            continue
        if root not in roots:
            roots.append(root)
    return roots


def confirm(session: Session, *, customer_id: str, event_id: str | None,
            lookup: Identifier | None, actor: str, settings: Settings,
            policies: customers.Policies, now: datetime) -> _Chosen:
    chosen = customers.active_root(session, customer_id)
    # The ingest of the confirmation takes this lock before the profile's row: so do we.
    identity.lock(session, [Identifier(Kind.CUSTOMER_ID, chosen.id).key])
    properties: dict[str, object] = {"confirmed_by": actor}
    channel = None
    event = None
    if event_id is not None:
        event = customers.get_event(session, event_id, for_update=True)
        if event is None:
            raise NotFound(f"event '{event_id}' does not exist", field="event_id")
        if event.resolution == "confirmed" and event.profile_id == chosen.id:
            return _Chosen(chosen.id, event.id, None, [chosen.id])  # said twice: same answer
        if event.resolution != "ambiguous":
            raise Conflict(f"event '{event_id}' already belongs to a customer "
                           f"({event.resolution}): there is no one to choose",
                           field="event_id")
        candidates = _roots(session, list(event.candidates or []))
        channel = event.channel
        properties.update({"event_id": event.id, "event_type": event.type,
                           "identifiers": event.identifiers})
    elif lookup is not None:
        candidates = _roots(session, identity.find_customers(session, lookup))
        properties["identifiers"] = {lookup.kind.value: lookup.value}
    else:  # pragma: no cover - the API requires one
        raise Conflict("say which contact or identifier was ambiguous", field="event_id")
    if chosen.id not in candidates:
        raise Conflict(f"customer '{customer_id}' is not one of the candidates "
                       f"({len(candidates)})", field="customer_id")
    if event_id is not None and event is not None:
        profile = customers.load_profiles(session, [chosen.id], for_update=True)[chosen.id]
        customers.attribute_event(session, event, profile, policies, now)
    properties["candidates"] = len(candidates)
    result = ingest.ingest(session, {"events": [{
        "type": CONFIRMED, "source": "circulo", "channel": channel,
        "identifiers": {"customer_id": chosen.id}, "properties": properties,
    }]}, settings=settings, policies=policies, now=now, actor=actor)
    return _Chosen(chosen.id, event_id, result.results[0].event_id, candidates)
