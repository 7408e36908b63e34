"""Access and erasure of a person's data (GDPR articles 15 and 17; S20)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from circulo.customers import repository as repo
from circulo.customers import service as customers
from circulo.customers.records import record_view
from circulo.customers.views import event_view, profile_view
from circulo.identity import service as identity


def export(session: Session, profile_id: str, policies: customers.Policies,
           now: datetime) -> dict[str, Any]:
    """Everything held about the person: profile, identifiers, records, events, merges."""
    data = profile_view(session, profile_id, policies, now)
    root = data["id"]
    merges = identity.merges_for(session, customers.cluster_of(session, root), limit=10_000)
    data.update({
        "exported_at": now.isoformat(),
        "records": [record_view(r) for r in repo.records_of(session, root, limit=1_000_000)],
        "events": [event_view(e) for e in reversed(repo.events_in_order(session, root))],
        "merges": [
            {"id": m.id, "action": m.action, "survivor_id": m.survivor_id,
             "absorbed_id": m.absorbed_id, "reason": m.reason, "at": m.created_at.isoformat()}
            for m in merges
        ],
    })
    return data


def erase(session: Session, profile_id: str, now: datetime) -> dict[str, Any]:
    """Remove personal data: identifiers, events, records, traits, consent, PIN, and the
    person's traces in the merge log. A tombstone row (no personal data) keeps the id so that
    later references answer 404 instead of resolving to somebody else."""
    root = customers.active_root(session, profile_id)
    cluster = customers.cluster_of(session, root.id)
    profiles = customers.load_profiles(session, cluster, for_update=True)
    removed = identity.erase(session, cluster, now)
    removed.update(repo.delete_owned(session, cluster))
    for profile in profiles.values():
        profile.status = "erased"
        profile.merged_into = None
        profile.display_name = None
        profile.traits, profile.trait_meta, profile.consent, profile.indicators = {}, {}, {}, {}
        profile.contacts = {}
        profile.pin_hash = None
        profile.updated_at = now
        profile.dirty = True
    customers.save(session, profiles.values())
    return {"customer_id": root.id, "erased_profiles": len(cluster), "removed": removed,
            "erased_at": now.isoformat()}
