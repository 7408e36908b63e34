"""The queries of the reports, over the tasks routing stored and the survey answers ingest
stored. Read-only. They read other packages' tables because a report is a read model over
them, and they sum in the database: a month of a 100-agent center is 150,000 tasks, which
the database adds up in a fraction of the time Python takes to read them (ADR 0021).

Differences of two times (waits, handle times, the 7-day windows) and reading a number out
of an event's JSON properties differ between SQLite and PostgreSQL: ``_Dialect`` writes
each once for both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.types import Float, String

from circulo.customers.models import Event
from circulo.reports.facts import (
    HandlingFact,
    ResolutionFact,
    ScoreFact,
    ServiceFact,
)
from circulo.reports.period import REPEAT_WINDOW, Period
from circulo.routing import dial
from circulo.routing.models import AgentRow, TaskRow

SURVEY = "survey.answered"
WINDOW_SECONDS = REPEAT_WINDOW.total_seconds()
EPSILON = 0.001  # seconds: a wait exactly on the threshold is in, whatever the float error


class _Dialect:
    def __init__(self, session: Session) -> None:
        self.name = session.get_bind().dialect.name

    def seconds(self, start: Any, end: Any) -> ColumnElement[float]:
        """``end - start`` in seconds."""
        if self.name == "sqlite":
            return (func.julianday(end) - func.julianday(start)) * 86400.0
        return func.date_part("epoch", end - start)

    def raw(self, key: str, *, kind: bool) -> tuple[ColumnElement[Any], ...]:
        """``properties.<key>`` as read once (each read parses the JSON again on SQLite):
        its JSON type (when ``kind``) and its value, for ``number`` and ``text``."""
        if self.name == "sqlite":
            path = literal(f"$.{key}")
            value = func.json_extract(Event.properties, path)
            return (func.json_type(Event.properties, path), value) if kind else (value,)
        item = Event.properties.op("->")(literal(key))
        text = Event.properties.op("->>")(literal(key))
        if kind:
            return func.jsonb_typeof(item), text
        return (case((func.jsonb_typeof(item) == "string", text), else_=None),)

    def number(self, kind: Any, value: Any, low: float, high: float) -> ColumnElement[float]:
        """The raw value when it is a JSON number from ``low`` to ``high``, else NULL (text,
        booleans and other values are never an error)."""
        if self.name == "sqlite":
            number = case((kind.in_(("integer", "real")), value), else_=None)
        else:
            number = case((kind == "number", cast(value, Float)), else_=None)
        return case((and_(number >= low, number <= high), number), else_=None)

    def text(self, value: Any) -> ColumnElement[str]:
        """The raw value when it is a JSON string, else NULL."""
        if self.name == "sqlite":
            return case((func.typeof(value) == "text", value), else_=None)
        return cast(value, String)


def _bucket(column: Any, period: Period) -> ColumnElement[int]:
    """The index of the period's bucket a time falls in (the caller keeps it in range)."""
    if len(period.buckets) == 1:
        return literal(0)
    return case(*[(column < start, index) for index, start in enumerate(period.starts[1:-1])],
                else_=len(period.buckets) - 1)


def _in_period(period: Period) -> ColumnElement[bool]:
    return and_(TaskRow.created_at >= period.start, TaskRow.created_at < period.end)


# The agent's own outbound calls (routing.dial, click-to-dial from the desk or the CRM
# widget) always carry this reason: nobody waited for them, so they are not answered
# contacts (service level, ASA, abandonment, contacts by reason) nor judged for first-contact
# resolution; their talk and wrap-up still count in handling. The reason, unlike the source,
# is in the report's covering index.
DIALED = dial.REASON


def _received() -> ColumnElement[bool]:
    return func.coalesce(TaskRow.reason, "") != DIALED


