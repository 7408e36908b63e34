"""Customer indicators: the pure fold/combine/view of customers/indicators.py, in the contact
center's time zone, and "abandoned today" on the card as the clock moves."""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from circulo.clock import FixedClock
from circulo.config import DEFAULT_CONTACT_TYPES
from circulo.customers.indicators import (
    EventFacts,
    IndicatorConfig,
    combine,
    fold_event,
    nps_class,
    view,
)
from tests.conftest import NOW, Api
from tests.factories import customer, event

MADRID = ZoneInfo("Europe/Madrid")
CFG = IndicatorConfig(tz=MADRID, contact_types=frozenset(DEFAULT_CONTACT_TYPES))


def facts(event_type: str = "call.completed", *, ago: timedelta = timedelta(),
          at: datetime | None = None, channel: str | None = None, **properties: Any
          ) -> EventFacts:
    return EventFacts(event_type, channel, (at or NOW) - ago, properties)


def fold(events: list[EventFacts], now: datetime = NOW,
         state: dict[str, Any] | None = None) -> dict[str, Any]:
    state = {} if state is None else state
    for item in events:
        fold_event(state, item, CFG, now)
    return state


def days(n: float) -> timedelta:
    return timedelta(days=n)


# --- contact windows ---------------------------------------------------------------------------

def test_contacts_by_window_and_channel() -> None:
    state = fold([
        facts(ago=timedelta(hours=2), channel="voice"),
        facts("chat.completed", ago=days(3)),                      # channel from the type
        facts("email.received", ago=days(10)),
        facts("call.completed", ago=days(20), channel="whatsapp"),  # explicit channel wins
        facts("call.missed", ago=days(45)),
        facts("visit.completed", ago=days(89)),
        facts("call.completed", ago=days(100), channel="voice"),   # outside every window
        facts("order.placed", ago=days(1), order_id="O-1"),        # not a contact
        facts("page.viewed", ago=days(1), channel="web"),          # not a contact
    ])
    shown = view(state, CFG, NOW)
    contacts = shown["contacts"]
    assert contacts["7d"] == {"total": 2, "by_channel": {"voice": 1, "chat": 1}}
    assert contacts["30d"] == {"total": 4, "by_channel": {"voice": 1, "chat": 1, "email": 1,
                                                         "whatsapp": 1}}
    assert contacts["90d"] == {"total": 6, "by_channel": {"voice": 2, "chat": 1, "email": 1,
                                                         "whatsapp": 1, "in_person": 1}}
    assert shown["contacts_total"] == 7  # all time, including the one of 100 days ago
    assert shown["last_contact_at"] == (NOW - timedelta(hours=2)).isoformat()
    assert shown["last_contact_channel"] == "voice"


def test_windows_follow_now_without_refolding() -> None:
    state = fold([facts(ago=days(6), channel="voice"),
                  facts(ago=days(25), channel="email")])
    frozen = copy.deepcopy(state)
    assert view(state, CFG, NOW)["contacts"]["7d"]["total"] == 1
    later = view(state, CFG, NOW + days(2))
    assert later["contacts"]["7d"]["total"] == 0
    assert later["contacts"]["30d"]["total"] == 2
    much_later = view(state, CFG, NOW + days(6))
    assert much_later["contacts"]["30d"] == {"total": 1, "by_channel": {"voice": 1}}
    assert view(state, CFG, NOW + days(85))["contacts"]["90d"]["total"] == 0
    assert state == frozen, "view must not change the stored state"


def test_windows_are_counted_in_local_days() -> None:
    # The 7-day window is today and the six local days before it, not 7×24 hours.
    noon_17 = datetime(2026, 11, 17, 12, 0, tzinfo=UTC)
    assert NOW - noon_17 < days(7)
    state = fold([facts(at=noon_17, channel="voice")])
    assert view(state, CFG, NOW)["contacts"]["7d"]["total"] == 0
    assert view(state, CFG, NOW)["contacts"]["30d"]["total"] == 1
    # 23:30 UTC on 17 Nov is already 18 Nov in Madrid: inside (it would not be in UTC).
    late_17 = datetime(2026, 11, 17, 23, 30, tzinfo=UTC)
    assert view(fold([facts(at=late_17)]), CFG, NOW)["contacts"]["7d"]["total"] == 1


def test_old_days_are_pruned_but_all_time_totals_stay() -> None:
    old_day = (NOW - days(80)).date().isoformat()
    state = fold([facts(ago=days(80))])
    assert old_day in state["days"]
    fold_event(state, facts(ago=timedelta()), CFG, NOW + days(30))
    assert old_day not in state["days"]
    assert list(state["days"]) == [NOW.date().isoformat()]
    shown = view(state, CFG, NOW + days(30))
    assert shown["contacts"]["90d"]["total"] == 1
    assert shown["contacts_total"] == 2


