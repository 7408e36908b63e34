"""What the agent is told about the contact (S12) and who is calling (S1), as services:
the words said in the IVR, a web form and a chat; the wait; repeat contacts about the same
reason today; the web activity before the contact; confirming a candidate."""

from __future__ import annotations

from datetime import timedelta

import pytest

from circulo.clock import FixedClock
from circulo.context import AppContext
from circulo.customers import desk
from circulo.errors import Conflict, Forbidden
from circulo.routing import desk_context
from circulo.routing.dispatcher import dispatcher_of
from tests.conftest import Api, ok
from tests.routing.helpers import available, setup_center

AGENT = {"skills": {"billing": 3}, "languages": ["es"], "queues": ["general"]}
PHONE = "+34600555111"


def _context(ctx: AppContext, customer_id: str, task_id: str | None
             ) -> desk_context.ContactContext:
    with ctx.db.unit_of_work(write=False) as session:
        return desk_context.contact_context(session, customer_id, task_id,
                                            settings=ctx.settings, now=ctx.clock.now())


def test_what_was_said_the_wait_and_the_second_contact_today(api: Api, ctx: AppContext,
                                                             clock: FixedClock) -> None:
    setup_center(api, [{"id": "ana", **AGENT}])
    now = clock.now()
    sent = api.send(
        {"type": "customer.updated", "source": "crm", "id": "c1",
         "identifiers": {"phone": PHONE}, "traits": {"name": "Eva Sanz"}},
        {"type": "form.submitted", "source": "web", "id": "c2", "channel": "web",
         "occurred_at": (now - timedelta(minutes=30)).isoformat(),
         "identifiers": {"phone": PHONE}, "properties": {"fields": {"Asunto": "Baja"}}},
        {"type": "message.received", "source": "chat", "id": "c3", "channel": "chat",
         "occurred_at": (now - timedelta(minutes=20)).isoformat(),
         "identifiers": {"phone": PHONE}, "properties": {"text": "Quiero darme de baja"}},
        {"type": "ivr.completed", "source": "ivr", "id": "c4", "channel": "ivr",
         "occurred_at": (now - timedelta(hours=9)).isoformat(),  # too long ago to count
         "identifiers": {"phone": PHONE}, "properties": {"answers": {"Motivo": "viejo"}}},
        {"type": "page.viewed", "source": "app", "id": "c5", "channel": "web",
         "occurred_at": (now - timedelta(minutes=40)).isoformat(),
         "identifiers": {"phone": PHONE}, "properties": {"name": "Darse de baja"}},
        {"type": "order.placed", "source": "shop", "id": "c6", "channel": "web",
         "occurred_at": (now - timedelta(minutes=50)).isoformat(),
         "identifiers": {"phone": PHONE}, "properties": {"order_id": "O-1"}},
    )
    customer = sent["results"][0]["customer_id"]
    earlier = ok(api.post("/v1/tasks", json={"queue": "general", "channel": "chat",
                                             "identifiers": {"phone": PHONE},
                                             "reason": "baja"}), 201)
    ok(api.post(f"/v1/tasks/{earlier['id']}/cancel", json={}))
    other = ok(api.post("/v1/tasks", json={"queue": "general", "channel": "chat",
                                           "identifiers": {"phone": PHONE},
                                           "reason": "factura"}), 201)
    ok(api.post(f"/v1/tasks/{other['id']}/cancel", json={}))
    clock.advance(timedelta(minutes=1))
    task = ok(api.post("/v1/tasks", json={
        "queue": "general", "channel": "voice", "identifiers": {"phone": PHONE},
        "reason": "baja", "attributes": {"ivr": {"Opción": "2 - bajas"}}}), 201)
    clock.advance(timedelta(minutes=7, seconds=30))

    seen = _context(ctx, customer, task["id"])
    assert seen.task is not None
    assert seen.task.waited_minutes == 7 and seen.task.reason == "baja"
    assert seen.task.earlier_today == 1  # the other "baja" task, not the "factura" one
    said = [(s.kind, s.lines) for s in seen.said]
    assert said == [("ivr", [("Opción", "2 - bajas")]),
                    ("message", [("", "Quiero darme de baja")]),
                    ("form", [("Asunto", "Baja")])]
    assert [a.title for a in seen.activity] == ["Darse de baja"]  # not the order

    available(api, "ana")
    dispatcher_of(ctx).run_once()
    ok(api.post(f"/v1/tasks/{task['id']}/accept", json={"agent_id": "ana"}))
    clock.advance(timedelta(minutes=5))
    accepted = _context(ctx, customer, task["id"]).task
    assert accepted is not None and accepted.waited_minutes == 7  # until it was answered


def test_another_customers_task_is_ignored(api: Api, ctx: AppContext) -> None:
    setup_center(api)
    first = api.send({"type": "customer.updated", "source": "crm", "id": "a",
                      "identifiers": {"phone": PHONE}, "traits": {"name": "A"}})
    second = api.send({"type": "customer.updated", "source": "crm", "id": "b",
                       "identifiers": {"phone": "+34600555222"}, "traits": {"name": "B"}})
    task = ok(api.post("/v1/tasks", json={"queue": "general", "channel": "voice",
                                          "identifiers": {"phone": PHONE}}), 201)
    assert _context(ctx, first["results"][0]["customer_id"], task["id"]).task is not None
    assert _context(ctx, second["results"][0]["customer_id"], task["id"]).task is None


