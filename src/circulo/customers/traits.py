"""Trait reconciliation with provenance. Pure.

Each trait value carries ``{"source", "at"}`` in ``trait_meta``. A new value replaces the
current one when its source ranks higher, or ranks the same and is at least as recent
("most recent wins" is the default policy: with no ranking every source ranks the same).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Traits with a meaning Círculo relies on; any other trait is kept as given.
WELL_KNOWN = {
    "name", "first_name", "last_name", "title", "preferred_name", "language",
    "preferred_channel", "tier", "segment", "birthday", "postal_code", "city", "country",
    "company", "advisor", "churn_risk", "customer_since", "timezone", "gender",
    "address", "national_id", "social_security",
}
# A customer may speak any language (BCP 47 tag); Círculo itself speaks es and en.
LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
CHANNELS = {"voice", "email", "sms", "whatsapp", "chat", "push", "mail", "none"}
# Each event is bounded at ingest; this bounds what many events accumulate on one profile.
MAX_PROFILE_TRAITS = 500


@dataclass(frozen=True, slots=True)
class TraitPolicy:
    source_ranking: tuple[str, ...] = ()
    field_ranking: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def rank(self, field_name: str, source: str) -> int:
        order = self.field_ranking.get(field_name, self.source_ranking)
        try:
            return order.index(source)
        except ValueError:
            return len(order)


def apply_traits(
    traits: dict[str, Any],
    meta: dict[str, Any],
    incoming: dict[str, Any],
    *,
    source: str,
    at: datetime,
    policy: TraitPolicy,
) -> list[str]:
    """Reconcile ``incoming`` into ``traits``/``meta`` in place; return the changed fields.
    A ``None`` value unsets the trait (if it wins)."""
    changed = []
    stamp = at.isoformat()
    for name, value in incoming.items():
        current = meta.get(name)
        if current is None and len(meta) >= MAX_PROFILE_TRAITS:
            continue  # a new name on a full profile is not kept (documented in events.md)
        if current is not None:
            new_rank = policy.rank(name, source)
            old_rank = policy.rank(name, current["source"])
            if new_rank > old_rank or (new_rank == old_rank and stamp < current["at"]):
                continue
        if value is None:
            if name in traits:
                traits.pop(name)
                changed.append(name)
            meta[name] = {"source": source, "at": stamp}
            continue
        if traits.get(name) != value:
            traits[name] = value
            changed.append(name)
        meta[name] = {"source": source, "at": stamp}
    return changed


def merge_traits(
    into: tuple[dict[str, Any], dict[str, Any]],
    other: tuple[dict[str, Any], dict[str, Any]],
    policy: TraitPolicy,
) -> None:
    """Fold another profile's traits into ``into`` field by field, by the same policy."""
    traits, meta = into
    other_traits, other_meta = other
    for name, provenance in other_meta.items():
        apply_traits(
            traits, meta, {name: other_traits.get(name)},
            source=provenance["source"], at=datetime.fromisoformat(provenance["at"]),
            policy=policy,
        )


def display_name(traits: dict[str, Any]) -> str | None:
    name = traits.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()[:200]
    parts = [traits.get("first_name"), traits.get("last_name")]
    joined = " ".join(str(p).strip() for p in parts if p)
    return joined[:200] or None


def apply_consent(
    consent: dict[str, Any], channel: str, purpose: str, granted: bool, *, source: str,
    at: datetime,
) -> bool:
    """Per channel and purpose; the most recent statement wins whatever its source."""
    stamp = at.isoformat()
    slot = consent.setdefault(channel, {})
    current = slot.get(purpose)
    if current is not None and current["at"] > stamp:
        return False
    slot[purpose] = {"granted": granted, "at": stamp, "source": source}
    return True


def merge_consent(into: dict[str, Any], other: dict[str, Any]) -> None:
    for channel, purposes in other.items():
        for purpose, statement in purposes.items():
            apply_consent(
                into, channel, purpose, statement["granted"], source=statement["source"],
                at=datetime.fromisoformat(statement["at"]),
            )


def has_consent(consent: dict[str, Any], channel: str, purpose: str) -> bool | None:
    """True/False when the customer said so; None when they never did."""
    statement = consent.get(channel, {}).get(purpose)
    return None if statement is None else bool(statement["granted"])


MAX_CONTACTS = 5  # e-mails (and phones) kept per source: the most recent
MAX_CONTACT_SOURCES = 12


def apply_contacts(contacts: dict[str, Any], identifiers: dict[str, Any], source: str) -> bool:
    """Remember which e-mails and phones ``source`` stated (the most recent few per source,
    the most recently heard sources). ``identifiers`` as events store them: one value or a
    list per kind. Returns whether anything changed."""
    changed = False
    for kind in ("email", "phone"):
        given = identifiers.get(kind)
        if given is None:
            continue
        values = [given] if isinstance(given, str) else [
            v for v in given if isinstance(v, str)]
        known = contacts.get(source, {}).get(kind, ())
        if all(v in known for v in values):  # the usual case: nothing new
            continue
        slot = contacts.setdefault(source, {})
        kept = slot.get(kind, [])
        for value in values:
            if value in kept:
                continue
            kept = [*kept, value][-MAX_CONTACTS:]
            changed = True
        slot[kind] = kept
    if changed:
        # A source heard again moves last; the longest silent is forgotten first.
        contacts[source] = contacts.pop(source)
        while len(contacts) > MAX_CONTACT_SOURCES:
            contacts.pop(next(iter(contacts)))
    return changed


def merge_contacts(into: dict[str, Any], other: dict[str, Any]) -> None:
    for source, kinds in other.items():
        apply_contacts(into, kinds, source)


def contact_triples(contacts: dict[str, Any]) -> tuple[tuple[str, str, str], ...]:
    """The kept contacts as (source, kind, value)."""
    return tuple((source, kind, value) for source, kinds in contacts.items()
                 for kind in ("email", "phone") for value in kinds.get(kind, ()))
