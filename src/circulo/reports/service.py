"""Reports: check the period asked for, read the facts, compute, and write the CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy.orm import Session

from circulo.errors import ValidationFailed
from circulo.reports import repository as repo
from circulo.reports.engine import Report, compute
from circulo.reports.period import Period, make_period

MAX_DAYS = 92  # a quarter: longer periods belong in a warehouse, not in a page


def _zone(name: str) -> str:
    if name not in _ZONES:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationFailed("unknown time zone", errors=[{
                "field": "tz", "code": "unknown_time_zone",
                "detail": "an IANA zone name such as Europe/Madrid"}]) from None
    return name


_ZONES = available_timezones()


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"'{name}' is not a date", errors=[{
            "field": name, "code": "invalid_date", "detail": "a date as YYYY-MM-DD"}]) from None


def today(time_zone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(_zone(time_zone))).date()


def period_of(first: str | None, last: str | None, time_zone: str, now: datetime) -> Period:
    """The local days asked for (both inclusive; either defaults to today in the zone)."""
    zone = _zone(time_zone)
    current = today(zone, now)
    start = _day(first, "from") if first else current
    end = _day(last, "to") if last else current
    if start > end:
        raise ValidationFailed("the period ends before it starts", errors=[{
            "field": "from", "code": "after_end", "detail": f"{start} is after {end}"}])
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationFailed("the period is too long", errors=[{
            "field": "to", "code": "too_long", "detail": f"at most {MAX_DAYS} days"}])
    return make_period(start, end, zone)


def report(session: Session, period: Period) -> Report:
    """The figures of ``period``, from the sums the database makes of its tasks and survey
    answers (and of the week after it, for repeat contacts)."""
    return compute(period, repo.service(session, period), repo.handling(session, period),
                   repo.resolution(session, period), repo.scores(session, period))


def _value(value: float | int | None) -> str:
    return "" if value is None else str(value)


def csv_of(report: Report) -> str:
    """The report as a long table, one figure a line: ``section,key,metric,value``, so a
    spreadsheet pivots it however it likes; an empty value is a figure with no data."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    p = report.period
    writer.writerow(["section", "key", "metric", "value"])
    rows: list[tuple[str, str, str, float | int | str | None]] = [
        ("period", "", "from", p.first.isoformat()), ("period", "", "to", p.last.isoformat()),
        ("period", "", "time_zone", p.time_zone)]
    s, h, r, c = report.service, report.handling, report.resolution, report.scores
    rows += [("summary", "", name, value) for name, value in (
        ("offered", s.offered), ("answered", s.answered), ("abandoned", s.abandoned),
        ("service_level", s.service_level), ("average_speed_of_answer",
                                             s.average_speed_of_answer),
        ("abandonment_rate", s.abandonment_rate), ("handled", h.handled),
        ("average_handle_time", h.average_handle_time), ("fcr_judged", r.judged),
        ("fcr_resolved", r.resolved), ("first_contact_resolution", r.first_contact_resolution),
        ("csat_responses", c.responses), ("csat_average", c.csat_average),
        ("csat_satisfied", c.csat_satisfied), ("nps_responses", report.nps_responses),
        ("nps", report.nps))]
    rows += [("reason", x.key, "contacts", x.contacts) for x in report.by_reason]
    rows += [("channel", x.key, "contacts", x.contacts) for x in report.by_channel]
    for q in report.queues:
        rows += [("queue", q.queue, name, value) for name, value in (
            ("offered", q.service.offered), ("answered", q.service.answered),
            ("abandoned", q.service.abandoned), ("service_level", q.service.service_level),
            ("average_speed_of_answer", q.service.average_speed_of_answer),
            ("abandonment_rate", q.service.abandonment_rate), ("handled", q.handling.handled),
            ("average_handle_time", q.handling.average_handle_time),
            ("csat_responses", q.scores.responses), ("csat_average", q.scores.csat_average),
            ("csat_satisfied", q.scores.csat_satisfied))]
    for a in report.agents:
        rows += [("agent", a.agent_id, name, value) for name, value in (
            ("handled", a.handling.handled),
            ("average_handle_time", a.handling.average_handle_time),
            ("csat_responses", a.scores.responses), ("csat_average", a.scores.csat_average),
            ("csat_satisfied", a.scores.csat_satisfied))]
    for section, lines in (("site_scores", report.scores_by_site),
                           ("reason_scores", report.scores_by_reason)):
        for x in lines:
            rows += [(section, x.key, name, value) for name, value in (
                ("csat_responses", x.scores.responses), ("csat_average", x.scores.csat_average),
                ("csat_satisfied", x.scores.csat_satisfied),
                ("nps_responses", x.nps_responses), ("nps", x.nps))]
    for b in report.trend:
        rows += [(p.bucket, b.start.isoformat(), name, value) for name, value in (
            ("contacts", b.contacts), ("service_level", b.service_level),
            ("nps_responses", b.nps_responses), ("nps", b.nps))]
    for section, key, metric, value in rows:
        writer.writerow([section, _safe(key), metric,
                         value if isinstance(value, str) else _value(value)])
    return out.getvalue()


def _safe(text: str) -> str:
    """A key from stored data (a reason, a queue) never starts a spreadsheet formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

