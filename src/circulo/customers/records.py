"""How an event becomes a business record upsert. Pure.

Either the event carries an explicit ``record`` object, or its type names the kind
(``order.placed``, ``dispute.opened``, ``ticket.closed``...) and its properties carry the
record key (``order_id``/``dispute_id``/...). The status is the explicit one or the verb.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RECORD_KINDS = frozenset({
    "order", "invoice", "dispute", "ticket", "subscription", "shipment", "complaint",
    "appointment", "case", "payment",
})
CLOSED_STATUSES = frozenset({
    "delivered", "canceled", "cancelled", "closed", "resolved", "paid", "refunded", "returned",
    "completed", "ended", "rejected", "won", "lost", "expired", "fulfilled", "done", "solved",
    "attended", "reversed", "withdrawn",
})
# An order counts towards lifetime value unless it ended in one of these.
UNCOUNTED_ORDER_STATUSES = frozenset({"canceled", "cancelled", "refunded", "returned", "rejected"})


@dataclass(frozen=True, slots=True)
class RecordSpec:
    kind: str
    key: str
    status: str
    is_open: bool
    title: str | None
    amount: float | None
    currency: str | None
    data: dict[str, Any]


def spec_from_event(
    event_type: str, properties: dict[str, Any], explicit: dict[str, Any] | None
) -> RecordSpec | None:
    kind, _, verb = event_type.partition(".")
    if explicit:
        kind = explicit["kind"]
        key = explicit["key"]
        status = explicit.get("status") or verb or "open"
        is_open = explicit.get("open")
        title = explicit.get("title")
        amount = explicit.get("amount")
        currency = explicit.get("currency")
        data = dict(explicit.get("data") or {})
    else:
        if kind not in RECORD_KINDS:
            return None
        raw_key = properties.get(f"{kind}_id") or properties.get("record_id")
        if raw_key is None or str(raw_key).strip() == "":
            return None
        key = str(raw_key).strip()
        status = str(properties.get("status") or verb or "open")
        is_open = None
        title = properties.get("title") or properties.get("subject") or properties.get("reason")
        amount = properties.get("amount", properties.get("total"))
        currency = properties.get("currency")
        data = {k: v for k, v in properties.items()
                if k not in {f"{kind}_id", "record_id", "status", "amount", "total", "currency"}}
    status = status.strip().lower()[:40]
    if is_open is None:
        is_open = status not in CLOSED_STATUSES
    try:
        number = None if amount is None or isinstance(amount, bool) else float(amount)
    except (TypeError, ValueError):
        number = None
    return RecordSpec(
        kind=kind, key=key[:200], status=status, is_open=bool(is_open),
        title=str(title)[:500] if title else None, amount=number,
        currency=str(currency).upper()[:3] if currency else None, data=data,
    )


def counted_value(kind: str, status: str, amount: float | None) -> float:
    """What a record contributes to lifetime value."""
    if kind != "order" or amount is None or status in UNCOUNTED_ORDER_STATUSES:
        return 0.0
    return amount


def record_view(record: Any) -> dict[str, Any]:
    """A stored record as the API, the card's journeys and exports show it."""
    return {
        "kind": record.kind, "source": record.source, "key": record.key,
        "status": record.status, "open": record.is_open, "title": record.title,
        "amount": record.amount, "currency": record.currency,
        "data": {k: v for k, v in (record.data or {}).items() if not k.startswith("_")},
        "opened_at": record.opened_at.isoformat(), "updated_at": record.updated_at.isoformat(),
        "closed_at": record.closed_at.isoformat() if record.closed_at else None,
    }
