"""A manager's rule that cannot be evaluated (a type error: a text compared with a number) is
not silently false forever: each rule counts its errors and shows the last one through the
API. Missing data (a customer without that trait) is not an error: the rule just does not
hold."""

from __future__ import annotations

from circulo.clock import FixedClock
from circulo.db import Database
from tests.conftest import Api, ok
from tests.factories import event
from tests.journeys.helpers import center, run

POLICY = """
skills: [billing]
queues:
  general:
    channels: [voice]
    priority:
      - when: customer.tier > 3
        add: 100
      - when: customer.churn_risk >= 0.5
        add: 10
    steps:
      - name: everyone
"""


def test_a_routing_rule_comparing_text_with_a_number_shows_its_errors(api: Api) -> None:
    ok(api.client.put("/v1/routing/policy", content=POLICY,
                      headers={**api.headers, "Content-Type": "application/yaml"}))
    api.send(event("customer.updated", source="crm", identifiers={"phone": "+34600000011"},
                   traits={"name": "Gala Gold", "tier": "gold"}))
    for _ in range(2):
        ok(api.post("/v1/tasks", json={"queue": "general", "channel": "voice",
                                       "identifiers": {"phone": "+34600000011"}}), 201)
    policy = ok(api.get("/v1/routing/policy"))
    [rule] = policy["rule_errors"]  # churn_risk is missing data for Gala: not an error
    assert rule["rule"] == "queues.general.priority[0].when"
    assert rule["condition"] == "customer.tier > 3"
    assert rule["errors"] == 2
    assert "No such overload" in rule["last_error"]


JOURNEY = """
journey: big-orders
trigger: order.completed
steps:
  - name: check
    branch:
      - when: event.properties.total > 100
        go: big
      - go: done
  - name: big
    do:
      - tag: big-spender
    end: true
  - name: done
    end: true
"""


def test_a_journey_branch_comparing_text_with_a_number_shows_its_errors(
        database: Database, clock: FixedClock) -> None:
    with center(database, clock) as api:
        ok(api.post("/v1/journeys", params={"activate": "true"}, content=JOURNEY.encode(),
                    headers={"Content-Type": "application/yaml"}))
        api.send(*(event("order.completed", source="shop", id=f"o-{n}",
                         identifiers={"phone": f"+3460000002{n}"},
                         properties={"total": "lots"}) for n in range(3)),
                 event("order.completed", source="shop", id="o-missing",
                       identifiers={"phone": "+34600000030"}, properties={"items": 2}))
        run(api)
        journey = ok(api.get("/v1/journeys/big-orders"))
    [rule] = journey["rule_errors"]
    assert rule["rule"] == "steps[0].branch[0].when"
    assert rule["condition"] == "event.properties.total > 100"
    assert rule["errors"] == 3
    assert "No such overload" in rule["last_error"]
    assert journey["counters"]["errors"] == 3


COUNTING = """
journey: repeat-big-orders
trigger: order.completed
when: count("order.completed", within="30d", where="event.properties.total > 100") >= 2
steps:
  - name: thank
    do:
      - tag: repeat-big-spender
"""


def test_a_count_condition_comparing_text_with_a_number_shows_its_errors(
        database: Database, clock: FixedClock) -> None:
    with center(database, clock) as api:
        ok(api.post("/v1/journeys", params={"activate": "true"}, content=COUNTING.encode(),
                    headers={"Content-Type": "application/yaml"}))
        api.send(*(event("order.completed", source="shop", id=f"c-{n}",
                         identifiers={"phone": "+34600000040"},
                         properties={"total": "lots"}) for n in range(2)))
        run(api)
        journey = ok(api.get("/v1/journeys/repeat-big-orders"))
    [rule] = journey["rule_errors"]
    assert rule["rule"] == "when: count() where"
    assert rule["condition"] == "event.properties.total > 100"
    assert rule["errors"] == 2 and "No such overload" in rule["last_error"]
