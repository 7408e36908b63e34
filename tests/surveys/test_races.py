"""One response per interaction whatever the race: the page and the IVR's keypad, sent at
once, store one response and one event; the losers are told it was answered (never a 500)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from circulo.clock import FixedClock
from circulo.db import Database
from circulo.surveys.models import SurveyInvitation, SurveyResponse
from tests.surveys.helpers import Center, customer, handled, invitations, survey_center, token_of

PHONE = "+34600000001"
KEYPAD = "/v1/surveys/responses"


def at_once(*calls: Callable[[], Any]) -> list[int]:
    barrier = threading.Barrier(len(calls))
    statuses: list[int] = [0] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        statuses[i] = calls[i]().status_code
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


def count(center: Center, model: type) -> int:
    with center.ctx.db.unit_of_work(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_page_and_the_keypad_racing_store_one_response(database: Database,
                                                           clock: FixedClock) -> None:
    with survey_center(database, clock) as center:
        customer(center, PHONE, language="es")
        task_id = handled(center, PHONE)
        token = token_of(invitations(center)[0])
        clock.advance(timedelta(minutes=10))
        form = {"csat": "5", "nps": "9"}
        keypad = {"task_id": task_id, "answers": {"csat": "1", "nps": "0"}}
        statuses = at_once(*[lambda: center.client.post(f"/s/{token}", data=form)] * 3,
                           *[lambda: center.api.post(KEYPAD, json=keypad)] * 3)
        assert count(center, SurveyResponse) == 1
        assert statuses.count(500) == 0 and (200 in statuses or 201 in statuses), statuses
        assert set(statuses) <= {200, 201, 409}, statuses


def test_keypads_racing_store_one(database: Database,
                                                        clock: FixedClock) -> None:
    with survey_center(database, clock) as center:
        customer(center, PHONE, consent=False)  # no link sent, the IVR asks
        task_id = handled(center, PHONE)
        keypad = {"task_id": task_id, "answers": {"csat": "4", "nps": "8"}}
        statuses = at_once(*[lambda: center.api.post(KEYPAD, json=keypad)] * 4)
        assert count(center, SurveyResponse) == 1 and count(center, SurveyInvitation) == 1
        assert statuses == [201, 409, 409, 409], statuses
