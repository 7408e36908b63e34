"""Callback slots by SMS: the offer (``render_slots``) and the reading of the customer's
reply (``choose_slot``). Pure: text, slots, zone and the current time in; an index out.

A reply picks a slot by its number ("2", "opción 2", "la segunda"), by its time ("10h",
"a las 17:30", "5pm") or by day and time ("mañana a las 10", "lunes 10:00", "30/11 16h").
The reading is deliberately cautious: a reply that says "no", names two times or days, or
matches no offered slot is not understood (None), and the journey asks again or hands the
customer to an agent. Booking the wrong callback costs more than a second question.

Day and time are read in the contact center's zone, relative to the local date of ``now``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = {
    "lunes": 0, "lun": 0, "monday": 0, "mon": 0,
    "martes": 1, "mar": 1, "tuesday": 1, "tue": 1, "tues": 1,
    "miercoles": 2, "mie": 2, "mier": 2, "wednesday": 2, "wed": 2,
    "jueves": 3, "jue": 3, "thursday": 3, "thu": 3, "thur": 3, "thurs": 3,
    "viernes": 4, "vie": 4, "friday": 4, "fri": 4,
    "sabado": 5, "sab": 5, "saturday": 5, "sat": 5,
    "domingo": 6, "dom": 6, "sunday": 6, "sun": 6,
}
WEEKDAY_ABBREVIATIONS = {
    "es": ("lun", "mar", "mié", "jue", "vie", "sáb", "dom"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
RELATIVE_DAYS = {"es": ("hoy", "mañana"), "en": ("today", "tomorrow")}
ORDINALS = {
    "primera": 1, "primero": 1, "first": 1, "segunda": 2, "segundo": 2, "second": 2,
    "tercera": 3, "tercero": 3, "third": 3, "cuarta": 4, "cuarto": 4, "fourth": 4,
    "quinta": 5, "quinto": 5, "fifth": 5,
}
NEGATIONS = frozenset({"no", "not", "ninguna", "ninguno", "ningun", "none", "neither",
                       "nunca", "never", "cannot", "cant", "wont", "nope"})
FILLERS = re.compile(
    r"\b(?:gracias|muchas|por favor|porfa|please|pls|thanks|thank you|thx|ok|okay|vale|"
    r"si|yes|yeah|yep|perfecto|perfect|genial|great|bien|fine|sure|claro|de acuerdo|"
    r"prefiero|quiero|mejor|me va bien|me viene bien|i prefer|i choose|i want|i'?ll take|"
    r"take|pick|elijo|escojo|la|el|the|one|numero|number|num|nro|opcion|option)\b")

# Phrases that say morning or afternoon, and which day when they say it ("esta tarde").
_MERIDIEM = [
    (re.compile(r"\besta manana\b|\bthis morning\b"), "am", 0),
    (re.compile(r"\besta (?:tarde|noche)\b|\bthis (?:afternoon|evening)\b|\btonight\b"),
     "pm", 0),
    (re.compile(r"\b(?:de|por) la manana\b|\bin the morning\b|\bmorning\b"), "am", None),
    (re.compile(r"\b(?:de|por) la (?:tarde|noche)\b|\bin the (?:afternoon|evening)\b"
                r"|\b(?:afternoon|evening|tarde|noche)\b"), "pm", None),
]
_RELATIVE = [
    (re.compile(r"\bpasado manana\b|\b(?:the )?day after tomorrow\b"), 2),
    (re.compile(r"\bhoy\b|\btoday\b"), 0),
    (re.compile(r"\bmanana\b|\btomorrow\b"), 1),
]
_WEEKDAY = re.compile(r"\b(" + "|".join(sorted(WEEKDAYS, key=len, reverse=True)) + r")\b")
_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})\b")
_AT = r"(?:a las|a la|las|sobre las|hacia las|para las|at|around|about|by)"
# (pattern, how to read it): groups are hour, then minutes and marker where present.
_TIMES = [
    (re.compile(r"\b(\d{1,2})\s*(?::|\.|h)\s*(\d{2})(?!\d)(?:\s*(?:h|hs|hrs|horas)\b)?"
                r"(?:\s*(am|pm)\b)?"), "hh:mm"),
    (re.compile(r"\b(\d{1,2})\s*(am|pm)\b"), "h am"),
    (re.compile(r"\b(\d{1,2})\s*(?:h|hs|hrs|horas|oclock)\b"), "h"),
    (re.compile(rf"\b(?:{_AT}\s+)?(\d{{1,2}})\s+y\s+(media|cuarto)\b"), "y"),
    (re.compile(rf"\b(?:{_AT}\s+)?(\d{{1,2}})\s+menos\s+cuarto\b"), "menos"),
    (re.compile(r"\b(half|quarter) past (\d{1,2})\b"), "past"),
    (re.compile(r"\bquarter to (\d{1,2})\b"), "to"),
    (re.compile(r"\b(?:mediodia|noon|midday)\b"), "noon"),
    (re.compile(rf"\b{_AT}\s+(\d{{1,2}})\b"), "at h"),
]
_OPTION = re.compile(r"#?\s*(\d{1,2})(?:st|nd|rd|th|o|a)?")


@dataclass(frozen=True, slots=True)
class _Time:
    hour: int
    minute: int
    marker: str | None = None  # "am" | "pm" when the reply said so


@dataclass(frozen=True, slots=True)
class _Reading:
    """What a reply says: a position, or constraints on the day and the time."""

    option: int | None = None
    offset: int | None = None  # days from today
    weekday: int | None = None
    day_month: tuple[int, int] | None = None
    time: _Time | None = None
    meridiem: str | None = None


def _normalize(text: str) -> str:
    """Lower case, no accents or emoji marks ("2️⃣" is 2), a.m./p.m. as am/pm, punctuation
    that separates words as spaces; colons, slashes and decimal points between digits stay."""
    # "nº 2", "n° 2", "No. 2" are "number 2", not "no".
    text = re.sub(r"\bn(?:[º°]|o\.)\s*(?=#?\d)", "numero ", text.lower())
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if unicodedata.category(c) not in ("Mn", "Me", "Cf"))
    plain = re.sub(r"\b([ap])\.\s?m\.?", r"\1m", plain)
    plain = plain.replace("'", "").replace("’", "")
    plain = re.sub(r"(?<!\d)[.:]|[.:](?!\d)", " ", plain)
    plain = re.sub(r"[^\w#/:.\s]", " ", plain)
    return " ".join(plain.split())


def _take(pattern: re.Pattern[str], text: str) -> tuple[list[re.Match[str]], str]:
    found = list(pattern.finditer(text))
    return found, pattern.sub(" ", text)


def _time_of(kind: str, match: re.Match[str]) -> _Time:
    groups = match.groups()
    if kind == "hh:mm":
        return _Time(int(groups[0]), int(groups[1]), groups[2])
    if kind == "h am":
        return _Time(int(groups[0]), 0, groups[1])
    if kind == "y":
        return _Time(int(groups[0]), 30 if groups[1] == "media" else 15)
    if kind == "menos":
        return _Time((int(groups[0]) - 1) % 24, 45)
    if kind == "past":
        return _Time(int(groups[1]), 30 if groups[0] == "half" else 15)
    if kind == "to":
        return _Time((int(groups[0]) - 1) % 24, 45)
    if kind == "noon":
        return _Time(12, 0)
    return _Time(int(groups[0]), 0)


def _read(text: str) -> _Reading | None:
    """The reply's meaning, or None when it is negative or ambiguous."""
    rest = _normalize(text)
    if NEGATIONS.intersection(rest.split()):
        return None
    meridiems: set[str] = set()
    offsets: set[int] = set()
    for pattern, marker, offset in _MERIDIEM:
        found, rest = _take(pattern, rest)
        if found:
            meridiems.add(marker)
            if offset is not None:
                offsets.add(offset)
    dates, rest = _take(_DATE, rest)
    for pattern, offset in _RELATIVE:
        found, rest = _take(pattern, rest)
        if found:
            offsets.add(offset)
    weekdays, rest = _take(_WEEKDAY, rest)
    times: set[_Time] = set()
    for pattern, kind in _TIMES:
        found, rest = _take(pattern, rest)
        times.update(_time_of(kind, m) for m in found)
    day_months = {(int(m.group(1)), int(m.group(2))) for m in dates}
    weekday_numbers = {WEEKDAYS[m.group(1)] for m in weekdays}
    if len(meridiems) > 1 or len(offsets) > 1 or len(day_months) > 1 \
            or len(weekday_numbers) > 1 or len(times) > 1:
        return None
    has_day = bool(offsets or day_months or weekday_numbers)
    numbers = re.findall(r"\d+", rest)
    if not times and (has_day or meridiems) and numbers:
        # "mañana 10", "10 de la mañana": a bare number beside a day or a part of the day
        # is an hour.
        if len(numbers) > 1:
            return None
        times.add(_Time(int(numbers[0]), 0))
    if times or has_day or meridiems:
        return _Reading(offset=next(iter(offsets), None),
                        weekday=next(iter(weekday_numbers), None),
                        day_month=next(iter(day_months), None),
                        time=next(iter(times), None), meridiem=next(iter(meridiems), None))
    return _option(rest)


