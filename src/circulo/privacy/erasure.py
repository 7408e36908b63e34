"""Erasure (GDPR article 17) across every table that holds something of a customer.

``STEPS`` is the registry: each step names the tables it handles and how. A test walks the
whole SQLAlchemy metadata and fails on any customer-keyed table no step names, so a table
added later cannot be forgotten. After the data goes, the identifiers only this person held
are suppressed (``suppression``), and webhook subscribers are told (article 19).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from circulo.campaigns import repository as campaigns
from circulo.churn import service as churn
from circulo.config import Settings
from circulo.connectors import repository as outbox_repo
from circulo.connectors import service as outbox
from circulo.customers import desk as customer_desk
from circulo.customers import service as customers
from circulo.identity import service as identity
from circulo.identity import suppression
from circulo.ids import new_id
from circulo.journeys import repository as journeys
from circulo.routing import service as routing
from circulo.speech import service as speech
from circulo.surveys import repository as surveys
from circulo.textan import repository as textan

ERASED_EVENT = "customer.erased"


@dataclass(frozen=True, slots=True)
class Step:
    tables: tuple[str, ...]
    how: str
    run: Callable[[Session, Sequence[str], datetime], Mapping[str, int]]


def _campaign_members(session: Session, ids: Sequence[str], now: datetime) -> dict[str, int]:
    return {"campaign_members": campaigns.delete_members_of(session, ids)}


def _tombstones(session: Session, ids: Sequence[str], now: datetime) -> dict[str, int]:
    profiles = customers.load_profiles(session, ids, for_update=True)
    for profile in profiles.values():
        profile.status = "erased"
        profile.merged_into = None
        profile.display_name = None
        profile.traits, profile.trait_meta, profile.consent, profile.indicators = {}, {}, {}, {}
        profile.contacts = {}
        profile.pin_hash = None
        profile.updated_at = now
        customers.mark_dirty(profile)
    customers.save(session, profiles.values())
    return {"profiles": len(profiles)}


# In order: what acts on the person (tasks, journeys, campaigns, messages) stops first.
STEPS: tuple[Step, ...] = (
    Step(("survey_invitations", "survey_responses"),
         "survey invitations deleted; responses keep their scores (for the figures) without "
         "the customer or the comment",
         lambda session, ids, now: surveys.erase_customers(session, ids)),
    Step(("tasks", "routing_overrides"),
         "waiting and offered tasks canceled; every task's identifiers, attributes, customer "
         "snapshot, reason, notes and captured data scrubbed and its customer unset; routing "
         "overrides deleted", routing.erase_customers),
    Step(("journey_instances", "journey_actions", "journey_inbox", "journey_customers",
          "customer_lists", "suggestions"),
         "running instances ended (exit 'erased') and their variables, waits and timers "
         "cleared; action details cleared (kind and outcome kept); inbox entries, journey "
         "state, list memberships and next-best-action suggestions deleted",
         journeys.erase_customers),
    Step(("text_inbox",), "messages waiting for text analysis deleted (their events go too)",
         lambda session, ids, now: textan.erase_customers(session, ids)),
    Step(("campaign_members",), "memberships deleted (with the sender's member key)",
         _campaign_members),
    Step(("outbox", "delivery_attempts"),
         "messages about the customer canceled if still open; every payload replaced by its "
         "type alone and error texts cleared", outbox_repo.erase_customers),
    Step(("identifiers", "shared_identifiers", "merge_log", "identity_suggestions",
          "dedupe_pairs"),
         "identifiers and their shared flags deleted; merge-log reason and event cleared (ids "
         "kept); review suggestions closed without evidence; dedupe pairs deleted",
         identity.erase),
    Step(("recordings",),
         "recorded calls and their transcripts deleted; the audio files removed from disk "
         "when the erasure commits", speech.erase),

    Step(("churn_scores",), "the churn score and its reasons deleted (the trained models "
         "hold coefficients, no customer)", churn.erase_customers),
    Step(("customer_notes", "customer_viewers"),
         "agents' notes on the customer and the record of who had the card open deleted",
         customer_desk.erase),
    Step(("events", "records", "pin_attempts"),
         "deleted, wherever they started or were moved by merges; the wrong-PIN counter too",
         lambda session, ids, now: customers.delete_owned(session, ids)),
    Step(("profiles",), "kept as a tombstone (id, status 'erased', times) without traits, "
         "consent, indicators, contacts, PIN or name", _tombstones),
)
HANDLED: dict[str, str] = {table: step.how for step in STEPS for table in step.tables}


@dataclass(slots=True)
class ErasureResult:
    customer_id: str
    erased_profiles: int
    erased_at: str
    removed: dict[str, int] = field(default_factory=dict)
    suppressed_identifiers: int = 0
    webhooks: int = 0


def erase(session: Session, profile_id: str, settings: Settings, now: datetime
          ) -> ErasureResult:
    """Remove the person's data from every table, in the caller's transaction."""
    root = customers.active_root(session, profile_id).id
    cluster = customers.cluster_of(session, root)
    # Ingest locks identifiers, then profiles; the same order here: an event about the person
    # arriving meanwhile waits, then meets the suppression list.
    identity.lock(session, [f"{kind}:{value}" for kind, value in
                            identity.identifiers_for_erasure(session, cluster)])
    customers.load_profiles(session, cluster, for_update=True)
    identifiers = identity.identifiers_for_erasure(session, cluster)
    external_ids = _external_ids(identifiers)
    result = ErasureResult(root, len(cluster), now.isoformat())
    for step in STEPS:
        result.removed.update(step.run(session, cluster, now))
    # An identifier somebody else still holds (a family's phone) keeps working for them.
    held = identity.still_held(session, identifiers)
    result.suppressed_identifiers = suppression.suppress(
        session, settings, [p for p in set(identifiers) if p not in held], now)
    result.webhooks = outbox.enqueue_events(session, [{
        "id": new_id(), "type": ERASED_EVENT, "occurred_at": now.isoformat(),
        "customer_id": root, "erased_ids": sorted(cluster), "erased_at": now.isoformat(),
        "external_ids": external_ids}], now)
    return result


def _external_ids(identifiers: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """The sources' own ids of the person (``crm:C-1`` → {"crm": ["C-1"]}): recipients find
    their record with them. E-mails, phones and accounts are never sent."""
    grouped: dict[str, set[str]] = {}
    for kind, value in identifiers:
        if kind == "external_id" and ":" in value:
            namespace, own = value.split(":", 1)
            grouped.setdefault(namespace, set()).add(own)
    return {namespace: sorted(values) for namespace, values in sorted(grouped.items())}