def test_confirm_needs_the_agent_holding_the_task_and_a_candidate(api: Api,
                                                                   ctx: AppContext) -> None:
    setup_center(api, [{"id": "ana", **AGENT}, {"id": "luis", **AGENT}])
    ids = [api.send({"type": "customer.updated", "source": "crm", "id": name,
                     "identifiers": {"phone": "+34911000000", "external_ids": {"crm": name}},
                     "traits": {"name": name}})["results"][0]["customer_id"]
           for name in ("Juan", "Pilar")]
    available(api, "ana")
    task = ok(api.post("/v1/tasks", json={"queue": "general", "channel": "voice",
                                          "identifiers": {"phone": "911000000"}}), 201)
    assert task["agent_id"] == "ana" and task["customer_id"] is None
    now = ctx.clock.now()
    with ctx.db.unit_of_work(write=False) as session:
        who = desk_context.who(session, task["id"], "ana", role="support", lang="es",
                               settings=ctx.settings, templates=ctx.templates,
                               policies=ctx.policies, now=now)
    assert who.match == "ambiguous" and who.may_confirm and who.value == "+34911000000"
    assert sorted(c["customer_id"] for c in who.candidates) == sorted(ids)

    def confirm(agent: str, customer: str) -> str | None:
        with ctx.db.unit_of_work() as session:
            return desk_context.confirm(session, task["id"], agent, customer,
                                        settings=ctx.settings, policies=ctx.policies,
                                        now=now).customer_id

    with pytest.raises(Forbidden):
        confirm("luis", ids[0])
    stranger = api.send({"type": "customer.updated", "source": "crm", "id": "z",
                         "identifiers": {"phone": "+34600999888"}})["results"][0]["customer_id"]
    with pytest.raises(Conflict):
        confirm("ana", stranger)
    ok(api.post(f"/v1/tasks/{task['id']}/reject", json={"agent_id": "ana"}))
    with pytest.raises(Forbidden):  # the offer withdrawn: no longer hers to say
        confirm("ana", ids[0])


def test_search_and_notes_follow_merges(api: Api, ctx: AppContext) -> None:
    a = api.send({"type": "customer.updated", "source": "crm", "id": "a",
                  "identifiers": {"phone": PHONE, "external_ids": {"crm": "A"}},
                  "traits": {"name": "Eva Sanz"}})["results"][0]["customer_id"]
    b = api.send({"type": "customer.updated", "source": "crm", "id": "b",
                  "identifiers": {"email": "eva@example.com"},
                  "traits": {"name": "Eva Sanz Gil"}})["results"][0]["customer_id"]
    now = ctx.clock.now()
    with ctx.db.unit_of_work() as session:
        desk.add_note(session, b, "Nota en la ficha duplicada", author_id="u",
                      author_name="Ana", now=now)
    ok(api.post("/v1/merges", json={"survivor_id": a, "absorbed_id": b,
                                    "reason": "la misma persona"}), 201)
    with ctx.db.unit_of_work(write=False) as session:
        assert [n.text for n in desk.notes_of(session, b)] == ["Nota en la ficha duplicada"]
        assert [h.customer_id for h in desk.search(session, "eva@EXAMPLE.com",
                                                   ctx.settings)] == [a]
        assert [h.matched_by for h in desk.search(session, "sanz gil", ctx.settings)] == \
            ["name"]
        assert desk.search(session, "%", ctx.settings) == []
        assert desk.search(session, "   ", ctx.settings) == []


def test_viewer_rows_are_only_the_cards_open_now(api: Api, ctx: AppContext,
                                                 clock: FixedClock) -> None:
    ids = [api.send({"type": "customer.updated", "source": "crm", "id": n,
                     "identifiers": {"external_ids": {"crm": n}}, "traits": {"name": n}}
                    )["results"][0]["customer_id"] for n in ("A", "B")]
    from circulo.customers.models import CustomerViewer
    with ctx.db.unit_of_work() as session:
        desk.look(session, ids[0], user_id="u1", name="Ana", now=clock.now(), opened=True)
        desk.look(session, ids[0], user_id="u2", name="Luis", now=clock.now(), opened=True)
    clock.advance(timedelta(minutes=5))
    with ctx.db.unit_of_work() as session:  # Ana closed A long ago and opens B
        assert desk.look(session, ids[1], user_id="u1", name="Ana", now=clock.now(),
                         opened=True) == []
    with ctx.db.unit_of_work(write=False) as session:
        rows = {(r.customer_id, r.user_id) for r in session.query(CustomerViewer)}
    assert rows == {(ids[1], "u1"), (ids[0], "u2")}  # Luis's goes when he opens another


def test_what_was_said_is_bounded_on_the_card() -> None:
    """An IVR or form event is the customer's own input: however many answers or however
    long, the card shows at most 20 lines of 500 characters, labels of 80."""
    from circulo.routing.desk_context import _lines

    many = {f"question {i}" * 20: "x" * 5000 for i in range(300)}
    lines = _lines(many)
    assert len(lines) == 20
    assert all(len(label) <= 80 and len(text) <= 500 for label, text in lines)
    listed = _lines([["a"] * 10_000] * 100)
    assert len(listed) == 20 and all(len(text) <= 500 for _, text in listed)
