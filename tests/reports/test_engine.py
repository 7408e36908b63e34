"""The report's figures from the sums the database makes, checked by hand (no database)."""

from __future__ import annotations

from datetime import date, timedelta

from circulo.reports.engine import compute, net_promoter_score, nps_of
from circulo.reports.facts import (
    HandlingFact,
    ResolutionFact,
    ScoreFact,
    ServiceFact,
)
from circulo.reports.period import make_period

DAY = date(2026, 11, 2)  # a Monday
TWO_DAYS = make_period(DAY, date(2026, 11, 3), "Europe/Madrid")
NOTHING = ResolutionFact(0, 0)


def test_service_level_asa_and_abandonment_over_queues_and_days() -> None:
    service = [  # queue, bucket, reason, channel, contacts, answered, in SL, abandoned, wait
        ServiceFact("general", 0, None, "voice", 5, 4, 2, 1, 111.0),
        ServiceFact("general", 1, "card", "voice", 2, 1, 1, 0, 5.0),
        ServiceFact("vip", 1, "card", "chat", 3, 3, 3, 0, 12.0),
    ]
    report = compute(TWO_DAYS, service, [], NOTHING, [])
    s = report.service
    assert (s.offered, s.answered, s.answered_in_sl, s.abandoned) == (9, 8, 6, 1)
    assert s.service_level == 75.0  # 6 / 8
    assert s.average_speed_of_answer == 16.0  # 128 / 8
    assert s.abandonment_rate == 11.1  # 1 / 9
    general = report.queues[0].service
    assert (general.service_level, general.average_speed_of_answer) == (60.0, 23.2)  # 3/5
    assert [(b.contacts, b.service_level) for b in report.trend] == [(5, 50.0), (5, 100.0)]


def test_handle_time_weighs_each_task_not_each_queue() -> None:
    handling = [HandlingFact("general", "ana", 3, 900.0), HandlingFact("vip", "ana", 1, 500.0),
                HandlingFact("general", "ben", 1, 100.0)]
    report = compute(TWO_DAYS, [], handling, NOTHING, [])
    assert (report.handling.handled, report.handling.average_handle_time) == (5, 300.0)
    agents = {a.agent_id: a.handling for a in report.agents}
    assert (agents["ana"].handled, agents["ana"].average_handle_time) == (4, 350.0)
    assert agents["ben"].average_handle_time == 100.0


def test_first_contact_resolution_is_resolved_over_judged() -> None:
    report = compute(TWO_DAYS, [], [], ResolutionFact(judged=8, resolved=6), [])
    assert report.resolution.first_contact_resolution == 75.0


def test_nps_is_promoters_minus_detractors() -> None:
    # 3 promoters (9, 10, 9), 2 passives (7, 8), 5 detractors (0, 3, 6, 6, 5): 30 − 50
    assert nps_of([9, 10, 9, 7, 8, 0, 3, 6, 6, 5]) == -20.0
    assert net_promoter_score(3, 5, 10) == -20.0
    assert nps_of([]) is None
    assert nps_of([10]) == 100.0


def test_csat_by_agent_and_queue_and_the_nps_trend() -> None:
    scores = [  # bucket, agent, queue, csat n, sum, satisfied, nps n, promoters, detractors
        ScoreFact(0, "ana", "general", 2, 9.0, 2, 2, 2, 0),
        ScoreFact(1, "ana", "vip", 1, 1.0, 0, 1, 0, 1),
        ScoreFact(1, None, None, 1, 3.0, 0, 1, 0, 0),  # attributed to nobody
    ]
    report = compute(TWO_DAYS, [], [], NOTHING, scores)
    assert (report.scores.responses, report.scores.csat_average,
            report.scores.csat_satisfied) == (4, 3.25, 50.0)
    ana = report.agents[0].scores
    assert (ana.responses, ana.csat_average, ana.csat_satisfied) == (3, 3.33, 66.7)
    assert [q.queue for q in report.queues] == ["general", "vip"]
    assert report.nps == 25.0  # (2 − 1) / 4
    assert [(b.nps_responses, b.nps) for b in report.trend] == [(2, 100.0), (2, -50.0)]


def test_contacts_by_reason_and_channel() -> None:
    counts = [ServiceFact("general", 0, "billing", "voice", 3, 3, 3, 0, 30.0),
              ServiceFact("general", 1, "billing", "chat", 2, 2, 2, 0, 20.0),
              ServiceFact("vip", 0, None, "voice", 1, 1, 1, 0, 10.0),
              ServiceFact("general", 1, "card", "email", 5, 5, 5, 0, 50.0)]
    report = compute(TWO_DAYS, counts, [], NOTHING, [])
    assert [(c.key, c.contacts) for c in report.by_reason] == [
        ("billing", 5), ("card", 5), ("", 1)]
    assert [(c.key, c.contacts) for c in report.by_channel] == [
        ("email", 5), ("voice", 4), ("chat", 2)]


def test_a_long_period_trends_by_week_and_days_follow_clock_changes() -> None:
    period = make_period(date(2026, 10, 1), date(2026, 12, 15), "Europe/Madrid")
    assert period.bucket == "week"
    assert period.buckets[:3] == (date(2026, 10, 1), date(2026, 10, 5), date(2026, 10, 12))
    assert len(period.starts) == len(period.buckets) + 1
    day = make_period(date(2026, 10, 25), date(2026, 10, 25), "Europe/Madrid")
    assert day.end - day.start == timedelta(hours=25)  # summer time ends that night
    assert TWO_DAYS.start.isoformat() == "2026-11-01T23:00:00+00:00"


def test_an_empty_period_has_no_figures_rather_than_zeros() -> None:
    report = compute(TWO_DAYS, [], [], NOTHING, [])
    assert report.service.service_level is None
    assert report.handling.average_handle_time is None
    assert report.resolution.first_contact_resolution is None
    assert report.nps is None and report.scores.csat_average is None
    assert [b.contacts for b in report.trend] == [0, 0]


def test_csat_and_nps_by_site_and_reason() -> None:
    scores = [
        ScoreFact(0, "ana", "general", 2, 9.0, 2, 2, 2, 0, "madrid", "factura"),
        ScoreFact(1, "ben", "general", 1, 1.0, 0, 1, 0, 1, "leeds", "factura"),
        ScoreFact(1, None, None, 1, 3.0, 0, 1, 0, 0),  # no site, no reason
    ]
    report = compute(TWO_DAYS, [], [], NOTHING, scores)
    sites = {x.key: (x.scores.responses, x.scores.csat_satisfied, x.nps)
             for x in report.scores_by_site}
    assert sites == {"madrid": (2, 100.0, 100.0), "leeds": (1, 0.0, -100.0),
                     "": (1, 0.0, 0.0)}
    reasons = {x.key: (x.scores.responses, x.scores.csat_average, x.nps_responses, x.nps)
               for x in report.scores_by_reason}
    # factura: CSAT 5, 4 and 1 → mean 3.33; NPS 2 promoters, 1 detractor of 3 → +33.3
    assert reasons == {"factura": (3, 3.33, 3, 33.3), "": (1, 3.0, 1, 0.0)}
