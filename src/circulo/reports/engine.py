"""The figures of a report, computed from plain facts: no database, no clock.

The repository reads the facts (tasks, survey answers) and ``compute`` turns them into a
``Report``. Every formula is written down in docs/reports.md; the names here follow it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from circulo.reports.facts import SurveyFact, TaskFact

REPEAT_WINDOW = timedelta(days=7)  # a repeat contact within this undoes first-contact resolution
NO_REASON = ""  # a contact without a reason is grouped under this key


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

    def bucket_of(self, moment: datetime) -> int | None:
        """The index of the bucket holding ``moment``, or None outside the period."""
        if moment < self.start or moment >= self.end:
            return None
        return bisect_right(self.starts, moment) - 1


@dataclass(frozen=True, slots=True)
class Service:
    """How waiting contacts were served."""

    offered: int  # contacts that finished waiting: answered or abandoned
    answered: int
    answered_in_sl: int
    abandoned: int
    service_level: float | None  # % answered within the queue's threshold
    average_speed_of_answer: float | None  # seconds
    abandonment_rate: float | None  # %


@dataclass(frozen=True, slots=True)
class Handling:
    handled: int
    average_handle_time: float | None  # seconds, talk + wrap-up


@dataclass(frozen=True, slots=True)
class Scores:
    responses: int
    csat_average: float | None  # 1–5
    csat_satisfied: float | None  # % of answers 4 or 5


@dataclass(frozen=True, slots=True)
class Resolution:
    judged: int  # handled contacts with a customer and a reason
    resolved: int  # of those, no repeat on the same reason within 7 days
    first_contact_resolution: float | None  # %


@dataclass(frozen=True, slots=True)
class QueueLine:
    queue: str
    service: Service
    handling: Handling
    scores: Scores


@dataclass(frozen=True, slots=True)
class AgentLine:
    agent_id: str
    handling: Handling
    scores: Scores


@dataclass(frozen=True, slots=True)
class Count:
    key: str
    contacts: int


@dataclass(frozen=True, slots=True)
class BucketLine:
    """One day or week: contacts, service level and NPS."""

    start: date
    contacts: int
    service_level: float | None
    nps_responses: int
    nps: float | None  # % promoters (9–10) − % detractors (0–6)


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    service: Service
    handling: Handling
    resolution: Resolution
    scores: Scores
    nps_responses: int
    nps: float | None
    by_reason: list[Count]
    by_channel: list[Count]
    queues: list[QueueLine]
    agents: list[AgentLine]
    trend: list[BucketLine]


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


def _pct(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _avg(total: float, count: int, digits: int = 1) -> float | None:
    return round(total / count, digits) if count else None


@dataclass(slots=True)
class _ServiceSum:
    answered: int = 0
    in_sl: int = 0
    abandoned: int = 0
    wait: float = 0.0

    def add(self, task: TaskFact) -> None:
        if task.assigned_at is not None:
            waited = max(0.0, (task.assigned_at - task.queued_at).total_seconds())
            self.answered += 1
            self.in_sl += waited <= task.sl_seconds
            self.wait += waited
        elif task.state == "abandoned":
            self.abandoned += 1

    def done(self) -> Service:
        offered = self.answered + self.abandoned
        return Service(offered, self.answered, self.in_sl, self.abandoned,
                       _pct(self.in_sl, self.answered), _avg(self.wait, self.answered),
                       _pct(self.abandoned, offered))


@dataclass(slots=True)
class _HandlingSum:
    handled: int = 0
    seconds: float = 0.0

    def add(self, task: TaskFact) -> None:
        if task.state == "completed" and task.agent_id is not None \
                and task.assigned_at is not None and task.completed_at is not None:
            self.handled += 1
            self.seconds += max(0.0, (task.completed_at - task.assigned_at).total_seconds())

    def done(self) -> Handling:
        return Handling(self.handled, _avg(self.seconds, self.handled))


@dataclass(slots=True)
class _ScoreSum:
    count: int = 0
    total: float = 0.0
    satisfied: int = 0

    def add(self, csat: float) -> None:
        self.count += 1
        self.total += csat
        self.satisfied += csat >= 4

    def done(self) -> Scores:
        return Scores(self.count, _avg(self.total, self.count, 2),
                      _pct(self.satisfied, self.count))


@dataclass(slots=True)
class _NpsSum:
    count: int = 0
    promoters: int = 0
    detractors: int = 0

    def add(self, score: float) -> None:
        self.count += 1
        self.promoters += score >= 9
        self.detractors += score <= 6

    def value(self) -> float | None:
        if not self.count:
            return None
        return round(100 * (self.promoters - self.detractors) / self.count, 1)


def nps_of(scores: Iterable[float]) -> float | None:
    """Net promoter score: % promoters (9–10) − % detractors (0–6), from −100 to 100."""
    total = _NpsSum()
    for score in scores:
        total.add(score)
    return total.value()


def first_contact_resolution(tasks: Sequence[TaskFact], period: Period) -> Resolution:
    """A handled contact of the period is resolved at first contact unless the same customer
    came back about the same reason (any contact, answered or not) within 7 days after it.
    Contacts without a customer or a reason cannot be judged and are left out."""
    by_topic: dict[tuple[str, str], list[TaskFact]] = defaultdict(list)
    for task in tasks:
        if task.kind == "contact" and task.customer_id and task.reason:
            by_topic[(task.customer_id, task.reason)].append(task)
    judged = resolved = 0
    for group in by_topic.values():
        group.sort(key=lambda t: (t.created_at, t.id))
        for position, task in enumerate(group):
            if task.state != "completed" or task.agent_id is None \
                    or period.bucket_of(task.created_at) is None:
                continue
            judged += 1
            following = group[position + 1] if position + 1 < len(group) else None
            if following is None or following.created_at - task.created_at > REPEAT_WINDOW:
                resolved += 1
    return Resolution(judged, resolved, _pct(resolved, judged))


def _attribute(surveys: Sequence[SurveyFact], tasks: Sequence[TaskFact]
               ) -> list[tuple[SurveyFact, str | None, str | None]]:
    """Each answer with the agent and queue it scores: the task it names, else the agent and
    queue it names, else the customer's last handled task finished within 7 days before."""
    by_id = {task.id: task for task in tasks}
    handled: dict[str, list[TaskFact]] = defaultdict(list)
    for task in tasks:
        if task.customer_id and task.agent_id and task.completed_at is not None \
                and task.state == "completed":
            handled[task.customer_id].append(task)
    ends: dict[str, list[datetime]] = {}
    for customer, group in handled.items():
        group.sort(key=lambda t: t.completed_at or t.created_at)
        ends[customer] = [t.completed_at or t.created_at for t in group]
    out: list[tuple[SurveyFact, str | None, str | None]] = []
    for survey in surveys:
        named = by_id.get(survey.task_id) if survey.task_id else None
        if named is not None:
            out.append((survey, named.agent_id, named.queue))
        elif survey.agent_id or survey.queue:
            out.append((survey, survey.agent_id, survey.queue))
        elif survey.customer_id in ends:
            times = ends[survey.customer_id]
            index = bisect_right(times, survey.occurred_at) - 1
            last = handled[survey.customer_id][index] if index >= 0 else None
            if last is not None and survey.occurred_at - times[index] <= REPEAT_WINDOW:
                out.append((survey, last.agent_id, last.queue))
            else:
                out.append((survey, None, None))
        else:
            out.append((survey, None, None))
    return out


