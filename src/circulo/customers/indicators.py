"""Customer indicators, kept incrementally on ingest. Pure.

The stored state is small and bounded: scalar running values plus one bucket per local day
for the last 90 days (contacts by channel, unsatisfied contacts, abandoned calls). Windows
(7/30/90 days, "today") are read by summing at most 90 buckets relative to *now*, so they
stay correct as time passes without touching events again (ADR 0003). Merging two profiles
combines their states (``combine``); the fold and the combine agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

WINDOW_DAYS = 90
WINDOWS = (7, 30, 90)
CHANNEL_OF_PREFIX = {
    "call": "voice", "chat": "chat", "email": "email", "sms": "sms", "message": "chat",
    "visit": "in_person", "complaint": "other", "interaction": "other",
}
UNSATISFIED_OUTCOMES = {"unsatisfied", "unresolved", "complaint", "angry", "escalated"}
# What reading a customer's messages found arrives as this event (circulo.textan, ADR 0025).
TEXT_ANALYZED = "text.analyzed"
RECENT_SCORES = 10  # the sentiment scores of the last messages, kept for the trend
TREND_STEP = 0.2  # the later half's mean this much above (below) the earlier: improving


@dataclass(frozen=True, slots=True)
class IndicatorConfig:
    tz: ZoneInfo
    contact_types: frozenset[str]


@dataclass(frozen=True, slots=True)
class EventFacts:
    type: str
    channel: str | None
    occurred_at: datetime
    properties: dict[str, Any]


def _local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def number(value: Any) -> float | None:
    """A number however a source wrote it (3, 3.5, "3.5"); None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def channel_of(event: EventFacts) -> str:
    if event.channel:
        return event.channel
    return CHANNEL_OF_PREFIX.get(event.type.split(".", 1)[0], "other")


def is_unsatisfied(event: EventFacts) -> bool:
    props = event.properties
    if event.type == "complaint.filed":
        return True
    if props.get("satisfied") is False:
        return True
    outcome = str(props.get("outcome") or props.get("sentiment") or "").lower()
    return outcome in UNSATISFIED_OUTCOMES or outcome == "negative"


def nps_class(score: float) -> str:
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


def fold_event(state: dict[str, Any], event: EventFacts, cfg: IndicatorConfig,
               now: datetime) -> None:
    """Update ``state`` in place with one event."""
    stamp = event.occurred_at.isoformat()
    day = _local_day(event.occurred_at, cfg.tz)
    in_window = day > _local_day(now, cfg.tz) - timedelta(days=WINDOW_DAYS)
    days: dict[str, dict[str, int]] = state.setdefault("days", {})

    def bump(key: str, by: int = 1) -> None:
        if in_window:
            bucket = days.setdefault(day.isoformat(), {})
            bucket[key] = bucket.get(key, 0) + by

    if event.type in cfg.contact_types:
        state["contacts_total"] = state.get("contacts_total", 0) + 1
        bump(channel_of(event))
        if event.type == "call.abandoned":
            bump("_abandoned")
        if is_unsatisfied(event):
            bump("_unsat")
            state["unsatisfied_total"] = state.get("unsatisfied_total", 0) + 1
        if stamp >= state.get("last_contact_at", ""):
            state["last_contact_at"] = stamp
            state["last_contact_channel"] = channel_of(event)
            state["last_contact_type"] = event.type
            reason = event.properties.get("reason") or event.properties.get("disposition")
            state["last_contact_reason"] = str(reason)[:200] if reason else None

    if event.type == TEXT_ANALYZED:
        fold_text(state, event, stamp, bump)

    if event.type == "survey.answered":
        csat = number(event.properties.get("csat"))
        if csat is not None and 1 <= csat <= 5:
            state["csat_sum"] = state.get("csat_sum", 0.0) + csat
            state["csat_count"] = state.get("csat_count", 0) + 1
            if stamp >= state.get("csat_last_at", ""):
                state["csat_last"] = csat
                state["csat_last_at"] = stamp
            if csat <= 2:
                bump("_unsat")
                state["unsatisfied_total"] = state.get("unsatisfied_total", 0) + 1
        nps = number(event.properties.get("nps"))
        if nps is not None and 0 <= nps <= 10 and stamp >= state.get("nps_last_at", ""):
            state["nps_last"] = nps
            state["nps_class"] = nps_class(nps)
            state["nps_last_at"] = stamp
    if stamp >= state.get("last_event_at", ""):
        state["last_event_at"] = stamp
    if stamp < state.get("first_event_at", "~"):
        state["first_event_at"] = stamp
    prune(state, cfg, now)


