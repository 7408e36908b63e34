"""The facts a report reads: what the repository's queries return (already summed by the
database) and the engine combines into figures."""

from __future__ import annotations

from typing import NamedTuple


class ServiceFact(NamedTuple):
    """Contacts (tasks of kind ``contact``) created in one bucket for one queue, reason and
    channel."""

    queue: str
    bucket: int  # index into Period.buckets
    reason: str | None
    channel: str
    contacts: int
    answered: int
    answered_in_sl: int  # waited (queued → accepted) no longer than the queue's threshold
    abandoned: int
    wait_seconds: float  # summed over the answered


class HandlingFact(NamedTuple):
    """Tasks created in the period, completed by an agent: talk + wrap-up."""

    queue: str
    agent_id: str
    handled: int
    handle_seconds: float


class ResolutionFact(NamedTuple):
    judged: int  # handled contacts with a customer and a reason
    resolved: int  # without a contact on the same reason in the 7 days after


class ScoreFact(NamedTuple):
    """Survey answers of one bucket, for the agent, queue, site and reason they were
    attributed to."""

    bucket: int
    agent_id: str | None
    queue: str | None
    csat_count: int
    csat_sum: float
    csat_satisfied: int  # answers 4 or 5
    nps_count: int
    promoters: int  # 9–10
    detractors: int  # 0–6
    site: str | None = None  # the answer's own, else the agent's site
    reason: str | None = None  # the task's contact reason, else the answer's own
