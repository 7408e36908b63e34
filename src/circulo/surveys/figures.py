"""CSAT and NPS from answers summed in the database. Pure; the same formulas as the reports
(docs/reports.md): CSAT is the share of 1–5 answers that are 4 or 5 (the mean is shown
beside it), NPS is % promoters (9–10) − % detractors (0–6)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sums:
    """Answers summed in the database for one key (an agent, a queue, a site, a reason)."""

    key: str
    csat_count: int = 0
    csat_sum: int = 0
    satisfied: int = 0  # CSAT answers 4 or 5
    nps_count: int = 0
    promoters: int = 0  # NPS 9–10
    detractors: int = 0  # NPS 0–6


@dataclass(frozen=True, slots=True)
class Figures:
    key: str
    csat_responses: int
    csat_satisfied: float | None  # % of CSAT answers that are 4 or 5 (the headline CSAT)
    csat_average: float | None  # mean of the 1–5 answers
    nps_responses: int
    nps: float | None  # % promoters (9–10) − % detractors (0–6), −100…100


def figures(sums: Sums) -> Figures:
    """The same formulas as the reports (docs/reports.md), rounded to one decimal."""
    c, n = sums.csat_count, sums.nps_count
    return Figures(
        key=sums.key, csat_responses=c,
        csat_satisfied=round(100.0 * sums.satisfied / c, 1) if c else None,
        csat_average=round(sums.csat_sum / c, 2) if c else None,
        nps_responses=n,
        nps=round(100.0 * (sums.promoters - sums.detractors) / n, 1) if n else None)


def total(rows: list[Sums], key: str = "") -> Sums:
    return Sums(key, sum(r.csat_count for r in rows), sum(r.csat_sum for r in rows),
                sum(r.satisfied for r in rows), sum(r.nps_count for r in rows),
                sum(r.promoters for r in rows), sum(r.detractors for r in rows))
