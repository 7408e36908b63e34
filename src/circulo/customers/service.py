"""Business rules of customer profiles: applying events, records, merges and recomputation.

Services never commit: the caller's unit of work does.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from circulo.config import Settings
from circulo.customers import repository as repo
from circulo.customers.indicators import (
    EventFacts,
    IndicatorConfig,
    apply_record_change,
    combine,
    fold_event,
)
from circulo.customers.models import Event
from circulo.customers.records import RecordSpec, counted_value, record_view, spec_from_event
from circulo.customers.state import ProfileEvidence, ProfileState
from circulo.customers.traits import (
    TraitPolicy,
    apply_consent,
    apply_contacts,
    apply_traits,
    contact_triples,
    display_name,
    merge_consent,
    merge_contacts,
    merge_traits,
)
from circulo.errors import NotFound

PIN_ITERATIONS = 20_000


@dataclass(frozen=True, slots=True)
class Policies:
    traits: TraitPolicy
    indicators: IndicatorConfig
    contact_types_sorted: tuple[str, ...]  # for queries: computed once, not per card


def policies_for(settings: Settings) -> Policies:
    return Policies(
        traits=TraitPolicy(
            source_ranking=tuple(settings.source_ranking),
            field_ranking={k: tuple(v) for k, v in settings.field_source_ranking.items()},
        ),
        indicators=IndicatorConfig(
            tz=ZoneInfo(settings.timezone), contact_types=frozenset(settings.contact_types)
        ),
        contact_types_sorted=tuple(sorted(set(settings.contact_types))),
    )


@dataclass(slots=True)
class Incoming:
    """One accepted event, as the profile sees it."""

    event_id: str
    type: str
    source: str
    channel: str | None
    occurred_at: datetime
    traits: dict[str, Any] = field(default_factory=dict)
    consent: list[dict[str, Any]] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    record: dict[str, Any] | None = None
    identifiers: dict[str, Any] = field(default_factory=dict)  # as stored: kind -> value(s)

    @classmethod
    def from_row(cls, event: Event) -> Incoming:
        extra = event.extra or {}
        return cls(
            event_id=event.id, type=event.type, source=event.source, channel=event.channel,
            occurred_at=event.occurred_at, traits=dict(event.traits or {}),
            consent=list(extra.get("consent") or []), properties=dict(event.properties or {}),
            record=extra.get("record"), identifiers=dict(event.identifiers or {}),
        )


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, PIN_ITERATIONS)
    return f"{salt.hex()}${digest.hex()}"


def verify_pin(stored: str | None, pin: str) -> bool:
    if not stored:
        return False
    salt_hex, digest_hex = stored.split("$", 1)
    candidate = hash_pin(pin, bytes.fromhex(salt_hex)).split("$", 1)[1]
    return hmac.compare_digest(candidate, digest_hex)


def new_profile(profile_id: str, now: datetime) -> ProfileState:
    return ProfileState.new(profile_id, now)


def mark_dirty(profile: ProfileState) -> None:
    profile.dirty = True


def save(session: Session, profiles: Iterable[ProfileState]) -> None:
    """Stage the writes of new and changed profiles in the current transaction."""
    repo.save_profiles(session, profiles)


def apply_event(profile: ProfileState, event: Incoming, policies: Policies, now: datetime) -> None:
    """Fold one event into a profile held in memory (traits, consent, indicators)."""
    if event.traits:
        traits = dict(event.traits)
        pin = traits.pop("pin", None)
        # The PIN reconciles like a trait (its provenance in trait_meta), stored only hashed.
        if pin is not None and apply_traits({}, profile.trait_meta, {"pin": True},
                                            source=event.source, at=event.occurred_at,
                                            policy=policies.traits):
            profile.pin_hash = hash_pin(str(pin))
        if traits:
            apply_traits(profile.traits, profile.trait_meta, traits, source=event.source,
                         at=event.occurred_at, policy=policies.traits)
            profile.display_name = display_name(profile.traits)
    for statement in event.consent:
        apply_consent(profile.consent, statement["channel"], statement["purpose"],
                      bool(statement["granted"]), source=event.source, at=event.occurred_at)
    if event.traits and event.identifiers:
        # An event that describes the person is a record of its source: the e-mails and
        # phones it gives are that source's for them (calls and orders only use one).
        apply_contacts(profile.contacts, event.identifiers, event.source)
    fold_event(
        profile.indicators,
        EventFacts(event.type, event.channel, event.occurred_at, event.properties),
        policies.indicators, now,
    )
    profile.updated_at = now
    mark_dirty(profile)


@dataclass(slots=True)
class RecordWork:
    profile_id: str
    origin_profile_id: str
    source: str
    occurred_at: datetime
    spec: RecordSpec


def spec_for(event_type: str, properties: dict[str, Any] | None,
             record: dict[str, Any] | None) -> RecordSpec | None:
    return spec_from_event(event_type, properties or {}, record)


def existing_client_ids(session: Session, pairs: Sequence[tuple[str, str]]
                        ) -> dict[tuple[str, str], tuple[str, str | None, str]]:
    return repo.existing_client_ids(session, pairs)


def insert_events(session: Session, rows: list[dict[str, Any]]) -> None:
    repo.insert_events(session, rows)


def events_by_ids(session: Session, ids: Sequence[str]) -> dict[str, Event]:
    return repo.events_by_ids(session, ids)


def store_analyses(session: Session, analyses: dict[str, dict[str, Any]]) -> None:
    """Each event's text analysis (``Analysis.as_dict()``), by event id."""
    repo.set_analyses(session, analyses)


