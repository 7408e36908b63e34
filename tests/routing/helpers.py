"""A small contact center for the routing API tests."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, ok

POLICY = """
skills: [billing, cards, fraud]
queues:
  general:
    channels: [voice, chat, email]
    service_level: {seconds: 20, target: 80}
    ageing: {points: 1, every: 10s}
    reservation_timeout: 15s
    wrap_up: 30s
    priority:
      - when: customer.tier == "vip"
        add: 100
      - when: has(customer.churn_risk) && customer.churn_risk >= 0.7
        add: 60
    steps:
      - name: case owner
        when: has(customer.case_owner)
        agents: agent.id == customer.case_owner
        timeout: 30s
      - name: billing experts
        when: has(task.attributes.topic) && task.attributes.topic == "billing"
        skills: {billing: 4}
        timeout: 20s
        order: proficiency
      - name: everyone
  callbacks:
    channels: [voice]
    service_level: {seconds: 3600, target: 80}
  vip:
    channels: [voice]
    steps:
      - name: vip desk
abandoned:
  short_abandon: 5s
  callback_attempts: 2
  retry_after: 10m
  rules:
    - when: customer.tier == "vip" || customer.value >= 5000
      action: winback
      queue: vip
      priority: 50
    - when: customer.known
      action: callback
      queue: callbacks
    - action: sms
"""


def setup_center(api: Api, agents: list[dict[str, Any]] | None = None) -> None:
    ok(api.client.put("/v1/routing/policy", content=POLICY,
                      headers={**api.headers, "Content-Type": "application/yaml"}))
    for agent in agents or []:
        ok(api.client.put(f"/v1/agents/{agent['id']}", json={
            k: v for k, v in agent.items() if k != "id"}, headers=api.headers))


def available(api: Api, agent_id: str) -> dict[str, Any]:
    return ok(api.post(f"/v1/agents/{agent_id}/presence", json={"presence": "available"}))


def call(api: Api, phone: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"queue": "general", "channel": "voice", **extra}
    if phone:
        body["identifiers"] = {"phone": phone}
    return ok(api.post("/v1/tasks", json=body), 201)
