"""Reading a customer's SMS reply to a callback-slot offer, and writing the offer."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from circulo.connectors.slot_replies import choose_slot, render_slots

MADRID = ZoneInfo("Europe/Madrid")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # Tuesday 24/11, 11:00 in Madrid


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=MADRID).astimezone(UTC)


# 1) hoy 16:00  2) hoy 17:00  3) mañana 10:00  4) mañana 17:30  5) lun 30/11 10:00
SLOTS = [local(24, 16), local(24, 17), local(25, 10), local(25, 17, 30), local(30, 10)]

REPLIES = [
    # by position
    ("1", 0), ("2", 1), (" 2 ", 1), ("5", 4), ("opción 2", 1), ("Opcion 2", 1), ("la 2", 1),
    ("option 2", 1), ("#2", 1), ("# 3", 2), ("2.", 1), ("2)", 1), ("2️⃣", 1),
    ("Opción 3, gracias!", 2), ("la 2 por favor", 1), ("vale, la 2", 1), ("ok 4", 3),
    ("la segunda", 1), ("la primera opción", 0), ("the second one", 1), ("first", 0),
    ("2nd", 1), ("1a", 0), ("número 5", 4), ("option #4", 3),
    ("opción nº 2", 1), ("No. 3", 2), ("n° 1", 0), ("Sí, el 3", 2), ("3 por favor", 2),
    ("la 1", 0), ("a la 1", None),
    # day and time
    ("mañana 10h", 2), ("mañana a las 10", 2), ("manana 10:00", 2), ("MAÑANA A LAS 10", 2),
    ("tomorrow 10am", 2), ("tomorrow at 10", 2), ("Tomorrow at 10 a.m.", 2),
    ("hoy 17h", 1), ("today 5pm", 1), ("hoy a las 5 de la tarde", 1), ("hoy 16:00", 0),
    ("today at 4 p.m.", 0), ("esta tarde a las 4", 0), ("this afternoon at 5", 1),
    ("mañana por la tarde a las 5 y media", 3), ("mañana 17:30", 3), ("tomorrow 17.30", 3),
    ("tomorrow half past 5", 3), ("mañana 17h30", 3), ("mañana 10", 2),
    ("mañana por la mañana", 2), ("mañana a las 10 de la mañana", 2),
    ("martes 16h", 0), ("miércoles 10", 2), ("wednesday at 5:30pm", 3),
    ("lunes 10", 4), ("monday 10:00", 4), ("lun 30/11 10:00", 4), ("Mon 30/11 10:00", 4),
    ("30/11 10h", 4), ("el lunes a las 10", 4), ("lunes", 4), ("monday", 4),
    # time alone: the first offered slot at that time
    ("10:00", 2), ("10h", 2), ("10.00h", 2), ("a las 17:30", 3), ("17:30h", 3), ("4pm", 0),
    ("a las 4", 0), ("a las 5", 1), ("las 5", 1), ("at 5", 1), ("5 pm", 1),
    ("10 de la mañana", 2), ("17 horas", 1), ("a las 16:00, gracias", 0),
    ("a las 4 y media", None), ("5:30 pm", 3),
    # not understood, or no such slot: ask again
    ("", None), ("hola", None), ("0", None), ("6", None), ("10", None), ("1 o 2", None),
    ("no", None), ("no, mañana no", None), ("ninguna", None), ("none of them", None),
    ("can't tomorrow", None), ("mañana", None), ("hoy", None), ("tomorrow", None),
    ("hoy 10h", None), ("pasado mañana a las 10", None), ("domingo 10h", None),
    ("10:00 u 11:00", None), ("hoy o mañana a las 10", None), ("25:00", None),
    ("10:75", None), ("tomorrow at 10pm", None), ("17am", None), ("mediodía", None),
    ("llamadme cuando podáis", None), ("1/12 10:00", None), ("la 2 o la 3", None),
]


@pytest.mark.parametrize(("reply", "expected"), REPLIES)
def test_a_reply_picks_the_slot_it_names(reply: str, expected: int | None) -> None:
    assert choose_slot(reply, SLOTS, MADRID, NOW) == expected


@pytest.mark.parametrize(("reply", "expected"), [
    ("pasado mañana a las 10", 0), ("26/11 10h", 0), ("jueves 10", 0), ("thu 10am", 0),
    ("a mediodía", 1), ("at noon", 1), ("12h", 1), ("10 y cuarto", 2),
    ("quarter past 10", 2), ("11 menos cuarto", 3), ("quarter to 11", 3),
    ("26/11 a las 10:00", 0), ("27/11 10h", None),
])
def test_more_ways_of_saying_a_day_and_a_time(reply: str, expected: int | None) -> None:
    slots = [local(26, 10), local(26, 12), local(26, 10, 15), local(26, 10, 45)]
    assert choose_slot(reply, slots, MADRID, NOW) == expected


def test_days_are_local_dates_not_utc_dates() -> None:
    # 00:30 in Madrid on Wednesday is still Tuesday in UTC: "mañana" is Wednesday.
    slots = [local(25, 0, 30), local(25, 10)]
    assert choose_slot("mañana 0:30", slots, MADRID, NOW) == 0
    assert choose_slot("hoy 0:30", slots, MADRID, NOW) is None
    late_evening = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)  # already Wednesday in Madrid
    assert choose_slot("hoy 10h", slots, MADRID, late_evening) == 1
    assert choose_slot("mañana 10h", slots, MADRID, late_evening) is None


def test_an_exact_hour_wins_over_its_afternoon_reading() -> None:
    slots = [local(25, 17), local(25, 5)]
    assert choose_slot("a las 5", slots, MADRID, NOW) == 1
    assert choose_slot("a las 5 de la tarde", slots, MADRID, NOW) == 0


def test_no_slots_and_naive_times() -> None:
    assert choose_slot("1", [], MADRID, NOW) is None
    with pytest.raises(ValueError, match="timezone-aware"):
        choose_slot("1", [datetime(2026, 11, 25, 10)], MADRID, NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        choose_slot("1", SLOTS, MADRID, datetime(2026, 11, 24, 10))


@pytest.mark.parametrize(("language", "expected"), [
    ("es", "1) hoy 16:00 2) hoy 17:00 3) mañana 10:00 4) mañana 17:30 5) lun 30/11 10:00"),
    ("en", "1) today 16:00 2) today 17:00 3) tomorrow 10:00 4) tomorrow 17:30 "
           "5) Mon 30/11 10:00"),
    ("en-GB", "1) today 16:00 2) today 17:00 3) tomorrow 10:00 4) tomorrow 17:30 "
              "5) Mon 30/11 10:00"),
    ("fr", "1) hoy 16:00 2) hoy 17:00 3) mañana 10:00 4) mañana 17:30 5) lun 30/11 10:00"),
])
def test_the_offer_reads_in_the_customer_s_language(language: str, expected: str) -> None:
    assert render_slots(SLOTS, MADRID, language, NOW) == expected


def test_other_days_show_weekday_and_date() -> None:
    slots = [local(26, 9, 5), local(2, 18, month=12), local(29, 12)]
    assert render_slots(slots, MADRID, "es", NOW) == (
        "1) jue 26/11 09:05 2) mié 2/12 18:00 3) dom 29/11 12:00")
    assert render_slots(slots, MADRID, "en", NOW) == (
        "1) Thu 26/11 09:05 2) Wed 2/12 18:00 3) Sun 29/11 12:00")
    assert render_slots([], MADRID, "es", NOW) == ""


@pytest.mark.parametrize("language", ["es", "en"])
def test_every_line_of_the_offer_reads_back_as_its_slot(language: str) -> None:
    slots = [*SLOTS, local(26, 9, 5), local(2, 18, month=12)]
    offer = render_slots(slots, MADRID, language, NOW)
    lines = _entries(offer)
    assert len(lines) == len(slots)
    for index, line in enumerate(lines):
        assert choose_slot(line, slots, MADRID, NOW) == index, line


def _entries(offer: str) -> list[str]:
    """``1) hoy 16:00 2) mañana 10:00`` → ["hoy 16:00", "mañana 10:00"]."""
    return [entry.strip() for entry in re.split(r"\b\d+\) ", offer) if entry.strip()]
