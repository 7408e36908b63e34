"""The duplicate-review queue: pairs of customers that may be one person, with the evidence,
for a person to accept (merge) or reject (two people, for good).

Suggestions come from links the evidence declined at ingest and from batch deduplication;
a merge or an erasure of either customer closes them (``service._merge``, ``service.erase``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from circulo.customers import service as customers
from circulo.errors import Conflict, NotFound
from circulo.identity import repository as repo
from circulo.identity import service
from circulo.identity.models import Suggestion


@dataclass(frozen=True, slots=True)
class Decided:
    suggestion: Suggestion
    merge_id: str | None


def _verdict(weight: float) -> str:
    return "agrees" if weight > 0 else "disagrees" if weight < 0 else "neutral"


MASKED = ("national_id", "social_security")  # enough to see they differ, not to copy


def _masked(side: dict[str, Any], field: str) -> dict[str, Any]:
    value = side.get("value")
    if field not in MASKED or not isinstance(value, str):
        return side
    return {**side, "value": "*" * max(0, len(value) - 4) + value[-4:]}


def view(suggestion: Suggestion, names: dict[str, str | None]) -> dict[str, Any]:
    a, b = suggestion.profile_a, suggestion.profile_b
    return {
        "id": suggestion.id, "status": suggestion.status, "origin": suggestion.origin,
        "score": round(suggestion.score, 3),
        "probability": None if suggestion.probability is None
        else round(suggestion.probability, 6),
        "customers": [{"customer_id": a, "name": names.get(a)},
                      {"customer_id": b, "name": names.get(b)}],
        "evidence": [
            {"field": f["field"], "level": f["level"], "weight": f["weight"],
             "verdict": _verdict(float(f["weight"])),
             "values": [{"customer_id": a, **_masked(f["left"], f["field"])},
                        {"customer_id": b, **_masked(f["right"], f["field"])}]}
            for f in suggestion.evidence
        ],
        "shared_identifiers": suggestion.shared,
        "event_id": suggestion.event_id, "run_id": suggestion.run_id,
        "created_at": suggestion.created_at.isoformat(),
        "decided_at": suggestion.decided_at.isoformat() if suggestion.decided_at else None,
        "decided_by": suggestion.decided_by, "merge_id": suggestion.merge_id,
        "note": suggestion.note,
    }


def names_of(session: Session, suggestions: Sequence[Suggestion]) -> dict[str, str | None]:
    ids = {p for s in suggestions for p in (s.profile_a, s.profile_b)}
    return {p.id: p.display_name for p in customers.load_profiles(session, ids).values()}


def list_suggestions(session: Session, *, status: str, order: str, limit: int, offset: int,
                     customer_id: str | None) -> list[Suggestion]:
    return repo.list_suggestions(session, status=status, order=order, limit=limit,
                                 offset=offset, customer_id=customer_id)


def get(session: Session, suggestion_id: str, *, for_update: bool = False) -> Suggestion:
    suggestion = repo.get_suggestion(session, suggestion_id, for_update=for_update)
    if suggestion is None:
        raise NotFound(f"suggestion '{suggestion_id}' does not exist", field="suggestion_id")
    return suggestion


def _open(session: Session, suggestion_id: str) -> Suggestion:
    suggestion = get(session, suggestion_id, for_update=True)
    if suggestion.status == "accepted":
        raise Conflict(f"suggestion '{suggestion_id}' was already accepted (merge "
                       f"{suggestion.merge_id}); undo that merge to separate them",
                       field="suggestion_id")
    if suggestion.status == "rejected":
        raise Conflict(f"suggestion '{suggestion_id}' was rejected: they are two people",
                       field="suggestion_id")
    if suggestion.status == "obsolete":
        why = {"erased": "one of the customers was erased",
               "merged": "one of the customers was merged since"}.get(
            suggestion.note or "", "it no longer applies")
        raise Conflict(f"suggestion '{suggestion_id}' is closed: {why}",
                       field="suggestion_id")
    return suggestion


def accept(session: Session, suggestion_id: str, policies: customers.Policies, now: datetime,
           actor: str) -> Decided:
    """Merge the pair (reason "reviewed"; undoable like any merge). The older customer
    stays. Identifiers flagged as shared only because of this pair are shared no more."""
    suggestion = _open(session, suggestion_id)
    try:
        a = customers.active_root(session, suggestion.profile_a)
        b = customers.active_root(session, suggestion.profile_b)
    except NotFound as exc:  # pragma: no cover - erasure and merges close suggestions
        raise Conflict("one of the customers no longer exists", field="suggestion_id") from exc
    if service.are_separated(session, a.id, b.id):
        raise Conflict("a person already said these customers are two people (a rejected "
                       "suggestion or an undone merge, perhaps of a customer one of them "
                       "absorbed since); merge them by hand (POST /v1/merges) if you are sure",
                       field="suggestion_id")
    survivor, absorbed = (a, b) if (a.created_at, a.id) <= (b.created_at, b.id) else (b, a)
    suggestion.status = "accepted"
    suggestion.decided_at, suggestion.decided_by = now, actor
    entry = service.merge_manually(session, survivor.id, absorbed.id, "reviewed", policies,
                                   now, actor)
    suggestion.merge_id = entry.id
    service.unshare_if_single(session, [(s["kind"], s["value"]) for s in suggestion.shared])
    return Decided(suggestion, entry.id)


def reject(session: Session, suggestion_id: str, now: datetime, actor: str) -> Decided:
    """They are two people: no later event, dedupe run or review merges them."""
    suggestion = _open(session, suggestion_id)
    suggestion.status = "rejected"
    suggestion.decided_at, suggestion.decided_by = now, actor
    return Decided(suggestion, None)
