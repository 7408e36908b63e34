"""The period of a report: local days of a zone as UTC instants, in day or week buckets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

REPEAT_WINDOW = timedelta(days=7)  # a repeat contact within this undoes first-contact resolution


@dataclass(frozen=True, slots=True)
class Period:
    """Local days ``first``..``last`` (inclusive) of a zone, as UTC instants: ``starts``
    holds the start of each day (or week) bucket, then the end of the period."""

    first: date
    last: date
    time_zone: str
    start: datetime
    end: datetime
    bucket: str  # day | week
    buckets: tuple[date, ...]
    starts: tuple[datetime, ...]  # len(buckets) + 1 instants


WEEKLY_AFTER = 62  # days: a longer period shows its trend by week


def make_period(first: date, last: date, time_zone: str) -> Period:
    """The local days ``first``..``last`` of ``time_zone`` (an IANA name the caller checked),
    in day buckets, or week buckets (from Monday) for a period over ``WEEKLY_AFTER`` days.
    Each boundary is local midnight, so a day of a clock change lasts 23 or 25 hours."""
    zone = ZoneInfo(time_zone)
    weekly = (last - first).days + 1 > WEEKLY_AFTER
    buckets: list[date] = []
    day = first
    while day <= last:
        buckets.append(day)
        day = (day - timedelta(days=day.weekday()) + timedelta(days=7)) if weekly \
            else day + timedelta(days=1)
    starts = tuple(datetime(d.year, d.month, d.day, tzinfo=zone).astimezone(UTC)
                   for d in [*buckets, last + timedelta(days=1)])
    return Period(first, last, time_zone, starts[0], starts[-1], "week" if weekly else "day",
                  tuple(buckets), starts)
