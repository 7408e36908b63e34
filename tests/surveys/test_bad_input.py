"""Every refusal of the survey page and the keypad API: a clear answer, nothing stored twice,
never a 500."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from circulo.clock import FixedClock
from circulo.db import Database
from circulo.surveys.models import SurveyResponse
from tests.conftest import assert_problem, ok
from tests.surveys.helpers import Center, customer, handled, invitations, survey_center, token_of

PHONE = "+34600000001"


def responses(center: Center) -> int:
    with center.ctx.db.unit_of_work(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(SurveyResponse)) or 0)


def _link(center: Center) -> str:
    customer(center, PHONE, language="es")
    handled(center, PHONE)
    return token_of(invitations(center)[-1])


def test_expired_unknown_and_tampered_links(database: Database, clock: FixedClock) -> None:
    with survey_center(database, clock) as center:
        token = _link(center)
        invitation_id, nonce, signature = token.split(".")
        flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
        for bad in (f"{invitation_id}.{nonce}.{flipped}",  # tampered signature
                    f"svi_0123456789abcdef.{nonce}.{signature}",  # another invitation
                    "nada", "x" * 5000, "%ff%fe", "svi_1.%C3%B1" + "a" * 20):
            page = center.client.get(f"/s/{bad}")
            assert page.status_code == 404, bad
            assert "Enlace no válido" in page.text
            posted = center.client.post(f"/s/{bad}", data={"csat": "5", "nps": "10"})
            assert posted.status_code == 404
        assert center.client.get("/s/%00").status_code == 422  # NUL: refused by the app
        english = center.client.get("/s/nada?lang=en")
        assert "Invalid link" in english.text
        # three days after it was sent (plus the delay), the link has closed
        clock.advance(timedelta(days=3, minutes=6))
        closed = center.client.get(f"/s/{token}")
        assert closed.status_code == 410 and "ha caducado" in closed.text
        posted = center.client.post(f"/s/{token}", data={"csat": "5", "nps": "10"})
        assert posted.status_code == 410
        assert responses(center) == 0


def test_answers_out_of_range_are_refused_on_the_page(database: Database,
                                                      clock: FixedClock) -> None:
    with survey_center(database, clock) as center:
        token = _link(center)
        for form in ({"csat": "6", "nps": "9"}, {"csat": "0", "nps": "9"},
                     {"csat": "3", "nps": "11"}, {"csat": "tres", "nps": "9"},
                     {"nps": "9"}, {"csat": "3", "nps": "-1"},
                     {"csat": "3", "nps": "9", "comment": "x" * 1001}):
            page = center.client.post(f"/s/{token}", data=form)
            assert page.status_code == 422, form
            assert "Revise las respuestas marcadas" in page.text
            assert 'aria-invalid="true"' in page.text
        english = center.client.post(f"/s/{token}", data={"csat": "9", "lang": "en"})
        assert "outside the scale" in english.text and "Choose an answer." in english.text
        assert responses(center) == 0
        # a form that is not a form, or too big, is a clear page too
        odd = center.client.post(f"/s/{token}", content=b"\xff\xfe",
                                 headers={"Content-Type": "application/json"})
        assert odd.status_code == 422
        huge = center.client.post(f"/s/{token}", data={"comment": "x" * 20000})
        assert huge.status_code == 422
        # and the right answers still go through afterwards
        done = center.client.post(f"/s/{token}", data={"csat": "3", "nps": "7"})
        assert done.status_code == 200 and responses(center) == 1


def test_failures_are_rate_limited_per_address(database: Database, clock: FixedClock) -> None:
    with survey_center(database, clock, survey_failure_limit="5/minute") as center:
        for n in range(5):
            assert center.client.get(f"/s/guess{n}").status_code == 404
        busy = center.client.get("/s/guess-more")
        assert busy.status_code == 429 and "Demasiados intentos" in busy.text
        assert int(busy.headers["retry-after"]) >= 1


def test_keypad_answers_from_the_ivr(database: Database, clock: FixedClock) -> None:
    with survey_center(database, clock) as center:
        who = customer(center, PHONE, language="es")
        task_id = handled(center, PHONE)
        api = center.api
        url = "/v1/surveys/responses"
        for answers, field, code in (({"csat": "7", "nps": "9"}, "answers.csat", "out_of_range"),
                                     ({"csat": "4", "nps": "12"}, "answers.nps", "out_of_range"),
                                     ({"csat": "4"}, "answers.nps", "missing"),
                                     ({"csat": "4", "nps": "9", "q9": "1"}, "answers.q9",
                                      "unknown_question")):
            body = assert_problem(api.post(url, json={"task_id": task_id, "answers": answers}),
                                  422, "validation_failed")
            assert {"field": field, "code": code} in [
                {"field": e["field"], "code": e["code"]} for e in body["errors"]], body
        body = assert_problem(api.post(url, json={"task_id": task_id, "answers": {
            "csat": "cuatro"}}), 422, "validation_failed")
        assert any(e["field"].startswith("answers") for e in body["errors"])
        assert_problem(api.post(url, json={"task_id": "nope", "answers": {"csat": "4"}}),
                       404, "not_found")
        assert_problem(api.post(url, content=b"{", headers={"Content-Type": "application/json"}),
                       400, "malformed_json")
        assert_problem(api.post(url, json={"task_id": task_id, "answers": {"csat": "4"},
                                           "extra": 1}), 422, "validation_failed")
        assert_problem(api.post(url, content=b"[" + b"1," * 5000 + b"1]"), 413,
                       "payload_too_large")
        assert center.client.post(url, json={"task_id": task_id,
                                             "answers": {"csat": "4"}}).status_code == 401
        saved = ok(api.post(url, json={"task_id": task_id, "answers": {"csat": "2", "nps": "5"},
                                       "language": "es"}), 201)
        assert saved["channel"] == "ivr" and saved["agent_id"] == "lucia"
        assert saved["site"] == "madrid" and saved["low_score"] is True
        assert_problem(api.post(url, json={"task_id": task_id, "answers": {"csat": "5",
                                                                            "nps": "10"}}),
                       409, "already_answered")
        # the link sent by SMS for the same interaction now says it was answered
        token = token_of(invitations(center)[-1])
        assert center.client.get(f"/s/{token}").status_code == 409
        events = api.get(f"/v1/customers/{who}/timeline").json()["events"]
        assert [e["properties"]["csat"] for e in events if e["type"] == "survey.answered"] == [2]


def test_keypad_after_the_survey_closed(database: Database, clock: FixedClock) -> None:
    with survey_center(database, clock) as center:
        customer(center, PHONE)
        task_id = handled(center, PHONE)
        clock.advance(timedelta(days=4))
        assert_problem(center.api.post("/v1/surveys/responses", json={
            "task_id": task_id, "answers": {"csat": "4", "nps": "9"}}), 410, "survey_expired")