def fold_text(state: dict[str, Any], event: EventFacts, stamp: str,
              bump: Any) -> None:
    """One analysed message: its sentiment score in the recent list and the day's sums (in
    thousandths: buckets hold integers), negatives and urgent ones counted by day."""
    props = event.properties
    score = number(props.get("sentiment_score"))
    if score is not None and -1.0 <= score <= 1.0:
        recent = [list(x) for x in state.get("sentiment_recent", [])]
        recent.append([stamp, round(score, 3)])
        recent.sort(key=lambda x: str(x[0]))
        state["sentiment_recent"] = recent[-RECENT_SCORES:]
        bump("_sent_n")
        bump("_sent_milli", round(score * 1000))
    if props.get("sentiment") == "negative":
        bump("_negative")
        if stamp >= state.get("last_negative_at", ""):
            state["last_negative_at"] = stamp
            state["last_negative_channel"] = channel_of(event)
    if props.get("urgent") is True:
        bump("_urgent")
        if stamp >= state.get("last_urgent_at", ""):
            state["last_urgent_at"] = stamp
            reasons = props.get("reasons")
            state["last_urgent_reasons"] = [str(r)[:40] for r in reasons[:10]] \
                if isinstance(reasons, list) else []


def trend(scores: list[float]) -> str | None:
    """improving, worsening or steady: the later half of the scores against the earlier
    half; None with fewer than two."""
    if len(scores) < 2:
        return None
    half = len(scores) // 2
    earlier, later = scores[:half], scores[len(scores) - half:]
    change = sum(later) / len(later) - sum(earlier) / len(earlier)
    return "improving" if change >= TREND_STEP else "worsening" if change <= -TREND_STEP \
        else "steady"


def apply_record_change(
    state: dict[str, Any], kind: str, *, was_open: bool | None, is_open: bool,
    counted_before: float, counted_after: float,
) -> None:
    """A record was created (``was_open is None``) or changed state."""
    open_by_kind: dict[str, int] = state.setdefault("open_records", {})
    delta = (1 if is_open else 0) - (1 if was_open else 0)
    if delta:
        open_by_kind[kind] = max(0, open_by_kind.get(kind, 0) + delta)
        if open_by_kind[kind] == 0:
            open_by_kind.pop(kind)
    if was_open is None:
        totals: dict[str, int] = state.setdefault("records_total", {})
        totals[kind] = totals.get(kind, 0) + 1
    if counted_after != counted_before:
        state["lifetime_value"] = round(
            state.get("lifetime_value", 0.0) + counted_after - counted_before, 2
        )


def prune(state: dict[str, Any], cfg: IndicatorConfig, now: datetime) -> None:
    days = state.get("days")
    if not days:
        return
    oldest = (_local_day(now, cfg.tz) - timedelta(days=WINDOW_DAYS - 1)).isoformat()
    for key in [k for k in days if k < oldest]:
        del days[key]