def service(session: Session, period: Period) -> list[ServiceFact]:
    """Contacts per queue, bucket, reason and channel (one pass for the service figures and
    the counts by reason and channel): answered, within the threshold, abandoned, waits."""
    sql = _Dialect(session)
    wait = sql.seconds(TaskRow.queued_at, TaskRow.assigned_at)
    answered = TaskRow.assigned_at.is_not(None)
    flags = (
        select(TaskRow.queue, _bucket(TaskRow.created_at, period).label("bucket"),
               TaskRow.reason, TaskRow.channel,
               case((answered, 1), else_=0).label("answered"),
               case((and_(answered, wait <= TaskRow.sl_seconds + EPSILON), 1),
                    else_=0).label("in_sl"),
               case((and_(TaskRow.assigned_at.is_(None), TaskRow.state == "abandoned"), 1),
                    else_=0).label("abandoned"),
               case((and_(answered, wait > 0), wait), else_=0.0).label("wait"))
        .where(_in_period(period), TaskRow.kind == "contact", _received())
        .subquery())
    f = flags.c
    rows = session.execute(
        select(f.queue, f.bucket, f.reason, f.channel, func.count(), func.sum(f.answered),
               func.sum(f.in_sl), func.sum(f.abandoned), func.sum(f.wait))
        .group_by(f.queue, f.bucket, f.reason, f.channel))
    return [ServiceFact(queue, int(index), reason, channel, int(n), int(a or 0), int(x or 0),
                        int(b or 0), float(w or 0.0))
            for queue, index, reason, channel, n, a, x, b, w in rows]


def _handled() -> ColumnElement[bool]:
    """Completed by an agent. The state is compared through ``coalesce`` so that no planner
    reaches for the (state, queue) index: without ANALYZE statistics SQLite did, and read
    every completed task ever instead of the period's (or the customer's)."""
    return and_(func.coalesce(TaskRow.state, "") == "completed",
                TaskRow.agent_id.is_not(None), TaskRow.assigned_at.is_not(None),
                TaskRow.completed_at.is_not(None))


def handling(session: Session, period: Period) -> list[HandlingFact]:
    """Tasks of the period completed by an agent, per queue and agent: how many, how long
    from accepting to the end of wrap-up."""
    sql = _Dialect(session)
    seconds = sql.seconds(TaskRow.assigned_at, TaskRow.completed_at)
    rows = session.execute(
        select(TaskRow.queue, TaskRow.agent_id, func.count(), func.sum(seconds))
        .where(_in_period(period), _handled())
        .group_by(TaskRow.queue, TaskRow.agent_id))
    return [HandlingFact(queue, agent or "", int(n), max(0.0, float(s or 0.0)))
            for queue, agent, n, s in rows]


def resolution(session: Session, period: Period) -> ResolutionFact:
    """Handled contacts of the period with a customer and a reason, and those the same
    customer did not contact again about the same reason (answered or not) within 7 days:
    each contact next to the following one of its customer and reason (LEAD)."""
    sql = _Dialect(session)
    following = func.lead(TaskRow.created_at).over(
        partition_by=(TaskRow.customer_id, TaskRow.reason),
        order_by=(TaskRow.created_at, TaskRow.id)).label("following")
    contacts = (
        select(TaskRow.created_at, TaskRow.state, TaskRow.agent_id, TaskRow.assigned_at,
               TaskRow.completed_at, following)
        .where(TaskRow.created_at >= period.start,
               TaskRow.created_at < period.end + REPEAT_WINDOW,
               TaskRow.kind == "contact", TaskRow.customer_id.is_not(None),
               TaskRow.reason.is_not(None), TaskRow.reason != "", TaskRow.reason != DIALED)
        .subquery())
    c = contacts.c
    resolved = or_(c.following.is_(None),
                   sql.seconds(c.created_at, c.following) > WINDOW_SECONDS)
    judged, good = session.execute(
        select(func.count(), func.sum(case((resolved, 1), else_=0)))
        .where(c.created_at < period.end, c.state == "completed", c.agent_id.is_not(None),
               c.assigned_at.is_not(None), c.completed_at.is_not(None))).one()
    return ResolutionFact(int(judged or 0), int(good or 0))


