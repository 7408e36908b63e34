"""``POST /v1/tasks/batch``: many contacts enter the universal queue in one request (an e-mail
backlog, a CRM's work items). Items are checked one by one, the valid ones are created in
one transaction and routed in one pass, and each gets what a single request would have."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from circulo.clock import FixedClock
from circulo.context import AppContext
from circulo.customers.models import Event
from circulo.routing import stats
from circulo.routing.models import TaskRow
from tests.conftest import Api, assert_problem, custom_api, ok
from tests.factories import event
from tests.routing.helpers import available, setup_center

AGENT = {"skills": {"billing": 3}, "languages": ["es", "en"],
         "queues": ["general", "callbacks", "vip"], "capacity": {"email": 2}}


def _email(phone: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"queue": "general", "channel": "email", **extra}
    if phone:
        body["identifiers"] = {"phone": phone}
    return body


def _batch(api: Api, tasks: list[Any], status: int = 200) -> dict[str, Any]:
    return ok(api.post("/v1/tasks/batch", json={"tasks": tasks}), status)


def _count(ctx: AppContext, model: Any, *where: Any) -> int:
    with ctx.db.unit_of_work(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_valid_items_are_created_and_routed_and_bad_ones_named(api: Api,
                                                              ctx: AppContext) -> None:
    setup_center(api, [{"id": "ana", **AGENT}])
    api.send(event("customer.updated", source="crm", identifiers={"phone": "+34600000001"},
                   traits={"name": "Vera Vip", "tier": "vip"}))
    available(api, "ana")
    answer = _batch(api, [
        _email("+34600000002", external_id="m-1"),
        _email("+34600000001", external_id="m-2"),
        {"queue": "nowhere", "channel": "email"},
        _email(priority=5000),
        "not an object",
        _email(reason="nul \u0000 inside"),
        _email("+34600000003", skills={"plumbing": 2}),
        _email(external_id="m-3", language="ES"),
    ], status=207)
    assert (answer["created"], answer["duplicates"], answer["rejected"]) == (3, 0, 5)
    assert [r["index"] for r in answer["results"]] == [0, 1, 7]
    fields = {(e["index"], e["field"], e["code"]) for e in answer["errors"]}
    assert fields == {(2, "queue", "unknown_queue"), (3, "priority", "less_than_equal"),
                      (4, "", "object_type"), (5, "reason", "nul_character"),
                      (6, "skills.plumbing", "unknown_skill")}
    assert _count(ctx, TaskRow) == 3

    by_index = {r["index"]: r for r in answer["results"]}
    vip, other, anonymous = by_index[1], by_index[0], by_index[7]
    # Customers were resolved (the VIP from the CRM's data, a new one from the number) ...
    assert vip["customer_id"] and other["customer_id"] and vip["customer_id"] != \
        other["customer_id"]
    assert anonymous["customer_id"] is None
    # ... and routing ran once for the batch: ana takes two e-mails, the VIP's first.
    assert vip["state"] == "reserved" and vip["agent_id"] == "ana"
    reserved = [r for r in answer["results"] if r["state"] == "reserved"]
    assert len(reserved) == 2
    waiting = [r for r in answer["results"] if r["state"] == "pending"]
    assert len(waiting) == 1 and waiting[0]["position"] == 1
    assert waiting[0]["expected_wait_seconds"] is not None
    task = ok(api.get(f"/v1/tasks/{vip['task_id']}"))
    assert task["customer"]["tier"] == "vip" and task["channel"] == "email"
    assert ok(api.get(f"/v1/tasks/{anonymous['task_id']}"))["language"] == "es"
    timeline = ok(api.get(f"/v1/customers/{vip['customer_id']}/timeline"))
    assert "email.queued" in [e["type"] for e in timeline["events"]]


def test_a_batch_sent_again_changes_nothing(api: Api, ctx: AppContext) -> None:
    setup_center(api)
    tasks = [_email("+34600000001", external_id="T-1", source="helpdesk"),
             _email("+34600000002", external_id="T-2", source="helpdesk"),
             _email("+34600000002", external_id="T-2", source="helpdesk"),  # again, in batch
             _email("+34600000002", external_id="T-2", source="erp")]  # another system's T-2
    first = _batch(api, tasks)
    assert (first["created"], first["duplicates"]) == (3, 1)
    statuses = [r["status"] for r in first["results"]]
    assert statuses == ["created", "created", "duplicate", "created"]
    ids = [r["task_id"] for r in first["results"]]
    assert ids[1] == ids[2] and len(set(ids)) == 3

    again = _batch(api, tasks)
    assert (again["created"], again["duplicates"]) == (0, 4)
    assert [r["task_id"] for r in again["results"]] == ids
    assert _count(ctx, TaskRow) == 3
    assert _count(ctx, Event, Event.type == "email.queued") == 3
    # The single endpoint sees the same tasks.
    single = api.post("/v1/tasks", json=tasks[0])
    assert single.status_code == 200 and single.json()["id"] == ids[0]


def test_the_customer_picture_is_the_one_a_single_request_takes(api: Api,
                                                                ctx: AppContext,
                                                                clock: FixedClock) -> None:
    """Snapshots read together for a batch hold what one read per task holds: case owner,
    open records, last agents, routing overrides (which move the task)."""
    setup_center(api, [{"id": "ana", **AGENT}, {"id": "owner", **AGENT}])
    api.send(
        event("customer.updated", source="crm", identifiers={"phone": "+34600000001"},
              traits={"name": "Vera Vip", "tier": "vip", "churn_risk": 0.4}),
        event("ticket.opened", source="helpdesk", identifiers={"phone": "+34600000001"},
              record={"kind": "ticket", "key": "T-9", "status": "open",
                      "data": {"owner": "owner"}}),
        event("customer.updated", source="crm", identifiers={"phone": "+34600000002"},
              traits={"name": "Otto", "language": "en"}))
    available(api, "ana")
    served = ok(api.post("/v1/tasks", json={"queue": "general", "channel": "voice",
                                           "identifiers": {"phone": "+34600000002"}}), 201)
    ok(api.post(f"/v1/tasks/{served['id']}/accept", json={"agent_id": "ana"}))
    ok(api.post(f"/v1/tasks/{served['id']}/complete", json={"agent_id": "ana"}))
    otto = served["customer_id"]
    ok(api.post(f"/v1/customers/{otto}/routing-overrides",
                json={"queue": "vip", "priority_boost": 30, "ttl_seconds": 600}), 201)
    ok(api.post("/v1/agents/ana/presence", json={"presence": "away", "reason": "break"}))

    singles = [ok(api.post("/v1/tasks", json=_email(phone)), 201)
               for phone in ("+34600000001", "+34600000002", "+34600000009")]
    batch = _batch(api, [{"queue": "general", "channel": "voice",
                          "identifiers": {"phone": phone}}
                         for phone in ("+34600000001", "+34600000002", "+34600000009")])
    batched = [ok(api.get(f"/v1/tasks/{r['task_id']}")) for r in batch["results"]]
    for single, twin in zip(singles, batched, strict=True):
        assert twin["customer"] == single["customer"]
        assert (twin["team"], twin["language"]) == (single["team"], single["language"])
    vera, moved, _ = batched
    assert vera["customer"]["case_owner"] == "owner"
    assert moved["customer"]["last_agents"] == ["ana"] and moved["queue"] == "vip"
    assert moved["language"] == "en"


def test_a_batch_is_all_or_nothing_when_the_store_fails(api: Api, ctx: AppContext,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    setup_center(api)
    real = stats.offered
    calls = {"n": 0}

    def failing(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("the database went away")
        real(*args, **kwargs)

    monkeypatch.setattr(stats, "offered", failing)
    failed = api.post("/v1/tasks/batch", json={"tasks": [
        _email(f"+3460000000{i}", external_id=f"x-{i}") for i in range(5)]})
    assert_problem(failed, 500, "internal_error")  # problem+json, with an error id
    assert _count(ctx, TaskRow) == 0
    assert _count(ctx, Event, Event.type == "email.queued") == 0
    monkeypatch.setattr(stats, "offered", real)
    answer = _batch(api, [_email(f"+3460000000{i}", external_id=f"x-{i}") for i in range(5)])
    assert answer["created"] == 5 and _count(ctx, TaskRow) == 5


def test_bad_batches_get_clear_errors(api: Api, ctx: AppContext, clock: FixedClock) -> None:
    assert_problem(api.post("/v1/tasks/batch", json={"tasks": [_email()]}), 409, "conflict")
    setup_center(api)
    for body, field in (({"tasks": []}, "tasks"), ({"tasks": "x"}, "tasks"),
                        ([_email()], "tasks"), ({"tasks": [_email()], "extra": 1}, "tasks")):
        problem = assert_problem(api.post("/v1/tasks/batch", json=body), 422,
                                 "validation_failed")
        assert problem["errors"][0]["field"] == field
    problem = assert_problem(api.post("/v1/tasks/batch", json={"tasks": [
        {"queue": "nowhere"}, {"queue": "general", "channel": "fax"}]}), 422,
        "validation_failed")
    assert [(e["index"], e["field"]) for e in problem["errors"]] == [(0, "queue"),
                                                                       (1, "channel")]
    assert "all 2 task(s) were refused" in problem["detail"]
    assert_problem(api.client.post("/v1/tasks/batch", content=b"{nope",
                                   headers=api.headers), 400, "malformed_json")
    with custom_api(ctx.db, clock, max_batch_size=2) as small:
        setup_center(small)
        problem = assert_problem(small.post("/v1/tasks/batch", json={
            "tasks": [_email()] * 3}), 413, "payload_too_large")
        assert problem["limit"] == 2
    assert _count(ctx, TaskRow) == 0
