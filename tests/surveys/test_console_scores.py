"""The supervisor's CSAT and NPS by agent, queue, site and reason, without a browser."""

from __future__ import annotations

import re
from datetime import timedelta

from circulo.clock import FixedClock
from circulo.db import Database
from tests.surveys.helpers import Center, customer, handled, invitations, survey_center, token_of
from tests.web.test_pages import sign_in
from tests.web.test_reports_page import make_user


def answered(center: Center, phone: str, agent: str, reason: str, **form: str) -> None:
    handled(center, phone, agent=agent, reason=reason)
    token = token_of(invitations(center)[-1])
    assert center.client.post(f"/s/{token}", data=form).status_code == 200


def row(html: str, table: str, key: str) -> str:
    section = html[html.index(f'id="{table}"'):]
    section = section[:section.index("</table>")]
    match = re.search(rf'<tr data-key="{re.escape(key)}">(.*?)</tr>', section, re.S)
    assert match, (table, key)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_scores_by_agent_queue_site_and_reason(database: Database, clock: FixedClock) -> None:
    with survey_center(database, clock) as center:
        customer(center, "+34600000001")
        customer(center, "+34600000002")
        customer(center, "+34600000003")
        answered(center, "+34600000001", "lucia", "factura", csat="5", nps="10")
        answered(center, "+34600000002", "lucia", "baja", csat="2", nps="3")
        answered(center, "+34600000003", "tom", "factura", csat="4", nps="8")
        make_user(center.ctx, "sara", "supervisor")
        make_user(center.ctx, "ana", "agent")
        assert center.client.get("/console/surveys", follow_redirects=False
                                 ).status_code == 303
        sign_in(center.client, username="ana")
        assert center.client.get("/console/surveys").status_code == 403
        center.client.cookies.clear()
        sign_in(center.client, username="sara")
        page = center.client.get("/console/surveys")
        assert page.status_code == 200 and 'hx-trigger="every 5s"' in page.text
        assert 'href="/console/surveys" aria-current="page"' in page.text
        # lucía: CSAT 5 and 2 → 50 % satisfied, mean 3.5; NPS 10 and 3 → 50 − 50 = 0
        assert row(page.text, "today-agent", "lucia") == "lucia 50,0 % (3,50) 2 0,0 2"
        assert row(page.text, "today-agent", "tom") == "tom 100,0 % (4,00) 1 0,0 1"
        assert row(page.text, "today-site", "madrid").startswith("madrid 50,0 %")
        assert row(page.text, "today-site", "leeds").startswith("leeds 100,0 %")
        # factura: 5 and 4 → 100 %; NPS 10 (promoter), 8 (passive) → +50
        assert row(page.text, "today-reason", "factura") == "factura 100,0 % (4,50) 2 +50,0 2"
        # atencion: 5, 2, 4 → 2 of 3; NPS 10, 3, 8 → 1 promoter, 1 detractor of 3 → 0
        assert row(page.text, "today-queue", "atencion") == "atencion 66,7 % (3,67) 3 0,0 3"

        # the history in /reports has the same answers by site and by reason
        report = center.api.get("/v1/reports", params={"from": "2026-11-24",
                                                       "to": "2026-11-24"}).json()
        sites = {x["key"]: (x["scores"]["csat_satisfied"], x["nps"])
                 for x in report["scores_by_site"]}
        assert sites == {"madrid": (50.0, 0.0), "leeds": (100.0, 0.0)}
        reasons = {x["key"]: (x["scores"]["responses"], x["nps"])
                   for x in report["scores_by_reason"]}
        assert reasons == {"factura": (2, 50.0), "baja": (1, -100.0)}
        csv = center.api.get("/v1/reports.csv", params={"from": "2026-11-24",
                                                        "to": "2026-11-24"}).text
        assert "site_scores,madrid,csat_satisfied,50.0" in csv
        assert "reason_scores,baja,nps,-100.0" in csv

        # live: the fragment the page polls shows a new answer at once
        customer(center, "+34600000004")
        answered(center, "+34600000004", "tom", "baja", csat="1", nps="0")
        live = center.client.get("/console/surveys/live")
        assert live.status_code == 200 and "<html" not in live.text
        assert row(live.text, "today-agent", "tom") == "tom 50,0 % (2,50) 2 -50,0 2"

        # a chosen period; today's answers are not yesterday's
        clock.advance(timedelta(days=1))
        center.client.cookies.clear()  # the session has expired meanwhile
        sign_in(center.client, username="sara")
        later = center.client.get("/console/surveys",
                                  params={"from": "2026-11-24", "to": "2026-11-24"})
        assert row(later.text, "period-agent", "tom") == "tom 50,0 % (2,50) 2 -50,0 2"
        assert "Aún no hay respuestas" in center.client.get("/console/surveys/live").text
        bad = center.client.get("/console/surveys", params={"from": "2026-01-01",
                                                            "to": "2026-11-24"})
        assert bad.status_code == 422 and "como mucho 92 días" in bad.text
        assert center.client.get("/console/surveys", params={"from": "ayer"}
                                 ).status_code == 422