# --- abandoned calls today ---------------------------------------------------------------------

def test_abandoned_calls_today_reset_on_the_next_local_day() -> None:
    # 22:30 UTC on 24 Nov is 23:30 in Madrid: still "today" until 23:00 UTC.
    evening = datetime(2026, 11, 24, 22, 30, tzinfo=UTC)
    state = fold([facts("call.abandoned", at=evening),
                  facts("call.abandoned", at=evening, ago=timedelta(hours=3)),
                  facts("call.completed", at=evening)], now=evening)
    assert view(state, CFG, evening)["abandoned_calls_today"] == 2
    assert view(state, CFG, datetime(2026, 11, 24, 22, 59, tzinfo=UTC))[
        "abandoned_calls_today"] == 2
    next_day = view(state, CFG, datetime(2026, 11, 24, 23, 1, tzinfo=UTC))
    assert next_day["abandoned_calls_today"] == 0
    # They are still contacts of the last 7 days.
    assert next_day["contacts"]["7d"]["total"] == 3


def test_an_abandoned_call_just_after_local_midnight_is_today() -> None:
    # 23:30 UTC on 23 Nov is 00:30 on 24 Nov in Madrid: today, though yesterday in UTC.
    state = fold([facts("call.abandoned", at=datetime(2026, 11, 23, 23, 30, tzinfo=UTC)),
                  facts("call.abandoned", at=datetime(2026, 11, 23, 22, 30, tzinfo=UTC))])
    assert view(state, CFG, NOW)["abandoned_calls_today"] == 1


# --- satisfaction ------------------------------------------------------------------------------

def test_unsatisfied_contacts_from_low_csat_and_bad_outcomes() -> None:
    state = fold([
        facts("survey.answered", ago=days(1), csat=2),
        facts("survey.answered", ago=days(2), csat=1),
        facts("survey.answered", ago=days(3), csat=3),          # neutral: not unsatisfied
        facts("call.completed", ago=days(4), outcome="unresolved"),
        facts("call.completed", ago=days(5), outcome="Unresolved"),
        facts("call.completed", ago=days(6), outcome="resolved"),
        facts("chat.completed", ago=days(20), satisfied=False),
        facts("complaint.filed", ago=days(60)),
    ])
    shown = view(state, CFG, NOW)
    assert shown["unsatisfied_contacts"] == {"7d": 4, "30d": 5, "90d": 6}
    # Surveys are not contacts; the calls, chat and complaint are.
    assert shown["contacts"]["90d"]["total"] == 5
    assert view(state, CFG, NOW + days(3))["unsatisfied_contacts"]["7d"] == 2


def test_csat_last_and_average() -> None:
    state = fold([
        facts("survey.answered", ago=days(3), csat=5),
        facts("survey.answered", ago=days(1), csat=2),
        facts("survey.answered", ago=days(2), csat=4),  # arrives late: not the last
        facts("survey.answered", ago=days(1), csat=9),  # out of range: ignored
        facts("survey.answered", ago=days(1), csat="n/a"),
    ])
    shown = view(state, CFG, NOW)
    assert shown["csat_last"] == 2
    assert shown["csat_count"] == 3
    assert shown["csat_average"] == pytest.approx(3.67)
    assert view({}, CFG, NOW)["csat_average"] is None


@pytest.mark.parametrize(("score", "expected"), [
    (10, "promoter"), (9, "promoter"), (8, "passive"), (7, "passive"), (6, "detractor"),
    (0, "detractor"),
])
def test_nps_class(score: int, expected: str) -> None:
    assert nps_class(score) == expected
    state = fold([facts("survey.answered", nps=score)])
    assert view(state, CFG, NOW)["nps_class"] == expected
    assert view(state, CFG, NOW)["nps_last"] == score


def test_the_most_recent_nps_wins() -> None:
    state = fold([facts("survey.answered", ago=days(1), nps=3),
                  facts("survey.answered", ago=days(5), nps=10),
                  facts("survey.answered", ago=days(1), nps=11)])  # out of range
    shown = view(state, CFG, NOW)
    assert (shown["nps_last"], shown["nps_class"]) == (3, "detractor")


# --- order of arrival and merges ---------------------------------------------------------------

def test_an_older_event_after_a_newer_one_keeps_the_latest_last_contact() -> None:
    state = fold([
        facts("chat.completed", ago=days(1), reason="factura"),
        facts("call.completed", ago=days(3), channel="voice", reason="alta"),
    ])
    shown = view(state, CFG, NOW)
    assert shown["last_contact_at"] == (NOW - days(1)).isoformat()
    assert shown["last_contact_channel"] == "chat"
    assert shown["last_contact_reason"] == "factura"
    assert state["last_contact_type"] == "chat.completed"
    assert shown["contacts"]["7d"]["total"] == 2


