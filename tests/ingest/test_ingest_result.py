"""What ``ingest`` answers is typed: callers in other packages read attributes that mypy
checks, not keys of a ``dict[str, Any]`` that a rename would silently break."""

from __future__ import annotations

from circulo.context import AppContext
from circulo.ingest import service
from circulo.ingest.schemas import EventResult, IngestResult, ItemError
from tests.conftest import Api


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


def test_a_customers_identifiers_are_typed(ctx: AppContext) -> None:
    """Read by the card (screen-pop links) and the CRM connectors: attributes, not keys."""
    from circulo.identity import service as identity
    from circulo.identity.service import IdentifierView

    with ctx.db.unit_of_work() as session:
        result = service.ingest(session, {"type": "customer.updated", "source": "crm",
                                          "identifiers": {"email": "ana@example.es",
                                                          "external_ids": {"crm": "C-1"}}},
                                settings=ctx.settings, policies=ctx.policies,
                                now=ctx.clock.now(), actor="test")
        customer_id = result.results[0].customer_id
        assert customer_id is not None
        found = identity.identifiers_of(session, customer_id)
    assert all(isinstance(i, IdentifierView) for i in found)
    assert {(i.kind, i.value) for i in found} == {("email", "ana@example.es"),
                                                  ("external_id", "crm:C-1")}


def test_the_answer_keeps_its_shape(api: Api) -> None:
    """Typed inside, the same JSON outside: candidates and warnings only when there are."""
    body = api.send({"type": "call.completed", "source": "pbx",
                     "identifiers": {"phone": "+34 600 111 333"}})
    [item] = body["results"]
    assert set(item) == {"index", "status", "event_id", "customer_id", "resolution"}