def combine(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The state of one customer who is both ``a`` and ``b`` (a merge)."""
    out: dict[str, Any] = {}
    for key in ("contacts_total", "unsatisfied_total", "csat_count"):
        out[key] = a.get(key, 0) + b.get(key, 0)
    out["csat_sum"] = a.get("csat_sum", 0.0) + b.get("csat_sum", 0.0)
    out["lifetime_value"] = round(a.get("lifetime_value", 0.0) + b.get("lifetime_value", 0.0), 2)
    for group in ("open_records", "records_total"):
        merged: dict[str, int] = dict(a.get(group, {}))
        for kind, count in b.get(group, {}).items():
            merged[kind] = merged.get(kind, 0) + count
        out[group] = merged
    days: dict[str, dict[str, int]] = {k: dict(v) for k, v in a.get("days", {}).items()}
    for day, bucket in b.get("days", {}).items():
        target = days.setdefault(day, {})
        for key, count in bucket.items():
            target[key] = target.get(key, 0) + count
    out["days"] = days
    groups = {
        "last_contact_at": ("last_contact_channel", "last_contact_type", "last_contact_reason"),
        "csat_last_at": ("csat_last",),
        "nps_last_at": ("nps_last", "nps_class"),
        "last_event_at": (),
        "last_negative_at": ("last_negative_channel",),
        "last_urgent_at": ("last_urgent_reasons",),
    }
    for stamp, keys in groups.items():
        newer = a if a.get(stamp, "") >= b.get(stamp, "") else b
        if newer.get(stamp):
            out[stamp] = newer[stamp]
            for key in keys:
                out[key] = newer.get(key)
    recent = sorted([list(x) for s in (a, b) for x in s.get("sentiment_recent", [])],
                    key=lambda x: str(x[0]))
    if recent:
        out["sentiment_recent"] = recent[-RECENT_SCORES:]
    firsts = [s["first_event_at"] for s in (a, b) if s.get("first_event_at")]
    if firsts:
        out["first_event_at"] = min(firsts)
    return {k: v for k, v in out.items() if v not in (None, {}, 0, 0.0) or k == "days"}


def view(state: dict[str, Any], cfg: IndicatorConfig, now: datetime) -> dict[str, Any]:
    """The indicators as shown: windows computed relative to ``now``."""
    today = _local_day(now, cfg.tz)
    contacts: dict[str, dict[str, int]] = {f"{w}d": {} for w in WINDOWS}
    unsatisfied = {f"{w}d": 0 for w in WINDOWS}
    abandoned_today = 0
    texts = {f"{w}d": {"_sent_n": 0, "_sent_milli": 0, "_negative": 0, "_urgent": 0}
             for w in WINDOWS}
    for day_key, bucket in state.get("days", {}).items():
        age = (today - date.fromisoformat(day_key)).days
        if age < 0 or age >= WINDOW_DAYS:
            continue
        if age == 0:
            abandoned_today = bucket.get("_abandoned", 0)
        for window in WINDOWS:
            if age < window:
                label = f"{window}d"
                for key, count in bucket.items():
                    if key == "_unsat":
                        unsatisfied[label] += count
                    elif key in texts[label]:
                        texts[label][key] += count
                    elif not key.startswith("_"):
                        contacts[label][key] = contacts[label].get(key, 0) + count
    csat_count = state.get("csat_count", 0)
    return {
        "contacts": {label: {"total": sum(c.values()), "by_channel": c}
                     for label, c in contacts.items()},
        "unsatisfied_contacts": unsatisfied,
        "abandoned_calls_today": abandoned_today,
        "csat_last": state.get("csat_last"),
        "csat_average": round(state.get("csat_sum", 0.0) / csat_count, 2) if csat_count else None,
        "csat_count": csat_count,
        "nps_last": state.get("nps_last"),
        "nps_class": state.get("nps_class"),
        "open_records": dict(state.get("open_records", {})),
        "records_total": dict(state.get("records_total", {})),
        "lifetime_value": state.get("lifetime_value", 0.0),
        "contacts_total": state.get("contacts_total", 0),
        "last_contact_at": state.get("last_contact_at"),
        "last_contact_channel": state.get("last_contact_channel"),
        "last_contact_reason": state.get("last_contact_reason"),
        "first_event_at": state.get("first_event_at"),
        **text_view(state, texts),
    }


def text_view(state: dict[str, Any], texts: dict[str, dict[str, int]]) -> dict[str, Any]:
    """What the customer's analysed messages add up to (S16): the sentiment trend, the last
    negative contact, urgent contacts by window."""
    scores = [float(s) for _, s in state.get("sentiment_recent", [])]
    month = texts["30d"]
    return {
        "sentiment": {
            "recent": scores,
            "trend": trend(scores),
            "average_30d": round(month["_sent_milli"] / month["_sent_n"] / 1000, 3)
            if month["_sent_n"] else None,
            "messages_30d": month["_sent_n"],
        },
        "negative_messages": {label: t["_negative"] for label, t in texts.items()},
        "urgent_contacts": {label: t["_urgent"] for label, t in texts.items()},
        "last_negative_at": state.get("last_negative_at"),
        "last_negative_channel": state.get("last_negative_channel"),
        "last_urgent_at": state.get("last_urgent_at"),
        "last_urgent_reasons": list(state.get("last_urgent_reasons") or []),
    }
