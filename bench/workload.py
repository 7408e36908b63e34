"""A realistic event workload shared by the benchmarks: a mid-size company's systems sending
CRM updates, orders, shipments, calls, chats, emails and surveys about known customers."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

TYPES = [
    ("call.completed", 0.25), ("call.abandoned", 0.06), ("email.received", 0.10),
    ("chat.completed", 0.07), ("order.placed", 0.12), ("order.delivered", 0.08),
    ("shipment.created", 0.07), ("survey.answered", 0.08), ("customer.updated", 0.07),
    ("page.viewed", 0.10),
]


def phone_of(n: int) -> str:
    return f"6{n % 90 + 10:02d}{n // 90 % 1000:03d}{n // 90000 + 100:03d}"


def make_events(count: int, customers: int, now: datetime, seed: int = 1,
                prefix: str = "b") -> list[dict[str, Any]]:
    rng = random.Random(seed)
    names, weights = zip(*TYPES, strict=True)
    events = []
    for i in range(count):
        n = rng.randrange(customers)
        etype = rng.choices(names, weights)[0]
        at = (now - timedelta(minutes=rng.randint(0, 60 * 24 * 60))).isoformat()
        ident: dict[str, Any]
        if etype.startswith(("call.",)):
            ident = {"phone": phone_of(n)}
        elif etype.startswith(("order.", "shipment.", "page.")):
            ident = {"email": f"customer{n}@example.es"}
        else:
            ident = {"phone": phone_of(n), "email": f"customer{n}@example.es",
                     "external_ids": {"crm": f"C{n:07d}"}}
        event: dict[str, Any] = {"type": etype, "id": f"{prefix}-{seed}-{i}",
                                 "source": etype.split(".")[0], "occurred_at": at,
                                 "identifiers": ident}
        if etype.startswith(("call.", "chat.", "email.")):
            event["channel"] = {"call": "voice", "chat": "chat", "email": "email"}[
                etype.split(".")[0]]
            event["properties"] = {"reason": rng.choice(["billing", "order", "return"]),
                                   "duration": rng.randint(30, 900)}
        elif etype == "order.placed" or etype == "order.delivered":
            event["properties"] = {"order_id": f"O{n}-{rng.randrange(3)}",
                                   "amount": round(rng.uniform(10, 500), 2), "currency": "EUR"}
        elif etype == "shipment.created":
            event["properties"] = {"shipment_id": f"S{n}-{rng.randrange(3)}", "carrier": "DHL"}
        elif etype == "survey.answered":
            event["properties"] = {"csat": rng.randint(1, 5), "nps": rng.randint(0, 10)}
        elif etype == "customer.updated":
            event["traits"] = {"first_name": f"Nombre{n}", "last_name": "Apellido",
                               "language": "es", "tier": rng.choice(["standard", "gold", "vip"])}
        else:
            event["properties"] = {"url": f"/productos/{rng.randrange(500)}"}
        events.append(event)
    return events
