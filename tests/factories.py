"""Small builders for events, so tests say only what matters to them."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from typing import Any

_ids = count(1)


def event(event_type: str = "call.completed", *, source: str = "pbx",
          at: datetime | None = None, ago: timedelta | None = None, **fields: Any
          ) -> dict[str, Any]:
    body: dict[str, Any] = {"type": event_type, "source": source, "id": f"t-{next(_ids)}"}
    if at is not None:
        body["occurred_at"] = (at - (ago or timedelta())).isoformat()
    body.update(fields)
    return body


def customer(crm: str, *, phone: str | None = None, email: str | None = None,
             source: str = "crm", **traits: Any) -> dict[str, Any]:
    identifiers: dict[str, Any] = {"external_ids": {"crm": crm}}
    if phone:
        identifiers["phone"] = phone
    if email:
        identifiers["email"] = email
    return event("customer.updated", source=source, identifiers=identifiers,
                 traits=traits or None)
