"""The report's figures from plain facts, checked by hand (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from circulo.reports.engine import compute, first_contact_resolution, make_period, nps_of
from circulo.reports.facts import SurveyFact, TaskFact

DAY = date(2026, 11, 2)  # a Monday
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # 10:00 in Madrid
PERIOD = make_period(DAY, DAY, "Europe/Madrid")


def task(n: int, *, waited: float | None = 10, handled: float | None = 300,
         state: str | None = None, at: datetime = T0, **extra: Any) -> TaskFact:
    """A contact created at ``at``, answered after ``waited`` seconds (None: abandoned) and
    completed ``handled`` seconds later."""
    assigned = at + timedelta(seconds=waited) if waited is not None else None
    completed = assigned + timedelta(seconds=handled) if assigned and handled is not None \
        else None
    fields: dict[str, Any] = {
        "id": f"t{n}", "kind": "contact", "queue": "general", "channel": "voice",
        "state": state or ("completed" if completed else "abandoned" if waited is None
                           else "assigned"),
        "customer_id": None, "reason": None, "agent_id": "ana" if assigned else None,
        "sl_seconds": 20.0, "created_at": at, "queued_at": at, "assigned_at": assigned,
        "completed_at": completed, **extra}
    return TaskFact(**fields)


def survey(at: datetime = T0, *, csat: float | None = None, nps: float | None = None,
           customer: str | None = None, **named: str) -> SurveyFact:
    return SurveyFact(at, customer, csat, nps, named.get("task_id"), named.get("agent_id"),
                      named.get("queue"))


def test_service_level_counts_answers_within_the_threshold() -> None:
    # waits 10, 20 (on the threshold: in), 21, 60; one abandoned
    tasks = [task(1, waited=10), task(2, waited=20), task(3, waited=21), task(4, waited=60),
             task(5, waited=None)]
    report = compute(PERIOD, tasks, [])
    s = report.service
    assert (s.offered, s.answered, s.answered_in_sl, s.abandoned) == (5, 4, 2, 1)
    assert s.service_level == 50.0
    assert s.average_speed_of_answer == 27.8  # (10 + 20 + 21 + 60) / 4 = 27.75
    assert s.abandonment_rate == 20.0


def test_handle_time_is_talk_and_wrap_up_of_completed_tasks() -> None:
    tasks = [task(1, handled=200), task(2, handled=400), task(3, handled=None),
             task(4, waited=None)]
    report = compute(PERIOD, tasks, [])
    assert report.handling.handled == 2
    assert report.handling.average_handle_time == 300.0
    assert report.agents[0].agent_id == "ana"
    assert report.agents[0].handling.handled == 2


def test_only_tasks_created_in_the_period_count() -> None:
    # Madrid midnight is 23:00 UTC the day before: 22:59 UTC on the 2nd is still the 2nd
    inside = task(1, at=datetime(2026, 11, 2, 22, 59, tzinfo=UTC))
    after = task(2, at=datetime(2026, 11, 2, 23, 0, tzinfo=UTC))
    before = task(3, at=datetime(2026, 11, 1, 22, 59, tzinfo=UTC))
    report = compute(PERIOD, [before, inside, after], [])
    assert report.service.answered == 1


def test_a_repeat_on_day_6_undoes_first_contact_resolution_one_on_day_8_does_not() -> None:
    period = make_period(DAY, date(2026, 11, 3), "Europe/Madrid")
    mine = {"customer_id": "c1", "reason": "billing"}
    first = task(1, **mine)
    repeat_day_6 = task(2, at=T0 + timedelta(days=6), waited=None, **mine)  # even abandoned
    other = {"customer_id": "c2", "reason": "billing"}
    second = task(3, at=T0 + timedelta(days=1), **other)
    repeat_day_8 = task(4, at=T0 + timedelta(days=9), **other)
    other_reason = task(5, at=T0 + timedelta(days=2), customer_id="c2", reason="card")
    no_reason = task(6, customer_id="c3")
    result = first_contact_resolution(
        [first, repeat_day_6, second, repeat_day_8, other_reason, no_reason], period)
    # judged: t1 and t3 (in the period, handled, customer and reason); t3 resolved
    assert (result.judged, result.resolved, result.first_contact_resolution) == (2, 1, 50.0)


def test_nps_is_promoters_minus_detractors() -> None:
    # 3 promoters (9, 10, 9), 2 passives (7, 8), 5 detractors (0, 3, 6, 6, 5): 30 − 50
    assert nps_of([9, 10, 9, 7, 8, 0, 3, 6, 6, 5]) == -20.0
    assert nps_of([]) is None
    assert nps_of([10]) == 100.0


def test_csat_goes_to_the_task_agent_or_last_contact_it_names() -> None:
    handled_by_ben = task(1, agent_id="ben", queue="sales", customer_id="c1")
    handled_by_ana = task(2, customer_id="c2")
    later = T0 + timedelta(hours=2)
    answers = [
        survey(later, csat=5, task_id="t1"),  # names the task: ben, sales
        survey(later, csat=4, agent_id="ana", queue="general"),  # names agent and queue
        survey(later, csat=2, customer="c2"),  # the customer's last handled task: ana
        survey(later, csat=1, customer="nobody"),  # no contact: counts only overall
        survey(later, nps=10, customer="c1"),  # no csat: not a CSAT answer
    ]
    report = compute(PERIOD, [handled_by_ben, handled_by_ana], answers)
    assert (report.scores.responses, report.scores.csat_average,
            report.scores.csat_satisfied) == (4, 3.0, 50.0)
    agents = {a.agent_id: a.scores for a in report.agents}
    assert (agents["ben"].responses, agents["ben"].csat_average) == (1, 5.0)
    assert (agents["ana"].responses, agents["ana"].csat_average) == (2, 3.0)
    queues = {q.queue: q.scores for q in report.queues}
    assert queues["sales"].responses == 1 and queues["general"].responses == 2
    assert report.nps == 100.0 and report.nps_responses == 1


def test_a_survey_more_than_7_days_after_the_contact_scores_nobody() -> None:
    period = make_period(DAY, date(2026, 11, 12), "Europe/Madrid")
    contact = task(1, customer_id="c1")
    report = compute(period, [contact], [survey(T0 + timedelta(days=8), csat=5, customer="c1")])
    assert report.scores.responses == 1
    assert report.agents[0].scores.responses == 0


def test_contacts_by_reason_and_channel_and_the_daily_trend() -> None:
    period = make_period(DAY, date(2026, 11, 3), "Europe/Madrid")
    tasks = [task(1, reason="billing"), task(2, reason="billing", channel="chat"),
             task(3, reason="card", at=T0 + timedelta(days=1), waited=30), task(4),
             task(5, kind="callback", reason="abandoned")]  # callbacks are not contacts
    answers = [survey(T0, nps=10), survey(T0, nps=0),
               survey(T0 + timedelta(days=1), nps=9)]
    report = compute(period, tasks, answers)
    assert [(c.key, c.contacts) for c in report.by_reason] == [
        ("billing", 2), ("", 1), ("card", 1)]
    assert [(c.key, c.contacts) for c in report.by_channel] == [("voice", 3), ("chat", 1)]
    assert [(b.start, b.contacts, b.service_level, b.nps_responses, b.nps)
            for b in report.trend] == [(DAY, 3, 100.0, 2, 0.0),
                                       (date(2026, 11, 3), 1, 0.0, 1, 100.0)]
    assert report.handling.handled == 5  # the callback was handled too


def test_a_long_period_trends_by_week_and_days_follow_clock_changes() -> None:
    period = make_period(date(2026, 10, 1), date(2026, 12, 15), "Europe/Madrid")
    assert period.bucket == "week"
    assert period.buckets[:3] == (date(2026, 10, 1), date(2026, 10, 5), date(2026, 10, 12))
    day = make_period(date(2026, 10, 25), date(2026, 10, 25), "Europe/Madrid")
    assert day.end - day.start == timedelta(hours=25)  # summer time ends that night


def test_an_empty_period_has_no_figures_rather_than_zeros() -> None:
    report = compute(PERIOD, [], [])
    assert report.service.service_level is None
    assert report.handling.average_handle_time is None
    assert report.resolution.first_contact_resolution is None
    assert report.nps is None
    assert [b.contacts for b in report.trend] == [0]
