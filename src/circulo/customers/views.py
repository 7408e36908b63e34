"""Read views of a customer: profile, timeline page, records."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from circulo.customers import repository as repo
from circulo.customers import service as customers
from circulo.customers.indicators import view
from circulo.customers.records import record_view
from circulo.errors import ValidationFailed
from circulo.identity import service as identity


def profile_view(session: Session, profile_id: str, policies: customers.Policies,
                 now: datetime) -> dict[str, Any]:
    profile = customers.active_root(session, profile_id)
    return {
        "id": profile.id,
        "requested_id": profile_id if profile_id != profile.id else None,
        "name": profile.display_name,
        "traits": profile.traits,
        "provenance": profile.trait_meta,
        "consent": profile.consent,
        "has_pin": profile.pin_hash is not None,
        "indicators": view(profile.indicators, policies.indicators, now),
        "identifiers": [asdict(i) for i in identity.identifiers_of(session, profile.id)],
        "created_at": profile.created_at.isoformat(),
        "updated_at": profile.updated_at.isoformat(),
    }


def event_view(event: Any) -> dict[str, Any]:
    return {
        "id": event.id, "type": event.type, "source": event.source,
        "client_id": event.client_id, "channel": event.channel,
        "occurred_at": event.occurred_at.isoformat(), "received_at": event.received_at.isoformat(),
        "resolution": event.resolution, "identifiers": event.identifiers,
        "traits": event.traits, "properties": event.properties,
        "consent": (event.extra or {}).get("consent"), "record": (event.extra or {}).get("record"),
    }


def timeline_page(session: Session, profile_id: str, *, limit: int, cursor: str | None
                  ) -> dict[str, Any]:
    profile = customers.active_root(session, profile_id)
    before = None
    if cursor:
        stamp, _, event_id = cursor.partition("~")
        try:
            before = (datetime.fromisoformat(stamp), event_id)
        except ValueError as exc:
            raise ValidationFailed("invalid cursor", errors=[
                {"field": "cursor", "code": "invalid_cursor",
                 "detail": "use the next_cursor value of the previous page"}]) from exc
    events = repo.timeline(session, profile.id, limit=limit + 1, before=before)
    page = events[:limit]
    next_cursor = None
    if len(events) > limit:
        last = page[-1]
        next_cursor = f"{last.occurred_at.isoformat()}~{last.id}"
    return {"customer_id": profile.id, "events": [event_view(e) for e in page],
            "next_cursor": next_cursor}


def records_page(session: Session, profile_id: str, *, kind: str | None, open_only: bool,
                 limit: int) -> dict[str, Any]:
    profile = customers.active_root(session, profile_id)
    rows = repo.records_of(session, profile.id, open_only=open_only, kind=kind, limit=limit)
    return {"customer_id": profile.id, "records": [record_view(r) for r in rows]}
