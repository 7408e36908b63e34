"""The merge log: list merges, merge by hand, undo a merge; shared identifiers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from circulo.api_deps import get_ctx, require
from circulo.auth.service import IDENTITY_REVIEW, Principal
from circulo.context import AppContext
from circulo.identity import review, service
from circulo.identity.models import MergeLogEntry
from circulo.identity.schemas import (
    MergeIn,
    MergeOut,
    MergesOut,
    SharedOut,
    SuggestionOut,
    SuggestionsOut,
)

router = APIRouter(prefix="/v1", tags=["identity"])


def _view(entry: MergeLogEntry, undone: bool | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": entry.id, "action": entry.action, "survivor_id": entry.survivor_id,
        "absorbed_id": entry.absorbed_id, "reason": entry.reason, "link_kind": entry.link_kind,
        "event_id": entry.event_id, "actor": entry.actor, "undoes": entry.undoes_id,
        "created_at": entry.created_at.isoformat(),
    }
    if undone is not None:
        body["undone"] = undone
    return body


@router.get("/merges", summary="The merge log, newest first", response_model=MergesOut)
def list_merges(customer_id: str | None = Query(default=None),
                limit: int = Query(default=100, ge=1, le=1000),
                ctx: AppContext = Depends(get_ctx),
                _: Principal = Depends(require("read"))) -> dict[str, Any]:
    with ctx.db.unit_of_work(write=False) as session:
        entries = service.merges_for(session, [customer_id] if customer_id else None, limit)
        return {"merges": [_view(e, service.is_undone(session, e.id) if e.action == "merge"
                                 else None) for e in entries]}


@router.post("/merges", status_code=201, summary="Merge two customers by hand",
             response_model=MergeOut)
def merge(body: MergeIn, ctx: AppContext = Depends(get_ctx),
          principal: Principal = Depends(require("admin"))) -> dict[str, Any]:
    with ctx.db.unit_of_work() as session:
        entry = service.merge_manually(session, body.survivor_id, body.absorbed_id, body.reason,
                                       ctx.policies, ctx.clock.now(), f"key:{principal.name}")
        return _view(entry)


@router.post("/merges/{merge_id}/undo", summary="Undo a merge: both customers come back",
             response_model=MergeOut)
def undo(merge_id: str, ctx: AppContext = Depends(get_ctx),
         principal: Principal = Depends(require("admin"))) -> dict[str, Any]:
    with ctx.db.unit_of_work() as session:
        entry = service.undo_merge(session, merge_id, ctx.policies, ctx.clock.now(),
                                   f"key:{principal.name}")
        return _view(entry)


@router.get("/identifiers/shared",
            summary="Identifiers shared by more customers than the merge limit",
            response_model=SharedOut)
def shared(limit: int = Query(default=100, ge=1, le=1000), ctx: AppContext = Depends(get_ctx),
           _: Principal = Depends(require("read"))) -> dict[str, Any]:
    with ctx.db.unit_of_work(write=False) as session:
        return {"shared": service.shared_identifiers(session, limit),
                "limit": ctx.settings.max_profiles_per_identifier}


@router.get("/identity/suggestions", summary="Pairs of customers that may be one person",
            description=(
                "The duplicate-review queue. Each suggestion is a pair with the evidence per "
                "field (what agreed, what disagreed, and where each value came from). They "
                "come from links the evidence declined at ingest (`origin: ingest`) and from "
                "`circulo identity dedupe` (`origin: dedupe`). `order`: `newest` or `score` "
                "(highest first)."),
            response_model=SuggestionsOut)
def list_suggestions(
    status: str = Query(default="open", pattern="^(open|accepted|rejected|obsolete)$"),
    order: str = Query(default="newest", pattern="^(newest|score)$"),
    customer_id: str | None = Query(default=None, max_length=32),
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=1_000_000),
    ctx: AppContext = Depends(get_ctx),
    _: Principal = Depends(require("read")),
) -> dict[str, Any]:
    with ctx.db.unit_of_work(write=False) as session:
        found = review.list_suggestions(session, status=status, order=order, limit=limit,
                                        offset=offset, customer_id=customer_id)
        names = review.names_of(session, found)
        return {"suggestions": [review.view(s, names) for s in found]}


@router.get("/identity/suggestions/{suggestion_id}", summary="One suggestion",
            response_model=SuggestionOut)
def get_suggestion(suggestion_id: str, ctx: AppContext = Depends(get_ctx),
                   _: Principal = Depends(require("read"))) -> dict[str, Any]:
    with ctx.db.unit_of_work(write=False) as session:
        found = review.get(session, suggestion_id)
        return review.view(found, review.names_of(session, [found]))


@router.post("/identity/suggestions/{suggestion_id}/accept",
             summary="They are one person: merge them (undoable)",
             description="Merges the pair into the older customer with reason `reviewed`; "
                         "`POST /v1/merges/{merge_id}/undo` separates them again. 409 when "
                         "the suggestion is no longer open (accepted, rejected, or closed "
                         "because a customer was merged or erased) or their CRM ids differ.",
             response_model=SuggestionOut)
def accept_suggestion(suggestion_id: str, ctx: AppContext = Depends(get_ctx),
                      principal: Principal = Depends(require(IDENTITY_REVIEW))) -> dict[str, Any]:
    with ctx.db.unit_of_work() as session:
        decided = review.accept(session, suggestion_id, ctx.policies, ctx.clock.now(),
                                principal.actor)
        return review.view(decided.suggestion, review.names_of(session, [decided.suggestion]))


@router.post("/identity/suggestions/{suggestion_id}/reject",
             summary="They are two people: never merge them",
             description="Remembers the pair as two people: no later event, dedupe run or "
                         "review merges them.",
             response_model=SuggestionOut)
def reject_suggestion(suggestion_id: str, ctx: AppContext = Depends(get_ctx),
                      principal: Principal = Depends(require(IDENTITY_REVIEW))) -> dict[str, Any]:
    with ctx.db.unit_of_work() as session:
        decided = review.reject(session, suggestion_id, ctx.clock.now(),
                                principal.actor)
        return review.view(decided.suggestion, review.names_of(session, [decided.suggestion]))
