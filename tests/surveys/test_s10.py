"""S10 end to end: a low score on the survey page from an important customer puts them on
the rescue desk's callback list; the same score from anyone else does not."""

from __future__ import annotations

from typing import Any

from circulo.clock import FixedClock
from circulo.db import Database
from tests.conftest import ok
from tests.journeys.helpers import load, run
from tests.surveys.helpers import Center, customer, handled, invitations, survey_center, token_of


def answer(center: Center, phone: str, **form: str) -> None:
    handled(center, phone)
    token = token_of(invitations(center)[-1])
    assert center.client.post(f"/s/{token}", data=form).status_code == 200


def callbacks(center: Center, customer_id: str) -> list[dict[str, Any]]:
    found = center.api.get("/v1/tasks", params={"customer_id": customer_id}).json()
    return [t for t in found if t["kind"] == "callback"]


def test_s10_low_score_from_an_important_customer(database: Database,
                                                  clock: FixedClock) -> None:
    with survey_center(database, clock) as center:
        load(center.api, "s10-low-score-rescue.yaml")
        vip = customer(center, "+34600000010", tier="vip", language="es")
        valuable = customer(center, "+34600000012", tier="premium", language="en")
        regular = customer(center, "+34600000011", language="es")
        happy_vip = customer(center, "+34600000013", tier="vip")
        answer(center, "+34600000010", csat="1", nps="2", comment="Nadie me ayudó")
        answer(center, "+34600000012", csat="4", nps="3", lang="en")  # NPS detractor
        answer(center, "+34600000011", csat="1", nps="0")
        answer(center, "+34600000013", csat="5", nps="10")
        run(center.api)
        members = ok(center.api.get("/v1/lists/rescue-desk/members"))["members"]
        assert sorted(m["customer_id"] for m in members) == sorted([vip, valuable])
        for who in (vip, valuable):
            [callback] = callbacks(center, who)
            assert callback["queue"] == "rescate"
        assert callbacks(center, regular) == [] and callbacks(center, happy_vip) == []


def test_the_low_score_limits_are_configurable(database: Database, clock: FixedClock,
                                               tmp_path: Any) -> None:
    from tests.surveys.helpers import SURVEYS
    strict = tmp_path / "surveys.yaml"
    strict.write_text(SURVEYS.read_text(encoding="utf-8").replace(
        "low_score: {csat_at_most: 2, nps_at_most: 6}",
        "low_score: {csat_at_most: 3, nps_at_most: 4}"), encoding="utf-8")
    with survey_center(database, clock, surveys_file=strict) as center:
        load(center.api, "s10-low-score-rescue.yaml")
        three = customer(center, "+34600000020", tier="vip")
        five = customer(center, "+34600000021", tier="vip")
        answer(center, "+34600000020", csat="3", nps="8")  # low under these limits
        answer(center, "+34600000021", csat="4", nps="5")  # NPS 5 is no longer low
        run(center.api)
        members = ok(center.api.get("/v1/lists/rescue-desk/members"))["members"]
        assert [m["customer_id"] for m in members] == [three]
        assert callbacks(center, five) == []

