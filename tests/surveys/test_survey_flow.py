"""After an interaction: one invitation, the link, one response, the event (S10)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from circulo.clock import FixedClock
from circulo.db import Database
from circulo.surveys.models import SurveyInvitation, SurveyResponse
from tests.surveys.helpers import (
    Center,
    customer,
    handled,
    invitations,
    survey_center,
    token_of,
)

PHONE = "+34600000001"
ANSWERS = {"csat": "5", "nps": "9", "comment": "Muy amable, me lo resolvió todo."}


def timeline(center: Center, customer_id: str, event_type: str) -> list[dict]:
    events = center.api.get(f"/v1/customers/{customer_id}/timeline",
                            params={"limit": 200}).json()["events"]
    return [e for e in events if e["type"] == event_type]


def rows(center: Center, model: type) -> list:
    with center.ctx.db.unit_of_work(write=False) as session:
        found = list(session.scalars(select(model)).all())
        session.expunge_all()
        return found


def test_a_finished_call_sends_one_link_and_takes_one_answer(database: Database,
                                                             clock: FixedClock) -> None:
    with survey_center(database, clock) as center:
        who = customer(center, PHONE, language="es", first_name="Pilar")
        task_id = handled(center, PHONE)
        [message] = invitations(center)
        data = message.payload["data"]
        assert message.destination == "notify:sms" and data["to"] == PHONE
        assert data["language"] == "es" and data["purpose"] == "surveys"
        assert "¿Nos dice qué tal le atendimos?" in data["text"]
        # it waits the survey's delay (5 minutes) in the outbox
        assert message.next_attempt_at == clock.now() + timedelta(minutes=5)
        token = token_of(message)
        [invitation] = rows(center, SurveyInvitation)
        assert invitation.task_id == task_id and invitation.agent_id == "lucia"
        assert invitation.site == "madrid" and invitation.reason == "factura"
        assert token not in (invitation.token_hash or "") and len(invitation.token_hash) == 64

        page = center.client.get(f"/s/{token}")
        assert page.status_code == 200 and 'lang="es"' in page.text
        assert "¿Cuál es su grado de satisfacción" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]

        clock.advance(timedelta(minutes=10))
        done = center.client.post(f"/s/{token}", data={**ANSWERS, "lang": "es"})
        assert done.status_code == 200 and "¡Gracias!" in done.text
        [event] = timeline(center, who, "survey.answered")
        props = event["properties"]
        assert props["task_id"] == task_id and props["agent"] == "lucia"
        assert props["queue"] == "atencion" and props["site"] == "madrid"
        assert props["reason"] == "factura" and props["csat"] == 5 and props["nps"] == 9
        assert props["comment"] == ANSWERS["comment"] and props["language"] == "es"
        assert props["low_score"] is False and props["survey"] == "after-contact"

        # the link is single-use: reopened or resent, it says so and stores nothing more
        again = center.client.get(f"/s/{token}")
        assert again.status_code == 409 and "ya se respondió" in again.text
        resent = center.client.post(f"/s/{token}", data={"csat": "1", "nps": "0"})
        assert resent.status_code == 409
        assert len(rows(center, SurveyResponse)) == 1
        assert len(timeline(center, who, "survey.answered")) == 1


def test_one_invitation_per_interaction_and_none_without_consent(database: Database,
                                                                 clock: FixedClock) -> None:
    with survey_center(database, clock) as center:
        customer(center, PHONE)
        customer(center, "+34600000002", consent=False)
        handled(center, PHONE)
        handled(center, "+34600000002")
        found = {i.customer_id: i for i in rows(center, SurveyInvitation)}
        assert len(found) == 2
        skipped = [i for i in found.values() if i.status == "skipped"]
        assert len(skipped) == 1 and "no_consent" in (skipped[0].skipped_reason or "")
        assert len(invitations(center)) == 1
        # The completed event replayed (same task) makes no second invitation.
        from circulo.surveys import service
        with center.ctx.db.unit_of_work() as session:
            task_id = rows(center, SurveyInvitation)[0].task_id
            again = service.invite(session, center.ctx.settings,
                                   service.catalogue_of(center.ctx.settings), task_id, None,
                                   clock.now())
        assert again is None and len(rows(center, SurveyInvitation)) == 2


def test_english_customer_gets_english(database: Database, clock: FixedClock) -> None:
    with survey_center(database, clock) as center:
        customer(center, "+447700900123", language="en", email="sam@example.com")
        handled(center, "+447700900123", agent="tom")
        [message] = invitations(center)
        assert message.payload["data"]["language"] == "en"
        assert "Would you tell us how we did?" in message.payload["data"]["text"]
        token = token_of(message)
        page = center.client.get(f"/s/{token}")
        assert 'lang="en"' in page.text and "How satisfied are you" in page.text
        done = center.client.post(f"/s/{token}", data={"csat": "4", "nps": "10",
                                                       "lang": "en"})
        assert done.status_code == 200 and "Thank you!" in done.text


def test_erasure_keeps_the_scores_without_the_person(database: Database,
                                                    clock: FixedClock) -> None:
    with survey_center(database, clock) as center:
        who = customer(center, PHONE, language="es")
        handled(center, PHONE)
        token = token_of(invitations(center)[-1])
        assert center.client.post(f"/s/{token}", data=ANSWERS).status_code == 200
        assert center.api.delete(f"/v1/customers/{who}").status_code == 200
        assert rows(center, SurveyInvitation) == []
        [response] = rows(center, SurveyResponse)
        assert response.customer_id is None and response.comment is None
        assert (response.csat, response.nps, response.agent_id) == (5, 9, "lucia")
        assert center.client.get(f"/s/{token}").status_code == 404  # the link is gone too


def test_a_broken_surveys_file_stops_the_start_but_never_a_wrap_up(
        database: Database, clock: FixedClock, tmp_path: Path) -> None:
    import pytest

    from circulo.config import Settings
    from circulo.surveys.definition import SurveyConfigError
    from circulo.wiring import build_context
    from tests.surveys.helpers import SURVEYS
    broken = tmp_path / "surveys.yaml"
    broken.write_text("surveys:\n  a:\n    titel: x\n", encoding="utf-8")
    with pytest.raises(SurveyConfigError, match=r"surveys.yaml: line 2: surveys.a: needs 'title'"):
        build_context(Settings(database_url=database.url, surveys_file=broken), clock,
                      db=database)
    good = tmp_path / "good.yaml"
    good.write_text(SURVEYS.read_text(encoding="utf-8"), encoding="utf-8")
    with survey_center(database, clock, surveys_file=good) as center:
        customer(center, PHONE)
        good.write_text("surveys: [", encoding="utf-8")  # broken while serving
        task_id = handled(center, PHONE)  # the wrap-up is recorded all the same
        assert rows(center, SurveyInvitation) == []
        task = center.api.get(f"/v1/tasks/{task_id}").json()
        assert task["state"] == "completed"