def scores(session: Session, period: Period) -> list[ScoreFact]:
    """Survey answers of the period (``csat`` a number 1–5, ``nps`` 0–10; other values are
    ignored), each attributed to an agent and a queue: the task its ``task_id`` names; else
    the ``agent_id`` and ``queue`` it names; else the customer's last task completed by an
    agent in the 7 days before the answer."""
    sql = _Dialect(session)
    csat_kind, csat_raw = sql.raw("csat", kind=True)
    nps_kind, nps_raw = sql.raw("nps", kind=True)
    # read once, materialised: inlined, SQLite would parse the JSON again at each use
    raw = (
        select(Event.occurred_at, Event.profile_id, csat_kind.label("csat_kind"),
               csat_raw.label("csat_raw"), nps_kind.label("nps_kind"),
               nps_raw.label("nps_raw"), *[
                   sql.raw(key, kind=False)[0].label(f"{key}_raw")
                   for key in ("task_id", "agent_id", "queue", "site", "reason")])
        .where(Event.type == SURVEY, Event.occurred_at >= period.start,
               Event.occurred_at < period.end)
        .cte("raw").prefix_with("MATERIALIZED"))
    r = raw.c
    answers = (
        select(r.occurred_at, r.profile_id,
               sql.number(r.csat_kind, r.csat_raw, 1, 5).label("csat"),
               sql.number(r.nps_kind, r.nps_raw, 0, 10).label("nps"),
               sql.text(r.task_id_raw).label("task_id"),
               sql.text(r.agent_id_raw).label("agent_id"),
               sql.text(r.queue_raw).label("queue"),
               sql.text(r.site_raw).label("site"),
               sql.text(r.reason_raw).label("reason"))
        .subquery())
    a = answers.c
    named = TaskRow.__table__.alias("named")
    last = (select(TaskRow.id)
            .where(TaskRow.customer_id == a.profile_id, _handled(),
                   TaskRow.completed_at <= a.occurred_at,
                   sql.seconds(TaskRow.completed_at, a.occurred_at) <= WINDOW_SECONDS)
            .order_by(TaskRow.completed_at.desc()).limit(1)
            .correlate(answers).scalar_subquery())
    scored = TaskRow.__table__.alias("scored")
    fallback = case((and_(named.c.id.is_(None), a.agent_id.is_(None), a.queue.is_(None)),
                     last), else_=None)
    attributed = (
        select(_bucket(a.occurred_at, period).label("bucket"), a.csat, a.nps,
               func.coalesce(named.c.id, fallback).label("task"),
               a.agent_id, a.queue, a.site, a.reason)
        .select_from(answers.outerjoin(named, named.c.id == a.task_id))
        .where(or_(a.csat.is_not(None), a.nps.is_not(None)))
        # materialised: inlined, SQLite would look the last contact up once per use
        .cte("attributed").prefix_with("MATERIALIZED"))
    s = attributed.c
    whose = (
        select(s.bucket, s.csat, s.nps,
               case((s.task.is_not(None), scored.c.agent_id), else_=s.agent_id).label("agent"),
               case((s.task.is_not(None), scored.c.queue), else_=s.queue).label("queue"),
               s.site,
               func.coalesce(case((s.task.is_not(None), scored.c.reason), else_=None),
                             s.reason).label("reason"))
        .select_from(attributed.outerjoin(scored, scored.c.id == s.task))
        .subquery())
    w = whose.c
    site = func.coalesce(w.site, AgentRow.site)
    rows = session.execute(
        select(w.bucket, w.agent, w.queue, func.count(w.csat), func.sum(w.csat),
               func.sum(case((w.csat >= 4, 1), else_=0)), func.count(w.nps),
               func.sum(case((w.nps >= 9, 1), else_=0)),
               func.sum(case((w.nps <= 6, 1), else_=0)), site, w.reason)
        .select_from(whose.outerjoin(AgentRow, AgentRow.id == w.agent))
        .group_by(w.bucket, w.agent, w.queue, site, w.reason))
    return [ScoreFact(int(b), ag, q, int(cn or 0), float(cs or 0.0), int(sat or 0),
                      int(nn or 0), int(pro or 0), int(det or 0), st, rs)
            for b, ag, q, cn, cs, sat, nn, pro, det, st, rs in rows]