TYPES = ["call.completed", "call.abandoned", "chat.completed", "email.received",
         "survey.answered", "order.placed", "complaint.filed", "page.viewed", "text.analyzed"]


def random_events(rng: random.Random, count: int) -> list[EventFacts]:
    seconds = rng.sample(range(0, 120 * 86_400), count)  # distinct instants: no ties
    out = []
    for offset in seconds:
        kind = rng.choice(TYPES)
        props: dict[str, Any] = {}
        if kind == "survey.answered":
            props = {"csat": rng.randint(1, 5), "nps": rng.randint(0, 10)}
        elif kind == "text.analyzed":
            props = {"sentiment": rng.choice(["negative", "neutral", "positive"]),
                     "sentiment_score": round(rng.uniform(-1, 1), 3),
                     "urgent": rng.random() < 0.3, "reasons": ["churn_threat"]}
        elif rng.random() < 0.3:
            props = {"outcome": rng.choice(["resolved", "unresolved", "escalated"]),
                     "reason": rng.choice(["factura", "avería", "baja"])}
        channel = rng.choice([None, "voice", "whatsapp", "email"])
        out.append(EventFacts(kind, channel, NOW - timedelta(seconds=offset), props))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_combining_two_states_equals_folding_every_event_into_one(seed: int) -> None:
    rng = random.Random(seed)
    events = random_events(rng, rng.randint(1, 60))
    rng.shuffle(events)
    cut = rng.randint(0, len(events))
    a, b = fold(events[:cut]), fold(events[cut:])
    together = fold(events)
    for now in (NOW, NOW + days(1), NOW + days(10)):
        assert view(combine(a, b), CFG, now) == view(together, CFG, now)
        assert view(combine(b, a), CFG, now) == view(together, CFG, now)
    merged = combine(a, b)
    for key in ("contacts_total", "unsatisfied_total", "csat_count", "last_contact_at",
                "last_contact_type", "last_event_at", "nps_last_at", "csat_last_at",
                "sentiment_recent", "last_negative_at", "last_urgent_at"):
        assert merged.get(key) == together.get(key), key


def test_combine_with_an_empty_state_changes_nothing() -> None:
    state = fold(random_events(random.Random(7), 30))
    assert view(combine(state, {}), CFG, NOW) == view(state, CFG, NOW)
    assert view(combine({}, state), CFG, NOW) == view(state, CFG, NOW)


def test_combine_adds_records_and_value() -> None:
    a = {"open_records": {"order": 1}, "records_total": {"order": 2}, "lifetime_value": 10.5}
    b = {"open_records": {"order": 2, "ticket": 1}, "records_total": {"ticket": 1},
         "lifetime_value": 4.25}
    shown = view(combine(a, b), CFG, NOW)
    assert shown["open_records"] == {"order": 3, "ticket": 1}
    assert shown["records_total"] == {"order": 2, "ticket": 1}
    assert shown["lifetime_value"] == pytest.approx(14.75)


# --- through the API, with the clock -----------------------------------------------------------

def _indicator(card: dict[str, Any], key: str) -> Any:
    return next(i["value"] for i in card["indicators"] if i["key"] == key)


def test_abandoned_calls_today_on_the_card_until_tomorrow(api: Api, clock: FixedClock) -> None:
    api.send(customer("CRM-1", phone="600 123 456", first_name="María"),
             event("call.abandoned", at=NOW, ago=timedelta(hours=1),
                   identifiers={"phone": "600123456"}),
             event("call.abandoned", at=NOW, ago=timedelta(minutes=10),
                   identifiers={"phone": "600123456"}))
    card = api.card(phone="600123456", role="support")["card"]
    assert _indicator(card, "abandoned_calls_today") == 2
    badges = {b["code"]: b for b in card["badges"]}
    assert badges["abandoned_today"]["label"] == "Ha colgado hoy"
    assert badges["abandoned_today"]["tone"] == "orange"

    clock.advance(timedelta(days=1))
    card = api.card(phone="600123456", role="support")["card"]
    assert _indicator(card, "abandoned_calls_today") == 0
    assert "abandoned_today" not in {b["code"] for b in card["badges"]}
    assert _indicator(card, "contacts_7d") == 2


def test_a_new_abandoned_call_tomorrow_shows_the_badge_again(api: Api,
                                                              clock: FixedClock) -> None:
    api.send(event("call.abandoned", at=NOW, identifiers={"phone": "600123456"}))
    clock.advance(timedelta(days=1))
    assert "abandoned_today" not in {
        b["code"] for b in api.card(phone="600123456")["card"]["badges"]}
    api.send(event("call.abandoned", at=clock.now(), identifiers={"phone": "600123456"}))
    card = api.card(phone="600123456")["card"]
    assert _indicator(card, "abandoned_calls_today") == 1
    assert "abandoned_today" in {b["code"] for b in card["badges"]}
