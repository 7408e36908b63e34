"""A small company for the churn tests: customers, some through a bad spell (unresolved calls,
low scores), and those who left (``account.closed``) mostly after one."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from circulo.context import AppContext
from circulo.ingest import service as ingest


def company(now: datetime, customers: int, *, leave_share: float, seed: int = 3
            ) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    for n in range(customers):
        crm = {"external_ids": {"crm": f"C{n:04d}"}}
        since = rng.randint(20, 2000)
        events.append({"type": "customer.updated", "source": "crm", "id": f"p{n}",
                       "occurred_at": (now - timedelta(days=min(since, 200))).isoformat(),
                       "identifiers": crm, "traits": {
                           "name": f"Cliente {n}", "tier": rng.choice(["standard", "gold"]),
                           "customer_since": (now - timedelta(days=since)).date().isoformat()}})
        for k in range(rng.randint(0, 3)):
            events.append(_at({"type": "call.completed", "source": "pbx", "id": f"ok{n}-{k}",
                               "identifiers": crm, "properties": {"outcome": "resolved"}},
                              now, rng.uniform(1, 150)))
        unhappy = rng.random() < 0.4
        leaves = rng.random() < (leave_share * 2.2 if unhappy else leave_share * 0.2)
        end = rng.uniform(5, 100) if leaves else rng.uniform(0, 100)
        if unhappy:
            for k in range(rng.randint(2, 4)):
                events.append(_at({"type": "call.completed", "source": "pbx",
                                   "id": f"bad{n}-{k}", "identifiers": crm,
                                   "properties": {"outcome": "unresolved"}},
                                  now, end + rng.uniform(0.5, 20)))
        if leaves:
            events.append(_at({"type": "account.closed", "source": "crm", "id": f"gone{n}",
                               "identifiers": crm}, now, end))
    return events


def _at(event: dict[str, Any], now: datetime, days_ago: float) -> dict[str, Any]:
    return {**event, "occurred_at": (now - timedelta(days=days_ago)).isoformat()}


def load(ctx: AppContext, events: list[dict[str, Any]]) -> None:
    for start in range(0, len(events), 1000):
        with ctx.db.unit_of_work() as session:
            result = ingest.ingest(session, {"events": events[start:start + 1000]},
                                   settings=ctx.settings, policies=ctx.policies,
                                   now=ctx.clock.now(), actor="test")
        assert result.errors == [], result.errors[:3]
