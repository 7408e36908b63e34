"""Erasure and the contact center: the erased caller's offered and waiting tasks leave the
agents and the queue; a call in an agent's hands stays theirs to finish, recording nothing."""

from __future__ import annotations

from tests.conftest import Api, ok
from tests.routing.helpers import available, call, setup_center

AGENT = {"name": "Ana", "site": "mad", "languages": ["es"], "queues": ["general"],
         "skills": {}}
PHONE = "+34 633 44 55 66"


def test_offered_and_waiting_tasks_are_canceled_and_the_agent_is_free(api: Api) -> None:
    setup_center(api, [{"id": "ana", **AGENT}])
    available(api, "ana")
    offered = call(api, PHONE, attributes={"subject": "Ximena Trujillo"})
    waiting = call(api, PHONE)
    assert offered["agent_id"] == "ana" and offered["state"] == "reserved"
    assert ok(api.get(f"/v1/tasks/{waiting['id']}"))["state"] == "pending"

    body = ok(api.delete(f"/v1/customers/{offered['customer_id']}"))
    assert body["removed"]["tasks_canceled"] == 2
    for task in (offered, waiting):
        view = ok(api.get(f"/v1/tasks/{task['id']}"))
        assert (view["state"], view["outcome"]) == ("canceled", "customer_erased")
        assert view["customer_id"] is None and view["attributes"] == {}
        assert not view.get("identifiers")
    agent = ok(api.get("/v1/agents/ana"))
    assert agent["state"] == "idle"
    assert ok(api.get("/v1/agents/ana/tasks")) == []
    # They call again: the call is routed like any other, to nobody known.
    again = call(api, PHONE)
    assert again["customer_id"] is None and again["agent_id"] == "ana"


def test_a_call_in_progress_is_finished_by_the_agent_and_records_nothing(api: Api) -> None:
    setup_center(api, [{"id": "ana", **AGENT}])
    available(api, "ana")
    task = call(api, PHONE)
    customer = task["customer_id"]
    ok(api.post(f"/v1/tasks/{task['id']}/accept", json={"agent_id": "ana"}))
    ok(api.delete(f"/v1/customers/{customer}"))
    done = ok(api.post(f"/v1/tasks/{task['id']}/complete", json={
        "agent_id": "ana", "disposition": "resolved", "notes": "Ximena Trujillo"}))
    assert done["state"] == "completed" and done["customer_id"] is None
    assert done["result"] == {"disposition": "resolved"}  # the notes are not kept
    # The notes reached no timeline: no customer holds that phone again.
    assert api.card(phone="633445566")["match"] == "none"
