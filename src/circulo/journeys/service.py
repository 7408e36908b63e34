"""Journeys as a user manages them: save a version, switch it on or off, watch its counters;
next-best-action suggestions on the card; the named lists journeys fill."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from circulo.config import Settings
from circulo.customers import service as customers
from circulo.errors import NotFound, ValidationFailed
from circulo.ingest import service as ingest
from circulo.journeys import repository as repo
from circulo.journeys import runtime
from circulo.journeys.definition import (
    Journey,
    JourneyError,
    Outbound,
    parse_data,
    parse_yaml,
)
from circulo.journeys.models import JourneyInstance, JourneyRow, JourneyVersion, Suggestion
from circulo.routing.service import COMPLETED_EVENT, EVENT_PREFIX

# Event types Círculo itself records, so journeys may name them before any has happened.
EMITTED = frozenset({
    *(f"{prefix}.{what}" for prefix in set(EVENT_PREFIX.values())
      for what in ("queued", "answered", "completed", "abandoned")),
    *COMPLETED_EVENT.values(),
    "callback.scheduled", "callback.completed", "callback.failed", "callback.canceled",
    "callback.retry_scheduled", "callback.sms_requested", "callback.booked",
    "callback.reply_unclear", "notification.requested", "notification.sent",
    "notification.failed", "notification.skipped", "notification.delivered",
    "notification.undelivered", "sms.received", "list.joined", "list.left",
    "journey.traits_set", "journey.tagged", "suggestion.accepted", "suggestion.dismissed",
    "campaign.call_requested", "campaign.message_requested", "campaign.member_added",
    "crm.contact_linked", "crm.contact_updated", "crm.contact_deleted", "survey.answered",
    "identity.confirmed", "pin.locked", "call.dialed", "text.analyzed",
    "churn.risk_rose",  # circulo.churn: a customer's risk rose across the threshold
})


def known_types(session: Session, settings: Settings) -> set[str]:
    """What a journey may listen to: the types Círculo records, those declared in
    ``CIRCULO_EVENT_TYPES`` and the contact types, and every type already stored."""
    return {*EMITTED, *settings.event_types, *settings.contact_types,
            *customers.event_types(session)}


def _problem(exc: JourneyError) -> ValidationFailed:
    message = str(exc)
    where, _, reason = message.rpartition(": ")
    return ValidationFailed(message, errors=[{"field": where or "journey",
                                              "code": "invalid_journey",
                                              "detail": reason or message}])


def parse(session: Session, settings: Settings, *, text: str | None, data: Any,
          origin: str = "") -> Journey:
    known = known_types(session, settings)
    outbound = Outbound(frozenset(settings.journey_env_allowlist), settings.egress)
    try:
        if text is not None:
            return parse_yaml(text, origin, known, outbound)
        return parse_data(data, known, outbound)
    except JourneyError as exc:
        raise _problem(exc) from exc


def save(session: Session, journey: Journey, text: str | None, *, actor: str, now: datetime,
         activate: bool) -> tuple[JourneyRow, bool]:
    """A new version when the document changed; ``activate`` switches that version on.
    Running instances finish on the version they started on."""
    row = repo.journey(session, journey.key, for_update=True)
    latest = repo.version(session, journey.key, row.latest_version) if row else None
    created = latest is None or latest.document != journey.source
    if row is None:
        row = JourneyRow(key=journey.key, status="paused", latest_version=0,
                         active_version=None, created_at=now, updated_at=now)
        repo.add(session, row)
    if created:
        row.latest_version += 1
        repo.add(session, JourneyVersion(key=journey.key, version=row.latest_version,
                                         document=journey.source, text=text,
                                         created_by=actor, created_at=now))
    if activate:
        row.status, row.active_version = "active", row.latest_version
    row.updated_at = now
    runtime.invalidate(session)
    return row, created


def get(session: Session, key: str, *, for_update: bool = False) -> JourneyRow:
    row = repo.journey(session, key, for_update=for_update)
    if row is None:
        raise NotFound(f"journey '{key}' does not exist", field="key")
    return row


def set_status(session: Session, key: str, status: str, now: datetime,
               version: int | None = None) -> JourneyRow:
    """``active`` (the latest version, or ``version``) or ``paused``: no new entries; the
    instances running go on to their end."""
    row = get(session, key, for_update=True)
    if status == "active":
        chosen = version or row.latest_version
        if repo.version(session, key, chosen) is None:
            raise NotFound(f"journey '{key}' has no version {chosen}", field="version")
        row.active_version = chosen
    row.status = status
    row.updated_at = now
    runtime.invalidate(session)
    return row


def view(session: Session, row: JourneyRow, *, detail: bool = False) -> dict[str, Any]:
    stored = repo.version(session, row.key, row.active_version or row.latest_version)
    document = stored.document if stored else {}
    out: dict[str, Any] = {
        "key": row.key, "name": document.get("name") or row.key, "status": row.status,
        "active_version": row.active_version, "latest_version": row.latest_version,
        "trigger": document.get("trigger"), "updated_at": row.updated_at.isoformat(),
        "counters": counters(session, row.key),
    }
    if detail:
        out["document"] = document
        out["text"] = stored.text if stored else None
        out["versions"] = [{"version": v.version, "created_by": v.created_by,
                            "created_at": v.created_at.isoformat()}
                           for v in repo.versions_of(session, row.key)]
        out["recent_errors"] = [{"at": a.created_at.isoformat(), "step": a.step,
                                 "kind": a.kind, "customer_id": a.customer_id,
                                 "error": (a.detail or {}).get("error")}
                                for a in repo.recent_errors(session, row.key, 10)]
        out["rule_errors"] = [
            {"rule": a.step, "condition": (a.detail or {}).get("condition"), "errors": count,
             "last_error": (a.detail or {}).get("error"), "at": a.created_at.isoformat()}
            for a, count in repo.rule_errors(session, row.key)]
    return out


def views(session: Session) -> list[dict[str, Any]]:
    return [view(session, row) for row in repo.journeys(session)]


def counters(session: Session, key: str) -> dict[str, Any]:
    """Entries, running instances, exits by the step they ended on, actions by outcome,
    errors."""
    entered = running = 0
    exits: dict[str, int] = {}
    for status, exit_, count in repo.instance_counts(session, key):
        entered += count
        if status == "done":
            exits[exit_ or ""] = exits.get(exit_ or "", 0) + count
        else:
            running += count
    actions: dict[str, dict[str, int]] = {}
    errors = 0
    for kind, outcome, count in repo.action_counts(session, key):
        if kind == "evaluate":
            errors += count
            continue
        actions.setdefault(kind, {})[outcome] = count
        if outcome == "failed":
            errors += count
    return {"entered": entered, "running": running, "exits": exits, "actions": actions,
            "errors": errors}


@dataclass(frozen=True, slots=True)
class RecentAction:
    step: str
    kind: str
    outcome: str  # done | queued | skipped | failed
    customer_id: str | None
    at: datetime


def recent_actions(session: Session, key: str, limit: int = 10) -> list[RecentAction]:
    """What the journey did last, newest first (the supervisor's console)."""
    return [RecentAction(a.step, a.kind, a.outcome, a.customer_id, a.created_at)
            for a in repo.recent_actions(session, key, limit)]


def instances(session: Session, *, journey: str | None, customer_id: str | None,
              status: str | None, limit: int) -> list[dict[str, Any]]:
    return [instance_view(session, row) for row in repo.instances(
        session, journey=journey, customer_id=customer_id, status=status, limit=limit)]


def instance_view(session: Session, row: JourneyInstance) -> dict[str, Any]:
    return {
        "id": row.id, "journey": row.journey, "version": row.version,
        "customer_id": row.customer_id, "status": row.status, "step": row.step,
        "exit": row.exit, "entered_at": row.entered_at.isoformat(),
        "due_at": row.due_at.isoformat() if row.due_at else None,
        "ended_at": row.ended_at.isoformat() if row.ended_at else None,
        "actions": [{"step": a.step, "kind": a.kind, "outcome": a.outcome,
                     "detail": a.detail, "at": a.created_at.isoformat()}
                    for a in repo.actions_of(session, row.id)],
    }


# -- suggestions (next best action) -----------------------------------------------------------

def suggestions_for(session: Session, customer_ids: Sequence[str], now: datetime
                    ) -> list[Suggestion]:
    return list(repo.open_suggestions(session, customer_ids, now))


def card_suggestions(session: Session, customer_id: str, lang: str, now: datetime
                     ) -> list[dict[str, Any]]:
    """The customer's open suggestions as the card shows them (registered at start-up as
    a source of the card's suggestions)."""
    return [suggestion_view(s, lang) for s in suggestions_for(session, [customer_id], now)]


def suggestion_view(row: Suggestion, lang: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row.id, "code": row.code, "journey": row.journey,
                           "status": row.status, "expires_at": row.expires_at.isoformat(),
                           "created_at": row.created_at.isoformat()}
    if lang is None:
        out["text"] = row.text
    else:
        out["text"] = row.text.get(lang) or next(iter(row.text.values()))
    if row.decided_at is not None:
        out["decided_at"] = row.decided_at.isoformat()
        out["decided_by"] = row.decided_by
    return out


def decide(session: Session, suggestion_id: str, decision: str, *, actor: str, note: str | None,
           settings: Settings, policies: customers.Policies, now: datetime) -> Suggestion:
    """The agent took or turned down a suggestion: recorded on the customer as an event
    (``suggestion.accepted`` / ``suggestion.dismissed``) that journeys can follow."""
    row = repo.suggestion(session, suggestion_id, for_update=True)
    if row is None:
        raise NotFound(f"suggestion '{suggestion_id}' does not exist", field="suggestion_id")
    if row.status != "open":
        if row.status == decision:
            return row  # said twice: the same answer
        raise ValidationFailed(f"the suggestion was already {row.status}", errors=[{
            "field": "decision", "code": "already_decided",
            "detail": f"it was {row.status} at {row.decided_at}"}])
    row.status, row.decided_at, row.decided_by = decision, now, actor
    ingest.ingest(session, {"events": [{
        "type": f"suggestion.{decision}", "source": "circulo", "id": f"suggestion:{row.id}",
        "occurred_at": now.isoformat(), "identifiers": {"customer_id": row.customer_id},
        "properties": {"suggestion_id": row.id, "code": row.code, "journey": row.journey,
                       "by": actor, **({"note": note} if note else {})}}]},
        settings=settings, policies=policies, now=now, actor=actor)
    return row


# -- lists ------------------------------------------------------------------------------------

def list_members(session: Session, name: str, *, after: str, limit: int
                 ) -> list[dict[str, Any]]:
    return [{"customer_id": m.customer_id, "added_at": m.added_at.isoformat(),
             "source": m.source}
            for m in repo.list_members(session, name, after=after, limit=limit)]