def upsert_records(session: Session, work: Sequence[RecordWork], profiles: dict[str, ProfileState],
                   now: datetime) -> None:
    """Create or update records, keeping open-record counts and lifetime value current.
    A status only moves forward in time: a late event never reopens a closed record."""
    if not work:
        return
    keys = [(w.spec.kind, w.source, w.spec.key) for w in work]
    existing = repo.records_by_keys(session, keys)
    created: dict[tuple[str, str, str], dict[str, Any]] = {}
    changed: dict[tuple[str, str, str], dict[str, Any]] = {}
    for item in sorted(work, key=lambda w: w.occurred_at):
        key = (item.spec.kind, item.source, item.spec.key)
        spec = item.spec
        row = created.get(key) or changed.get(key) or existing.get(key)
        if row is None:
            created[key] = _new_record(item)
            apply_record_change(
                profiles[item.profile_id].indicators, spec.kind, was_open=None,
                is_open=spec.is_open, counted_before=0.0,
                counted_after=counted_value(spec.kind, spec.status, spec.amount),
            )
            mark_dirty(profiles[item.profile_id])
            continue
        if key not in created:
            changed[key] = row
        _update_record(row, spec, item.occurred_at, profiles.get(row["profile_id"]), now)
    repo.insert_records(session, list(created.values()))
    repo.update_records(session, list(changed.values()))


def _new_record(item: RecordWork) -> dict[str, Any]:
    spec = item.spec
    return {
        "profile_id": item.profile_id, "origin_profile_id": item.origin_profile_id,
        "kind": spec.kind, "source": item.source, "key": spec.key, "status": spec.status,
        "is_open": spec.is_open, "title": spec.title, "amount": spec.amount,
        "currency": spec.currency,
        "data": {**spec.data, "_status_at": item.occurred_at.isoformat()},
        "opened_at": item.occurred_at, "updated_at": item.occurred_at,
        "closed_at": None if spec.is_open else item.occurred_at,
    }


