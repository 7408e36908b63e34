"""The living demo with the example surveys (as ``make demo`` runs it): finished contacts get
their invitation, some callers answer by keypad, and the console's figures move."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from circulo.clock import FixedClock
from circulo.context import AppContext
from circulo.demo.traffic import DemoTraffic
from circulo.surveys import service
from circulo.surveys.models import SurveyInvitation, SurveyResponse
from tests.demo.test_demo_traffic import _demo
from tests.surveys.helpers import SURVEYS


def test_demo_traffic_answers_surveys(ctx: AppContext, clock: FixedClock,
                                      tmp_path: Path) -> None:
    ctx.settings = ctx.settings.with_overrides(surveys_file=SURVEYS)
    _demo(ctx, tmp_path)
    start = clock.now()
    traffic = DemoTraffic(ctx, random.Random(7))
    for _ in range(600):
        clock.advance(timedelta(seconds=1))
        traffic.tick()
    with ctx.db.unit_of_work(write=False) as session:
        invited = session.scalars(select(SurveyInvitation)).all()
        answered = session.scalars(select(SurveyResponse)).all()
        board = service.scoreboard(session, start, clock.now())
    assert invited and answered and len(answered) < len(invited)
    assert {r.task_id for r in answered} <= {i.task_id for i in invited}
    assert all(r.channel == "ivr" and r.agent_id and r.site for r in answered)
    assert board.total.csat_responses == len(answered)
    assert {f.key for f in board.by["agent"]} == {r.agent_id for r in answered}
