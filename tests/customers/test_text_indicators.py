"""What analysed messages add to a customer's indicators (S16), pure: the sentiment trend and
its 30-day average, the last negative contact, urgent contacts in 7/30 days."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from circulo.customers.indicators import (
    RECENT_SCORES,
    EventFacts,
    combine,
    fold_event,
    trend,
    view,
)
from tests.conftest import NOW
from tests.customers.test_indicators import CFG


def analysed(score: float, *, ago: timedelta = timedelta(), urgent: bool = False,
             channel: str = "chat", label: str | None = None, **extra: Any) -> EventFacts:
    label = label or ("negative" if score <= -0.3 else "positive" if score >= 0.3
                      else "neutral")
    return EventFacts("text.analyzed", channel, NOW - ago, {
        "sentiment": label, "sentiment_score": score, "urgent": urgent,
        "reasons": ["legal_threat"] if urgent else [], **extra})


def fold(*events: EventFacts) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for item in events:
        fold_event(state, item, CFG, NOW)
    return state


def test_trend_compares_the_later_half_with_the_earlier() -> None:
    assert trend([]) is None and trend([0.5]) is None
    assert trend([-0.8, -0.6, 0.2, 0.5]) == "improving"
    assert trend([0.6, 0.4, -0.5, -0.9]) == "worsening"
    assert trend([0.1, -0.1, 0.05]) == "steady"


def test_sentiment_recent_average_and_last_negative() -> None:
    state = fold(analysed(0.6, ago=timedelta(days=40)),
                 analysed(-0.8, ago=timedelta(days=2), channel="email"),
                 analysed(-0.4, ago=timedelta(hours=1), urgent=True),
                 analysed(0.2, ago=timedelta(days=10)))
    shown = view(state, CFG, NOW)
    assert shown["sentiment"]["recent"] == [0.6, 0.2, -0.8, -0.4]  # oldest first
    assert shown["sentiment"]["trend"] == "worsening"
    assert shown["sentiment"]["average_30d"] == round((-0.8 - 0.4 + 0.2) / 3, 3)
    assert shown["sentiment"]["messages_30d"] == 3
    assert shown["negative_messages"] == {"7d": 2, "30d": 2, "90d": 2}
    assert shown["urgent_contacts"] == {"7d": 1, "30d": 1, "90d": 1}
    assert shown["last_negative_at"] == (NOW - timedelta(hours=1)).isoformat()
    assert shown["last_negative_channel"] == "chat"
    assert shown["last_urgent_reasons"] == ["legal_threat"]
    assert shown["contacts_total"] == 0


def test_windows_move_with_the_clock() -> None:
    state = fold(analysed(-0.9, ago=timedelta(days=5), urgent=True))
    later = view(state, CFG, NOW + timedelta(days=5))
    assert later["urgent_contacts"] == {"7d": 0, "30d": 1, "90d": 1}
    gone = view(state, CFG, NOW + timedelta(days=31))
    assert gone["sentiment"]["average_30d"] is None
    assert gone["last_negative_at"] == (NOW - timedelta(days=5)).isoformat()  # still known


def test_only_the_last_scores_are_kept_whatever_the_arrival_order() -> None:
    events = [analysed(round(n / 100, 2), ago=timedelta(minutes=100 - n)) for n in range(30)]
    state = fold(*reversed(events))
    assert view(state, CFG, NOW)["sentiment"]["recent"] == \
        [round(n / 100, 2) for n in range(30 - RECENT_SCORES, 30)]


def test_bad_properties_are_ignored() -> None:
    state = fold(EventFacts("text.analyzed", None, NOW, {"sentiment_score": "bad"}),
                 EventFacts("text.analyzed", None, NOW, {"sentiment_score": 7}),
                 EventFacts("text.analyzed", None, NOW, {"urgent": "yes", "reasons": "x"}),
                 EventFacts("text.analyzed", None, NOW, {"urgent": True, "reasons": "x"}))
    shown = view(state, CFG, NOW)
    assert shown["sentiment"]["recent"] == [] and shown["sentiment"]["messages_30d"] == 0
    assert shown["urgent_contacts"]["7d"] == 1 and shown["last_urgent_reasons"] == []


def test_combine_keeps_the_newest_negative_and_the_last_scores() -> None:
    a = fold(analysed(-0.5, ago=timedelta(days=3), channel="email"),
             analysed(0.4, ago=timedelta(days=1)))
    b = fold(analysed(-0.7, ago=timedelta(days=2), channel="sms", urgent=True))
    merged = view(combine(a, b), CFG, NOW)
    assert merged["sentiment"]["recent"] == [-0.5, -0.7, 0.4]
    assert merged["last_negative_channel"] == "sms"
    assert merged["urgent_contacts"]["7d"] == 1
    assert merged == view(combine(b, a), CFG, NOW)