def _update_record(row: dict[str, Any], spec: RecordSpec, occurred_at: datetime,
                   owner: ProfileState | None, now: datetime) -> None:
    """Apply a later (or late) event to a record row in place; keep its owner's indicators."""
    stamp = occurred_at.isoformat()
    data = dict(row["data"] or {})
    old_open, old_status, old_amount = bool(row["is_open"]), str(row["status"]), row["amount"]
    data.update(spec.data)
    if stamp >= data.get("_status_at", ""):
        data["_status_at"] = stamp
        row["status"], row["is_open"] = spec.status, spec.is_open
        row["closed_at"] = None if spec.is_open else occurred_at
        row["updated_at"] = max(occurred_at, row["updated_at"])
    row["title"] = spec.title or row["title"]
    row["currency"] = spec.currency or row["currency"]
    row["amount"] = spec.amount if spec.amount is not None else old_amount
    row["data"] = data
    if owner is not None:
        apply_record_change(
            owner.indicators, spec.kind, was_open=old_open, is_open=bool(row["is_open"]),
            counted_before=counted_value(spec.kind, old_status, old_amount),
            counted_after=counted_value(spec.kind, str(row["status"]), row["amount"]),
        )
        owner.updated_at = now
        mark_dirty(owner)


# --- merge, split, recompute ----------------------------------------------------------------

def absorb(session: Session, survivor: ProfileState, absorbed: ProfileState, policies: Policies,
           now: datetime) -> None:
    """Everything ``absorbed`` held now belongs to ``survivor``; state combined, not replayed."""
    repo.move_owned(session, absorbed.id, survivor.id)
    merge_traits((survivor.traits, survivor.trait_meta),
                 (absorbed.traits, absorbed.trait_meta), policies.traits)
    merge_consent(survivor.consent, absorbed.consent)
    merge_contacts(survivor.contacts, absorbed.contacts)
    survivor.indicators = combine(survivor.indicators, absorbed.indicators)
    survivor.display_name = display_name(survivor.traits)
    survivor.pin_hash = survivor.pin_hash or absorbed.pin_hash
    survivor.updated_at = now
    absorbed.status = "merged"
    absorbed.merged_into = survivor.id
    absorbed.updated_at = now
    mark_dirty(survivor)
    mark_dirty(absorbed)


def delete_owned(session: Session, profile_ids: Sequence[str]) -> dict[str, int]:
    """Erasure: the events and records of these profiles, wherever they started or are."""
    return repo.delete_owned(session, profile_ids)


def cluster_of(session: Session, profile_id: str) -> list[str]:
    """The profile and every profile merged into it, directly or through others."""
    cluster = [profile_id]
    frontier = [profile_id]
    while frontier:
        frontier = repo.merged_children(session, frontier)
        cluster.extend(frontier)
    return cluster


def active_roots(session: Session, profile_ids: Sequence[str]) -> dict[str, str]:
    """Each id's active root (following merges) in one read for the common case; ids that
    do not exist or were erased are left out."""
    found = repo.get_profiles(session, profile_ids)
    roots: dict[str, str] = {}
    for profile_id in set(profile_ids):
        profile = found.get(profile_id)
        if profile is None or profile.status == "erased":
            continue
        if profile.status == "merged" and profile.merged_into:
            try:  # rare: follow the chain one by one
                roots[profile_id] = active_root(session, profile_id).id
            except NotFound:
                continue
        else:
            roots[profile_id] = profile.id
    return roots


def active_root(session: Session, profile_id: str) -> ProfileState:
    """Follow merges to the profile that holds this customer now."""
    seen: set[str] = set()
    profile = repo.get_profiles(session, [profile_id]).get(profile_id)
    while profile is not None and profile.status == "merged" and profile.merged_into:
        if profile.id in seen:
            break
        seen.add(profile.id)
        profile = repo.get_profiles(session, [profile.merged_into]).get(profile.merged_into)
    if profile is None or profile.status == "erased":
        raise NotFound(f"customer '{profile_id}' does not exist", field="customer_id")
    return profile


def restore(session: Session, profile: ProfileState, origins: Sequence[str]) -> None:
    """Give back to ``profile`` the events and records that originated in ``origins``."""
    repo.restore_owned(session, origins, profile.id)
    profile.status = "active"
    profile.merged_into = None
    mark_dirty(profile)