def _option(rest: str) -> _Reading | None:
    words = " ".join(FILLERS.sub(" ", rest).split())
    if words in ORDINALS:
        return _Reading(option=ORDINALS[words])
    match = _OPTION.fullmatch(words)
    return _Reading(option=int(match.group(1))) if match else None


def _hours(time: _Time, meridiem: str | None) -> list[int]:
    """The hours (24 h) a time may mean, the likelier first. Without am/pm, 1 to 11 may
    also be afternoon ("a las 5" is 17:00 when no 05:00 is offered)."""
    hour, marker = time.hour, time.marker or meridiem
    if marker == "am":
        return [hour % 12] if hour <= 12 else []
    if marker == "pm":
        return [hour % 12 + 12] if 1 <= hour <= 12 else [hour] if 12 < hour < 24 else []
    if not 0 <= hour <= 23:
        return []
    return [hour, hour + 12] if 1 <= hour <= 11 else [hour]


def _on_day(reading: _Reading, day: date, today: date) -> bool:
    if reading.offset is not None and day != today + timedelta(days=reading.offset):
        return False
    if reading.weekday is not None and day.weekday() != reading.weekday:
        return False
    return reading.day_month is None or (day.day, day.month) == reading.day_month


def choose_slot(text: str, slots: Sequence[datetime], tz: ZoneInfo, now: datetime
                ) -> int | None:
    """The index (0-based) of the offered slot the reply picks, or None when the reply is
    not understood or matches none. A number picks by position (1 is the first); a time
    alone the first slot at that local time; a day and a time the slot then; a day alone
    (or a part of a day: "mañana por la tarde") the slot then, if it is the only one."""
    if any(s.tzinfo is None for s in slots) or now.tzinfo is None:
        raise ValueError("slots and now must be timezone-aware")
    reading = _read(text)
    if reading is None or not slots:
        return None
    if reading.option is not None:
        return reading.option - 1 if 1 <= reading.option <= len(slots) else None
    today = now.astimezone(tz).date()
    local = [(i, s.astimezone(tz)) for i, s in enumerate(slots)]
    candidates = [(i, s) for i, s in local if _on_day(reading, s.date(), today)]
    if reading.time is None:
        if reading.meridiem is not None:  # "mañana por la mañana"
            candidates = [(i, s) for i, s in candidates
                          if (s.hour < 12) == (reading.meridiem == "am")]
        return candidates[0][0] if len(candidates) == 1 else None
    if not 0 <= reading.time.minute <= 59:
        return None
    for hour in _hours(reading.time, reading.meridiem):
        for index, slot in candidates:
            if (slot.hour, slot.minute) == (hour, reading.time.minute):
                return index
    return None


def render_slots(slots: Sequence[datetime], tz: ZoneInfo, language: str, now: datetime
                 ) -> str:
    """The offer as one line a phone shows whole: ``1) hoy 16:00 2) mañana 10:00 3) lun
    30/11 10:00`` (English: ``today``, ``tomorrow``, ``Mon 30/11``). Every form it writes,
    ``choose_slot`` reads back."""
    lang = "en" if language.lower().startswith("en") else "es"
    today = now.astimezone(tz).date()
    parts = []
    for number, slot in enumerate(slots, start=1):
        local = slot.astimezone(tz)
        offset = (local.date() - today).days
        if offset in (0, 1):
            day = RELATIVE_DAYS[lang][offset]
        else:
            day = f"{WEEKDAY_ABBREVIATIONS[lang][local.weekday()]} {local.day}/{local.month}"
        parts.append(f"{number}) {day} {local:%H:%M}")
    return " ".join(parts)