def compute(period: Period, tasks: Sequence[TaskFact], surveys: Sequence[SurveyFact]
            ) -> Report:
    """The report of ``period``. ``tasks``: every task created from 7 days before the period
    to 7 days after it (the repeats that judge first-contact resolution, the tasks surveys
    score); only those created in the period are counted. ``surveys``: answers of the
    period."""
    service = _ServiceSum()
    handling = _HandlingSum()
    queue_service: dict[str, _ServiceSum] = defaultdict(_ServiceSum)
    queue_handling: dict[str, _HandlingSum] = defaultdict(_HandlingSum)
    agent_handling: dict[str, _HandlingSum] = defaultdict(_HandlingSum)
    reasons: dict[str, int] = defaultdict(int)
    channels: dict[str, int] = defaultdict(int)
    bucket_contacts = [0] * len(period.buckets)
    bucket_service = [_ServiceSum() for _ in period.buckets]
    for task in tasks:
        index = period.bucket_of(task.created_at)
        if index is None:
            continue
        handling.add(task)
        queue_handling[task.queue].add(task)
        if task.agent_id is not None:
            agent_handling[task.agent_id].add(task)
        if task.kind != "contact":
            continue
        service.add(task)
        queue_service[task.queue].add(task)
        bucket_service[index].add(task)
        bucket_contacts[index] += 1
        reasons[task.reason or NO_REASON] += 1
        channels[task.channel] += 1

    scores = _ScoreSum()
    queue_scores: dict[str, _ScoreSum] = defaultdict(_ScoreSum)
    agent_scores: dict[str, _ScoreSum] = defaultdict(_ScoreSum)
    nps = _NpsSum()
    bucket_nps = [_NpsSum() for _ in period.buckets]
    in_period = [s for s in surveys if period.bucket_of(s.occurred_at) is not None]
    for survey, agent, queue in _attribute(in_period, tasks):
        if survey.csat is not None:
            scores.add(survey.csat)
            if agent is not None:
                agent_scores[agent].add(survey.csat)
            if queue is not None:
                queue_scores[queue].add(survey.csat)
        if survey.nps is not None:
            nps.add(survey.nps)
            bucket_nps[period.bucket_of(survey.occurred_at) or 0].add(survey.nps)

    queues = [QueueLine(name, queue_service[name].done(), queue_handling[name].done(),
                        queue_scores[name].done())
              for name in sorted(set(queue_service) | set(queue_handling) | set(queue_scores))]
    agents = [AgentLine(name, agent_handling[name].done(), agent_scores[name].done())
              for name in sorted(set(agent_handling) | set(agent_scores))]
    trend = [BucketLine(start, bucket_contacts[i], bucket_service[i].done().service_level,
                        bucket_nps[i].count, bucket_nps[i].value())
             for i, start in enumerate(period.buckets)]
    return Report(
        period=period, service=service.done(), handling=handling.done(),
        resolution=first_contact_resolution(tasks, period), scores=scores.done(),
        nps_responses=nps.count, nps=nps.value(),
        by_reason=_counts(reasons), by_channel=_counts(channels),
        queues=queues, agents=agents, trend=trend)


def _counts(counts: dict[str, int]) -> list[Count]:
    """Most contacts first, then by name."""
    return [Count(key, n) for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