def recompute(session: Session, profile: ProfileState, policies: Policies, now: datetime) -> None:
    """Rebuild a profile's derived state from its events and records (after an undo)."""
    profile.traits, profile.trait_meta, profile.consent, profile.indicators = {}, {}, {}, {}
    profile.contacts = {}
    for event in repo.events_in_order(session, profile.id):
        apply_event(profile, Incoming.from_row(event), policies, now)
    for record in repo.records_of(session, profile.id, limit=1_000_000):
        apply_record_change(
            profile.indicators, record.kind, was_open=None, is_open=record.is_open,
            counted_before=0.0,
            counted_after=counted_value(record.kind, record.status, record.amount),
        )
    profile.display_name = display_name(profile.traits)
    profile.updated_at = now
    mark_dirty(profile)


def open_records_of_kind(session: Session, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(customer id, record view) of every open record of a kind, newest first."""
    for record in repo.open_records_of_kind(session, kind):
        yield record.profile_id, record_view(record)


def profiles_by_ids(session: Session, ids: Sequence[str]) -> list[ProfileState]:
    """Active profiles, in the order given (one prebuilt query each: usually one id)."""
    found = [repo.get_profile_state(session, pid) for pid in ids]
    return [p for p in found if p is not None and p.status == "active"]


def load_profiles(session: Session, ids: Iterable[str], *, for_update: bool = False
                  ) -> dict[str, ProfileState]:
    return repo.get_profiles(session, ids, for_update=for_update)


def created_at_of(session: Session, ids: Sequence[str]) -> dict[str, datetime]:
    return repo.created_at_of(session, ids)


def evidence_of(session: Session, ids: Sequence[str]) -> dict[str, ProfileEvidence]:
    """What says who each profile is (identity weighs it)."""
    return {pid: ProfileEvidence(traits, meta, contact_triples(contacts))
            for pid, (traits, meta, contacts) in repo.evidence_of(session, ids).items()}


def active_traits(session: Session) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every active customer's traits (batch jobs: deduplication)."""
    return repo.active_traits(session)


def roots_of_members(session: Session, roots: Sequence[str]) -> dict[str, str]:
    """Every profile merged, directly or through others, into one of ``roots``: its root."""
    root_of: dict[str, str] = {}
    frontier = {r: r for r in roots}
    while frontier:
        found = repo.merged_into_any(session, list(frontier))
        frontier = {child: frontier[parent] for child, parent in found
                    if child not in root_of and child not in roots}
        root_of.update(frontier)
    return root_of


def count_profiles(session: Session) -> int:
    return repo.count_profiles(session)


def get_event(session: Session, event_id: str, *, for_update: bool = False) -> Event | None:
    return repo.get_event(session, event_id, for_update=for_update)


def open_record_counts(session: Session, profile_ids: Sequence[str]) -> dict[str, int]:
    return repo.open_record_counts(session, profile_ids)


def attribute_event(session: Session, event: Event, profile: ProfileState, policies: Policies,
                    now: datetime) -> None:
    """An event stored without a customer (ambiguous) now belongs to ``profile``: it counts
    in their indicators and its record, if any, becomes theirs. Nothing else moves."""
    event.profile_id = event.origin_profile_id = profile.id
    event.resolution = "confirmed"
    incoming = Incoming.from_row(event)
    apply_event(profile, incoming, policies, now)
    spec = spec_for(event.type, event.properties, incoming.record)
    if spec is not None:
        upsert_records(session, [RecordWork(profile.id, profile.id, event.source,
                                             event.occurred_at, spec)], {profile.id: profile},
                       now)
    save(session, [profile])


def open_records_of(session: Session, profile_ids: Sequence[str], limit: int = 20
                    ) -> dict[str, list[Any]]:
    """The open records (orders, tickets, disputes...) of several customers at once, newest
    first, at most ``limit`` each."""
    return repo.open_records_of(session, profile_ids, limit)


def event_types(session: Session) -> list[str]:
    """Every event type stored so far."""
    return repo.event_types(session)


def events_since(session: Session, since: datetime, *, after: tuple[datetime, str] | None,
                 limit: int) -> Sequence[Any]:
    return repo.events_since(session, since, after=after, limit=limit)
