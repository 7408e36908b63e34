"""GET /v1/reports and /v1/reports.csv on contacts made through the routing API: the
figures, the CSV, who may read them, and bad periods answered as problem+json."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest

from circulo.api_deps import session_times
from circulo.auth import users
from circulo.clock import FixedClock
from circulo.context import AppContext
from circulo.routing.dispatcher import dispatcher_of
from tests.conftest import Api, assert_problem, make_key, ok
from tests.factories import event
from tests.routing.helpers import available, call, setup_center

TODAY = {"from": "2026-11-24", "to": "2026-11-24", "tz": "Europe/Madrid"}  # NOW's day
AGENT = {"languages": ["es"], "queues": ["general", "callbacks", "vip"]}


def _tick(ctx: AppContext, clock: FixedClock, seconds: float) -> None:
    clock.advance(timedelta(seconds=seconds))
    dispatcher_of(ctx).run_once()


def a_morning(api: Api, ctx: AppContext, clock: FixedClock) -> None:
    """Ana answers one call after 10 s (in the 20 s threshold) and handles it for 300 s,
    a second after 300 s (out of it) for 120 s; a third caller hangs up; the first customer
    scores the contact 5 and recommends 9."""
    setup_center(api, [{"id": "ana", **AGENT}])
    available(api, "ana")
    first = call(api, "+34600000003", reason="billing")
    clock.advance(timedelta(seconds=10))
    ok(api.post(f"/v1/tasks/{first['id']}/accept", json={"agent_id": "ana"}))
    second = call(api, "+34600000002", reason="card")
    third = call(api, "+34600000001", reason="card")
    clock.advance(timedelta(seconds=300))
    ok(api.post(f"/v1/tasks/{first['id']}/complete", json={"agent_id": "ana"}))
    ok(api.post(f"/v1/tasks/{third['id']}/abandon"))
    _tick(ctx, clock, 0)  # the second call is offered to ana
    ok(api.post(f"/v1/tasks/{second['id']}/accept", json={"agent_id": "ana"}))
    clock.advance(timedelta(seconds=120))
    ok(api.post(f"/v1/tasks/{second['id']}/complete", json={"agent_id": "ana"}))
    api.send(event("survey.answered", source="surveys", at=clock.now(),
                   identifiers={"phone": "+34600000003"}, properties={"csat": 5, "nps": 9}))


def test_the_figures_of_a_day(api: Api, ctx: AppContext, clock: FixedClock) -> None:
    a_morning(api, ctx, clock)
    report = ok(api.get("/v1/reports", params=TODAY))
    assert report["period"]["start"] == "2026-11-23T23:00:00Z"
    service = report["service"]
    assert (service["offered"], service["answered"], service["abandoned"]) == (3, 2, 1)
    assert service["service_level"] == 50.0
    assert service["average_speed_of_answer"] == 155.0  # (10 + 300) / 2
    assert service["abandonment_rate"] == 33.3
    assert report["handling"] == {"handled": 2, "average_handle_time": 210.0}
    # a new customer each, no repeats: both judged contacts resolved
    assert report["resolution"]["judged"] == 2
    assert report["resolution"]["first_contact_resolution"] == 100.0
    assert [(r["key"], r["contacts"]) for r in report["by_reason"]] == [
        ("card", 2), ("billing", 1)]
    assert report["by_channel"] == [{"key": "voice", "contacts": 3}]
    assert report["agents"] == [{"agent_id": "ana",
                                 "handling": {"handled": 2, "average_handle_time": 210.0},
                                 "scores": {"responses": 1, "csat_average": 5.0,
                                            "csat_satisfied": 100.0}}]
    assert report["nps"] == 100.0
    assert report["trend"][0]["contacts"] == 3

    yesterday = ok(api.get("/v1/reports", params={**TODAY, "from": "2026-11-23",
                                                   "to": "2026-11-23"}))
    assert yesterday["service"]["offered"] == 0


def test_the_csv_has_one_figure_a_line(api: Api, ctx: AppContext, clock: FixedClock) -> None:
    a_morning(api, ctx, clock)
    response = api.get("/v1/reports.csv", params=TODAY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "circulo-report-2026-11-24-2026-11-24.csv" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["section", "key", "metric", "value"]
    figures = {(s, k, m): v for s, k, m, v in rows[1:]}
    assert figures[("summary", "", "service_level")] == "50.0"
    assert figures[("agent", "ana", "csat_average")] == "5.0"
    assert figures[("reason", "card", "contacts")] == "2"
    assert figures[("day", "2026-11-24", "nps")] == "100.0"


def test_a_formula_in_a_reason_never_reaches_a_spreadsheet(api: Api) -> None:
    setup_center(api, [])
    call(api, "+34600000003", reason="=HYPERLINK(\"http://x\")")
    rows = list(csv.reader(io.StringIO(api.get("/v1/reports.csv").text)))
    assert ["reason", "'=HYPERLINK(\"http://x\")", "contacts", "1"] in rows


@pytest.mark.parametrize(("params", "field", "code"), [
    ({"from": "2026-11-25", "to": "2026-11-24"}, "from", "after_end"),
    ({"tz": "Mars/Olympus"}, "tz", "unknown_time_zone"),
    ({"tz": "../../etc/passwd"}, "tz", "unknown_time_zone"),
    ({"from": "2026-01-01", "to": "2026-11-24"}, "to", "too_long"),
    ({"from": "24/11/2026"}, "from", "invalid_date"),
    ({"to": "2026-02-30"}, "to", "invalid_date"),
])
def test_a_bad_period_is_a_problem_naming_the_field(api: Api, params: dict[str, str],
                                                    field: str, code: str) -> None:
    for path in ("/v1/reports", "/v1/reports.csv"):
        body = assert_problem(api.get(path, params=params), 422, "validation_failed")
        assert body["errors"][0]["field"] == field
        assert body["errors"][0]["code"] == code


def _signed_in(ctx: AppContext, role: str) -> dict[str, str]:
    with ctx.db.unit_of_work() as session:
        users.create_user(session, users.UserSpec(username=role, name=role.title(), role=role,
                                                  agent_id="ana" if role == "agent" else None,
                                                  language="es"),
                          "correct horse battery", ctx.clock.now())
    with ctx.db.unit_of_work() as session:
        signed = users.sign_in(session, role, "correct horse battery", None, ctx.clock.now(),
                               session_times(ctx))
    return {users.COOKIE: signed.token}


def test_who_may_read_the_reports(api: Api, ctx: AppContext) -> None:
    client = api.client
    assert_problem(client.get("/v1/reports"), 401, "unauthorized")
    reader: dict[str, Any] = {"Authorization": f"Bearer {make_key(ctx, ['read'], 'bi')}"}
    assert client.get("/v1/reports", headers=reader).status_code == 200
    ingest = {"Authorization": f"Bearer {make_key(ctx, ['ingest'], 'shop')}"}
    assert_problem(client.get("/v1/reports", headers=ingest), 403, "forbidden")

    client.cookies.update(_signed_in(ctx, "agent"))  # an agent reads no one's scores
    assert_problem(client.get("/v1/reports.csv"), 403, "forbidden")
    client.cookies.clear()
    client.cookies.update(_signed_in(ctx, "supervisor"))
    assert client.get("/v1/reports.csv").status_code == 200
