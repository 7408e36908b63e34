"""What ``ingest`` answers is typed: callers in other packages read attributes that mypy
checks, not keys of a ``dict[str, Any]`` that a rename would silently break."""

from __future__ import annotations

from circulo.context import AppContext
from circulo.ingest import service
from circulo.ingest.schemas import EventResult, IngestResult, ItemError


def test_ingest_answers_a_typed_result(ctx: AppContext) -> None:
    events = [
        {"type": "call.completed", "source": "pbx", "id": "c-1",
         "identifiers": {"phone": "+34 600 111 222"}},
        {"type": "call.completed", "source": "pbx", "id": "c-1",
         "identifiers": {"phone": "+34 600 111 222"}},
        {"type": "not a type", "source": "pbx"},
    ]
    with ctx.db.unit_of_work() as session:
        result = service.ingest(session, {"events": events}, settings=ctx.settings,
                                policies=ctx.policies, now=ctx.clock.now(), actor="test")
    assert isinstance(result, IngestResult)
    assert (result.accepted, result.duplicates, result.rejected) == (1, 1, 1)
    first, second = result.results
    assert isinstance(first, EventResult) and first.status == "accepted"
    assert second.status == "duplicate" and second.event_id == first.event_id
    assert first.customer_id is not None and second.customer_id == first.customer_id
    [error] = result.errors
    assert isinstance(error, ItemError) and (error.index, error.field) == (2, "type")


def test_translated_items_keep_their_original_positions(ctx: AppContext) -> None:
    translated = [
        (None, {"field": "body", "code": "unmapped", "detail": "no type"}),
        ({"type": "page.viewed", "source": "web", "identifiers": {"anonymous_id": "a-1"}},
         None),
    ]
    with ctx.db.unit_of_work() as session:
        result = service.ingest_translated(session, translated, settings=ctx.settings,
                                           policies=ctx.policies, now=ctx.clock.now(),
                                           actor="test")
    assert isinstance(result, IngestResult)
    assert [r.index for r in result.results] == [1]
    assert [(e.index, e.code) for e in result.errors] == [(0, "unmapped")]
    assert result.rejected == 1 and result.accepted == 1
