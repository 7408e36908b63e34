"""The figures of a report from the facts the database summed: no database, no clock.

The repository's queries count and sum per queue, agent and day (a month of a large center
is hundreds of thousands of rows: the database sums them faster than Python reads them);
``compute`` combines those sums into the figures and their ratios. Every formula is written
down in docs/reports.md; the names here follow it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from circulo.reports.facts import (
    HandlingFact,
    ResolutionFact,
    ScoreFact,
    ServiceFact,
)
from circulo.reports.period import Period

NO_REASON = ""  # a contact without a reason is grouped under this key


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
class ScoreLine:
    """CSAT and NPS of the answers attributed to one site or one contact reason."""

    key: str  # empty: not known (no agent's site, no reason given)
    scores: Scores
    nps_responses: int
    nps: float | None


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
    scores_by_site: list[ScoreLine] = field(default_factory=list)
    scores_by_reason: list[ScoreLine] = field(default_factory=list)


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

    def add(self, fact: ServiceFact) -> None:
        self.answered += fact.answered
        self.in_sl += fact.answered_in_sl
        self.abandoned += fact.abandoned
        self.wait += fact.wait_seconds

    def done(self) -> Service:
        offered = self.answered + self.abandoned
        return Service(offered, self.answered, self.in_sl, self.abandoned,
                       _pct(self.in_sl, self.answered), _avg(self.wait, self.answered),
                       _pct(self.abandoned, offered))


@dataclass(slots=True)
class _HandlingSum:
    handled: int = 0
    seconds: float = 0.0

    def add(self, fact: HandlingFact) -> None:
        self.handled += fact.handled
        self.seconds += fact.handle_seconds

    def done(self) -> Handling:
        return Handling(self.handled, _avg(self.seconds, self.handled))


@dataclass(slots=True)
class _ScoreSum:
    count: int = 0
    total: float = 0.0
    satisfied: int = 0
    nps_count: int = 0
    promoters: int = 0
    detractors: int = 0

    def add(self, fact: ScoreFact) -> None:
        self.count += fact.csat_count
        self.total += fact.csat_sum
        self.satisfied += fact.csat_satisfied
        self.nps_count += fact.nps_count
        self.promoters += fact.promoters
        self.detractors += fact.detractors

    def done(self) -> Scores:
        return Scores(self.count, _avg(self.total, self.count, 2),
                      _pct(self.satisfied, self.count))

    def nps(self) -> float | None:
        return net_promoter_score(self.promoters, self.detractors, self.nps_count)


def net_promoter_score(promoters: int, detractors: int, answers: int) -> float | None:
    """% promoters (9–10) − % detractors (0–6), from −100 to 100; None without answers."""
    return round(100 * (promoters - detractors) / answers, 1) if answers else None


def nps_of(scores: Iterable[float]) -> float | None:
    """The net promoter score of some 0–10 answers."""
    listed = list(scores)
    return net_promoter_score(sum(s >= 9 for s in listed), sum(s <= 6 for s in listed),
                              len(listed))


def compute(period: Period, service: Sequence[ServiceFact], handling: Sequence[HandlingFact],
            resolution: ResolutionFact,
            scores: Sequence[ScoreFact]) -> Report:
    """The report of ``period`` from the sums of its contacts (per queue, day, reason and
    channel), handled tasks, first-contact resolution and survey answers."""
    total = _ServiceSum()
    by_queue: dict[str, _ServiceSum] = defaultdict(_ServiceSum)
    by_bucket = [_ServiceSum() for _ in period.buckets]
    contacts = [0] * len(period.buckets)
    reasons: dict[str, int] = defaultdict(int)
    channels: dict[str, int] = defaultdict(int)
    for fact in service:
        total.add(fact)
        by_queue[fact.queue].add(fact)
        by_bucket[fact.bucket].add(fact)
        contacts[fact.bucket] += fact.contacts
        reasons[fact.reason or NO_REASON] += fact.contacts
        channels[fact.channel] += fact.contacts

    handled = _HandlingSum()
    queue_handling: dict[str, _HandlingSum] = defaultdict(_HandlingSum)
    agent_handling: dict[str, _HandlingSum] = defaultdict(_HandlingSum)
    for line in handling:
        handled.add(line)
        queue_handling[line.queue].add(line)
        agent_handling[line.agent_id].add(line)


    answers = _ScoreSum()
    queue_scores: dict[str, _ScoreSum] = defaultdict(_ScoreSum)
    agent_scores: dict[str, _ScoreSum] = defaultdict(_ScoreSum)
    bucket_scores = [_ScoreSum() for _ in period.buckets]
    site_scores: dict[str, _ScoreSum] = defaultdict(_ScoreSum)
    reason_scores: dict[str, _ScoreSum] = defaultdict(_ScoreSum)
    for score in scores:
        answers.add(score)
        site_scores[score.site or ""].add(score)
        reason_scores[score.reason or NO_REASON].add(score)
        bucket_scores[score.bucket].add(score)
        if score.agent_id is not None:
            agent_scores[score.agent_id].add(score)
        if score.queue is not None:
            queue_scores[score.queue].add(score)

    queues = [QueueLine(name, by_queue[name].done(), queue_handling[name].done(),
                        queue_scores[name].done())
              for name in sorted(set(by_queue) | set(queue_handling) | set(queue_scores))]
    agents = [AgentLine(name, agent_handling[name].done(), agent_scores[name].done())
              for name in sorted(set(agent_handling) | set(agent_scores))]
    trend = [BucketLine(start, contacts[i], by_bucket[i].done().service_level,
                        bucket_scores[i].nps_count, bucket_scores[i].nps())
             for i, start in enumerate(period.buckets)]
    return Report(
        period=period, service=total.done(), handling=handled.done(),
        resolution=Resolution(resolution.judged, resolution.resolved,
                              _pct(resolution.resolved, resolution.judged)),
        scores=answers.done(), nps_responses=answers.nps_count, nps=answers.nps(),
        by_reason=_counts(reasons), by_channel=_counts(channels),
        queues=queues, agents=agents, trend=trend,
        scores_by_site=_score_lines(site_scores), scores_by_reason=_score_lines(reason_scores))


def _score_lines(sums: dict[str, _ScoreSum]) -> list[ScoreLine]:
    return [ScoreLine(key, total.done(), total.nps_count, total.nps())
            for key, total in sorted(sums.items())]


def _counts(counts: dict[str, int]) -> list[Count]:
    """Most contacts first, then by name."""
    return [Count(key, n) for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
