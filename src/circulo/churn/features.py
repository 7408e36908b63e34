"""What the churn model sees of a customer, as of a moment. Pure.

A customer's features are computed from their history *before* a cut-off: for a customer who
cancelled, the moment of the cancellation (so nothing the cancellation caused can leak into
what predicts it); for everyone else, now. The same function serves training and scoring, so
the two cannot drift apart. Windows (7/30/90 days) count back from the cut-off.

The contact windows come from the customers' own indicator fold (``customers.indicators``)
replayed over the events before the cut-off: a feature means what the card shows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from circulo.customers.indicators import EventFacts, IndicatorConfig, fold_event, number, view

DEFAULT_CANCELLATION_TYPES = ("account.closed", "subscription.cancelled", "customer.churned")
# Events that are about the prediction itself, or that only the cancellation causes: never
# features.
NOT_FEATURES = frozenset({"churn.risk_rose", "customer.erased", "customer.updated"})
CATEGORICAL = ("tier", "segment")
NUMERIC = (
    "tenure_days", "contacts_7d", "contacts_30d", "contacts_90d", "unsatisfied_30d",
    "unsatisfied_90d", "abandoned_30d", "abandoned_90d", "csat_last", "csat_average",
    "nps_detractor", "nps_promoter", "negative_30d", "urgent_30d", "days_since_contact",
    "spend_90d", "value",
)
COUNT_PREFIX = "count_90d:"
MAX_COUNTED_TYPES = 15
ANALYZED = "text.analyzed"
MONEY_TYPES = frozenset({"order.placed", "invoice.paid"})


@dataclass(frozen=True, slots=True)
class History:
    """One customer as stored: traits with provenance and their events (any order)."""

    customer_id: str
    traits: dict[str, Any]
    trait_meta: dict[str, Any]
    events: Sequence[EventFacts]
    # when the customer's first event happened, when ``events`` holds only recent ones
    first_seen: datetime | None = None


@dataclass(frozen=True, slots=True)
class Example:
    """A customer's features as of ``as_of`` and, in training, whether they cancelled."""

    customer_id: str
    as_of: datetime
    features: dict[str, float | str | None]
    churned: bool


def cancellation_at(events: Iterable[EventFacts], types: Iterable[str]) -> datetime | None:
    """When the customer first cancelled (one of ``types``), or None."""
    wanted = frozenset(types)
    moments = [e.occurred_at for e in events if e.type in wanted]
    return min(moments) if moments else None


def counted_types(histories: Iterable[History], cancellation_types: Iterable[str],
                  limit: int = MAX_COUNTED_TYPES) -> list[str]:
    """The event types worth counting: the most frequent in the training history, leaving
    out the labels themselves and what the prediction writes."""
    skip = NOT_FEATURES | frozenset(cancellation_types) | {ANALYZED}
    counts: Counter[str] = Counter(e.type for h in histories for e in h.events
                                   if e.type not in skip)
    return sorted(t for t, _ in counts.most_common(limit))


def _traits_as_of(history: History, as_of: datetime) -> dict[str, Any]:
    """The traits known before ``as_of``: one stated later (a CRM marking the account
    closed) is not known then."""
    known = {}
    stamp = as_of.isoformat()
    for name, value in history.traits.items():
        meta = history.trait_meta.get(name)
        if meta is None or str(meta.get("at", "")) < stamp:
            known[name] = value
    return known



def _since(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _sentiment(props: dict[str, Any]) -> tuple[bool, bool]:
    """(negative, urgent) of an analysed text, in the text analysis' stored shape
    (``sentiment: {label, score}``, ``urgency: {urgent, reasons}``) or a plain label."""
    sentiment = props.get("sentiment")
    label = sentiment.get("label") if isinstance(sentiment, dict) else sentiment
    urgency = props.get("urgency")
    urgent = bool(urgency.get("urgent")) if isinstance(urgency, dict) else False
    return str(label or "").lower() == "negative", urgent


def features_of(history: History, as_of: datetime, *, types: Sequence[str],
                config: IndicatorConfig) -> dict[str, float | str | None]:
    """The features of ``history`` as of ``as_of``, from what happened strictly before it.
    ``types`` are the event types counted over 90 days (the model's own list)."""
    before = sorted((e for e in history.events if e.occurred_at < as_of),
                    key=lambda e: e.occurred_at)
    state: dict[str, Any] = {}
    for event in before:
        fold_event(state, event, config, as_of)
    shown = view(state, config, as_of)
    traits = _traits_as_of(history, as_of)
    window_30 = as_of - timedelta(days=30)
    window_90 = as_of - timedelta(days=90)
    recent = [e for e in before if e.occurred_at >= window_90]

    since = _since(traits.get("customer_since"))
    firsts = [m.date() for m in (history.first_seen, before[0].occurred_at if before else None)
              if m is not None and m < as_of]
    if since is not None and since <= as_of.date():  # a later date is not known then
        firsts.append(since)
    start = min(firsts) if firsts else None
    last_contact = shown["last_contact_at"]
    nps_class = shown["nps_class"]
    negative = urgent = 0
    for event in recent:
        if event.occurred_at >= window_30 and event.type == ANALYZED:
            is_negative, is_urgent = _sentiment(event.properties)
            negative += is_negative
            urgent += is_urgent
    out: dict[str, float | str | None] = {
        "tier": str(traits["tier"]).lower()[:40] if traits.get("tier") else None,
        "segment": str(traits["segment"]).lower()[:40] if traits.get("segment") else None,
        "tenure_days": float((as_of.date() - start).days) if start else None,
        "contacts_7d": float(shown["contacts"]["7d"]["total"]),
        "contacts_30d": float(shown["contacts"]["30d"]["total"]),
        "contacts_90d": float(shown["contacts"]["90d"]["total"]),
        "unsatisfied_30d": float(shown["unsatisfied_contacts"]["30d"]),
        "unsatisfied_90d": float(shown["unsatisfied_contacts"]["90d"]),
        "abandoned_30d": float(sum(1 for e in recent if e.type == "call.abandoned"
                                   and e.occurred_at >= window_30)),
        "abandoned_90d": float(sum(1 for e in recent if e.type == "call.abandoned")),
        "csat_last": shown["csat_last"],
        "csat_average": shown["csat_average"],
        "nps_detractor": 1.0 if nps_class == "detractor" else 0.0,
        "nps_promoter": 1.0 if nps_class == "promoter" else 0.0,
        "negative_30d": float(negative),
        "urgent_30d": float(urgent),
        "days_since_contact": float((as_of - datetime.fromisoformat(last_contact)).days)
        if last_contact else None,
        "spend_90d": round(sum(number((e.properties or {}).get("amount")) or 0.0
                               for e in recent if e.type in MONEY_TYPES), 2),
        "value": number(traits.get("value")),
    }
    counts = Counter(e.type for e in recent)
    for event_type in types:
        out[COUNT_PREFIX + event_type] = float(counts.get(event_type, 0))
    return out


def example_of(history: History, now: datetime, *, cancellation_types: Sequence[str],
               types: Sequence[str], config: IndicatorConfig) -> Example:
    """The training example of one customer: as of their cancellation if they cancelled
    (churned), else as of ``now``."""
    cancelled = cancellation_at(history.events, cancellation_types)
    as_of = cancelled if cancelled is not None and cancelled <= now else now
    return Example(history.customer_id, as_of,
                   features_of(history, as_of, types=types, config=config),
                   churned=cancelled is not None and cancelled <= now)


def feature_names(types: Sequence[str]) -> list[str]:
    return [*CATEGORICAL, *NUMERIC, *(COUNT_PREFIX + t for t in types)]
