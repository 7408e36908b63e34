"""The reports' queries on a real database (SQLite, and PostgreSQL in CI): waits on the
threshold, local-day buckets, repeats on day 6 and day 8, and which agent a survey scores."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from circulo.context import AppContext
from circulo.customers.models import Event
from circulo.reports import repository as repo
from circulo.reports.facts import ResolutionFact
from circulo.reports.period import make_period
from circulo.routing.models import TaskRow

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # 10:00 in Madrid, Monday 2 November
DAY = make_period(date(2026, 11, 2), date(2026, 11, 2), "Europe/Madrid")
TWO_DAYS = make_period(date(2026, 11, 2), date(2026, 11, 3), "Europe/Madrid")
_ids = iter(range(1_000_000))


def task(*, at: datetime = T0, waited: float | None = 10, handled: float | None = 300,
         **fields: Any) -> dict[str, Any]:
    """A contact created at ``at``, answered after ``waited`` s (None: abandoned) and
    completed ``handled`` s later (None: still in conversation)."""
    assigned = at + timedelta(seconds=waited) if waited is not None else None
    completed = assigned + timedelta(seconds=handled) if assigned and handled is not None \
        else None
    state = "completed" if completed else "assigned" if assigned else "abandoned"
    return {
        "id": f"t{next(_ids)}", "source": "test", "external_id": None, "kind": "contact",
        "queue": "general", "channel": "voice", "state": state, "customer_id": None,
        "identifiers": {}, "priority": 0, "skills": {}, "language": None, "attributes": {},
        "context": {}, "team": None, "boost": 0, "sl_seconds": 20.0, "not_before": None,
        "window_end": None, "attempts": 1, "max_attempts": 1, "parent_id": None,
        "reason": None, "declined": {}, "agent_id": "ana" if assigned else None,
        "created_at": at, "queued_at": at, "reserved_until": None, "assigned_at": assigned,
        "ended_at": completed, "completed_at": completed or (None if assigned else at),
        "outcome": None, "result": {}, "version": 1, "changed_at": at, **fields}


def survey(at: datetime, customer: str | None, **properties: Any) -> dict[str, Any]:
    n = next(_ids)
    return {"id": f"e{n}", "type": "survey.answered", "source": "surveys",
            "client_id": f"s{n}", "channel": None, "occurred_at": at, "received_at": at,
            "profile_id": customer, "origin_profile_id": customer, "resolution": "attached",
            "identifiers": {}, "traits": None, "properties": properties, "extra": None,
            "candidates": None}


def store(ctx: AppContext, tasks: list[dict[str, Any]],
          events: list[dict[str, Any]] | None = None) -> None:
    with ctx.db.unit_of_work() as session:
        session.execute(insert(TaskRow.__table__), tasks)
        if events:
            session.execute(insert(Event.__table__), events)


def test_a_wait_on_the_threshold_is_within_it(ctx: AppContext) -> None:
    store(ctx, [task(waited=10), task(waited=20), task(waited=21), task(waited=60),
                task(waited=None), task(waited=5, kind="callback")])
    with ctx.db.unit_of_work() as session:
        facts = repo.service(session, DAY)
    assert [(f.contacts, f.answered, f.answered_in_sl, f.abandoned, round(f.wait_seconds, 2))
            for f in facts] == [(5, 4, 2, 1, 111.0)]


def test_contacts_by_queue_day_reason_and_channel(ctx: AppContext) -> None:
    store(ctx, [task(reason="billing"), task(reason="billing", waited=None),
                task(reason="billing", channel="chat"), task(), task(queue="vip")])
    with ctx.db.unit_of_work() as session:
        facts = repo.service(session, DAY)
    assert sorted((f.queue, f.reason or "", f.channel, f.contacts, f.abandoned)
                  for f in facts) == [("general", "", "voice", 1, 0),
                                      ("general", "billing", "chat", 1, 0),
                                      ("general", "billing", "voice", 2, 1),
                                      ("vip", "", "voice", 1, 0)]


def test_buckets_are_local_days(ctx: AppContext) -> None:
    # Madrid midnight is 23:00 UTC the day before
    store(ctx, [task(at=datetime(2026, 11, 1, 22, 59, tzinfo=UTC)),  # Sunday: outside
                task(at=datetime(2026, 11, 2, 22, 59, tzinfo=UTC)),  # Monday
                task(at=datetime(2026, 11, 2, 23, 0, tzinfo=UTC)),  # Tuesday
                task(at=datetime(2026, 11, 3, 23, 0, tzinfo=UTC))])  # Wednesday: outside
    with ctx.db.unit_of_work() as session:
        facts = repo.service(session, TWO_DAYS)
    assert sorted((f.bucket, f.contacts) for f in facts) == [(0, 1), (1, 1)]


def test_handling_counts_completed_tasks_talk_and_wrap_up(ctx: AppContext) -> None:
    store(ctx, [task(handled=200), task(handled=400, agent_id="ben"),
                task(handled=None), task(waited=None)])
    with ctx.db.unit_of_work() as session:
        facts = sorted(repo.handling(session, DAY))
    assert [(f.agent_id, f.handled, round(f.handle_seconds)) for f in facts] == [
        ("ana", 1, 200), ("ben", 1, 400)]


def test_a_repeat_on_day_6_undoes_first_contact_resolution_one_on_day_8_does_not(
        ctx: AppContext) -> None:
    period = make_period(date(2026, 11, 2), date(2026, 11, 3), "Europe/Madrid")
    store(ctx, [
        task(customer_id="c1", reason="billing"),
        task(customer_id="c1", reason="billing", at=T0 + timedelta(days=6), waited=None),
        task(customer_id="c2", reason="billing", at=T0 + timedelta(days=1)),
        task(customer_id="c2", reason="billing", at=T0 + timedelta(days=9)),
        task(customer_id="c2", reason="card", at=T0 + timedelta(days=1, hours=1)),
        task(customer_id="c3"),  # no reason: not judged
        task(reason="billing"),  # nobody known: not judged
        task(customer_id="c4", reason="card", waited=None),  # abandoned: not judged
    ])
    with ctx.db.unit_of_work() as session:
        result = repo.resolution(session, period)
    # judged: c1 billing (repeat on day 6), c2 billing (repeat on day 8), c2 card
    assert result == ResolutionFact(judged=3, resolved=2)


def test_a_survey_scores_the_task_agent_or_last_contact_it_names(ctx: AppContext) -> None:
    later = T0 + timedelta(hours=2)
    by_ben = task(agent_id="ben", queue="sales", customer_id="c1")
    by_ana = task(customer_id="c2")
    store(ctx, [by_ben, by_ana], [
        survey(later, None, csat=5, task_id=by_ben["id"]),  # the task it names: ben, sales
        survey(later, None, csat=4, agent_id="ana", queue="general"),  # as it says
        survey(later, "c2", csat=2),  # the customer's last handled contact: ana
        survey(later, "c3", csat=1),  # no contact: counted, attributed to nobody
        survey(later, "c1", nps=10),  # no CSAT: an NPS answer only
        survey(later, "c1", csat="great", nps=11),  # not numbers in range: ignored
        survey(T0 + timedelta(days=8), "c2", csat=5),  # outside the period
    ])
    with ctx.db.unit_of_work() as session:
        facts = repo.scores(session, DAY)
    got = {(f.agent_id, f.queue): (f.csat_count, f.csat_sum, f.nps_count) for f in facts}
    # c1's NPS answer goes to c1's last contact: ben's
    assert got == {("ben", "sales"): (1, 5.0, 1), ("ana", "general"): (2, 6.0, 0),
                   (None, None): (1, 1.0, 0)}
    assert sum(f.promoters for f in facts) == 1


def test_a_survey_a_week_after_the_contact_scores_nobody(ctx: AppContext) -> None:
    period = make_period(date(2026, 11, 2), date(2026, 11, 12), "Europe/Madrid")
    store(ctx, [task(customer_id="c1")], [survey(T0 + timedelta(days=8), "c1", csat=5)])
    with ctx.db.unit_of_work() as session:
        facts = repo.scores(session, period)
    assert [(f.agent_id, f.csat_count) for f in facts] == [(None, 1)]


def test_an_agents_own_outbound_call_is_not_an_answered_contact(ctx: AppContext) -> None:
    """Click-to-dial (routing.dial) puts the call in the agent's hands at once: nobody waited,
    so it must not lift the service level, the answered count or first-contact resolution;
    its talk and wrap-up still count as the agent's handling time."""
    store(ctx, [task(waited=60, reason="billing", customer_id="c1"),
                task(waited=0, source="click_to_dial", reason="click_to_dial",
                     customer_id="c1", at=T0 + timedelta(minutes=10))])
    with ctx.db.unit_of_work() as session:
        facts = repo.service(session, DAY)
        handled = repo.handling(session, DAY)
        resolved = repo.resolution(session, DAY)
    assert [(f.reason, f.contacts, f.answered, f.answered_in_sl) for f in facts] == [
        ("billing", 1, 1, 0)]
    assert [(h.agent_id, h.handled) for h in handled] == [("ana", 2)]
    assert resolved == ResolutionFact(1, 1)


