"""Access to a person's data (GDPR article 15; S20). Erasure is ``circulo.privacy.erasure``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from circulo import hooks
from circulo.customers import repository as repo
from circulo.customers import service as customers
from circulo.customers.records import record_view
from circulo.customers.views import event_view, profile_view
from circulo.identity import service as identity

# What packages above customers hold of a person (speech: recordings and transcripts), each
# under its own key of the export; registered at start-up (circulo.wiring).
ExportSection = Callable[[Session, Sequence[str]], list[dict[str, Any]]]
export_sections: hooks.Registry[ExportSection] = hooks.Registry("export sections")


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
    export_sections.handlers()  # wired at all?
    cluster = customers.cluster_of(session, root)
    for name in export_sections.names():
        section = export_sections.get(name)
        if section is not None:
            data[name] = section(session, cluster)
    return data