def test_a_survey_scores_a_site_and_a_reason(ctx: AppContext) -> None:
    """Issue 17: the site is the answer's own, else its agent's; the reason the answered
    task's, else the answer's own."""
    from circulo.routing.models import AgentRow
    later = T0 + timedelta(hours=2)
    agent = {"id": "ben", "name": "Ben", "site": "leeds", "skills": {}, "languages": ["en"],
             "queues": ["general"], "teams": [], "capacity": {}, "wrap_up": None,
             "active": True, "presence": "offline", "away_reason": None,
             "presence_since": T0, "activity": "idle", "activity_since": T0, "load": {},
             "reserved": 0, "assigned": 0, "wrapping": 0, "free_since": T0, "last_seen": None,
             "changed_at": T0, "version": 1, "created_at": T0}
    with ctx.db.unit_of_work() as session:
        session.execute(insert(AgentRow.__table__), [agent])
    by_ben = task(agent_id="ben", reason="factura", customer_id="c1")
    store(ctx, [by_ben], [
        survey(later, None, csat=5, nps=10, task_id=by_ben["id"]),  # leeds, factura
        survey(later, None, csat=2, nps=3, task_id=by_ben["id"], site="madrid",
               reason="otra"),  # its own site wins; the task's reason wins
        survey(later, None, csat=1, agent_id="ana", queue="general", reason="baja"),
    ])
    with ctx.db.unit_of_work() as session:
        facts = repo.scores(session, DAY)
    got = sorted((f.site or "", f.reason, f.csat_count, f.csat_sum, f.promoters,
                  f.detractors) for f in facts)
    assert got == [("", "baja", 1, 1.0, 0, 0), ("leeds", "factura", 1, 5.0, 1, 0),
                   ("madrid", "factura", 1, 2.0, 0, 1)]
