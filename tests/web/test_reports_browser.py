"""The reports page in Chromium (S10 scores per agent, S23): a supervisor opens /reports,
the charts draw, the tables show what the API answers, the period changes, the CSV
downloads, in Spanish and English; an agent is refused; a signed-out page goes to sign-in."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from bench.reports_bench import fill

from circulo.auth import service as auth
from circulo.auth import users
from circulo.context import AppContext
from circulo.web.reports import number
from tests.routing.helpers import POLICY
from tests.web.browser import (
    PASSWORD,
    live_server,
    own_database,
    page_of,
    screenshot,
    serious_violations,
    sign_in,
)

pytestmark = pytest.mark.browser
ZONE = "Europe/Madrid"


def a_morning_through_the_api(base: str, key: str) -> None:
    """What a telephony system and a survey tool would send: one call answered, handled
    and scored, one abandoned."""
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as api:
        assert api.put("/v1/routing/policy", content=POLICY,
                       headers={"Content-Type": "application/yaml"}).status_code == 200
        assert api.put("/v1/agents/ana", json={"queues": ["general"]}).status_code == 200
        assert api.post("/v1/agents/ana/presence",
                        json={"presence": "available"}).status_code == 200
        answered = api.post("/v1/tasks", json={"queue": "general", "reason": "billing",
                                               "identifiers": {"phone": "+34600000003"}})
        task = answered.json()["id"]
        assert api.post(f"/v1/tasks/{task}/accept", json={"agent_id": "ana"}).is_success
        assert api.post(f"/v1/tasks/{task}/complete", json={"agent_id": "ana"}).is_success
        lost = api.post("/v1/tasks", json={"queue": "general", "reason": "card",
                                           "identifiers": {"phone": "+34600000001"}})
        assert api.post(f"/v1/tasks/{lost.json()['id']}/abandon").is_success
        assert api.post("/v1/events", json={"events": [{
            "type": "survey.answered", "source": "surveys",
            "identifiers": {"phone": "+34600000003"},
            "properties": {"csat": 4, "nps": 10, "task_id": task}}]}).status_code == 200


def charts_drawn(page: Any) -> None:
    page.wait_for_function("document.querySelectorAll('.plot[data-drawn]').length === 5")
    assert page.locator(".plot canvas").count() == 5


def figures(page: Any) -> dict[str, str]:
    return {cell.get_attribute("data-figure"): cell.inner_text()
            for cell in page.locator("#summary dd").all()}


def test_a_supervisor_reads_the_reports_in_chromium(ctx: AppContext, browser: Any,
                                                   tmp_path: Path) -> None:
    today = datetime.now(ZoneInfo(ZONE)).date()
    with own_database(ctx, tmp_path) as db:
        with db.unit_of_work() as session:
            for username, role in (("sara", "supervisor"), ("ana", "agent")):
                users.create_user(session, users.UserSpec(
                    username=username, name=username.title(), role=role, language="es",
                    agent_id="ana" if role == "agent" else None), PASSWORD, ctx.clock.now())
            _, key = auth.create_key(session, "telephony", ["admin"], ctx.clock.now())
        # a month of history before today, as if the center had run for weeks
        fill(db, first=today.replace(day=1) - timedelta(days=31), days=31, agents=8,
             contacts=1500, customers=400)
        with live_server(db.url) as base, page_of(browser) as (page, errors):
            a_morning_through_the_api(base, key)
            reads_today_month_and_csv(page, errors, base, key, today, tmp_path)
            switches_to_english(page, tmp_path)
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url(f"{base}/sign-in")
            page.goto(f"{base}/reports")  # the session is gone: sign in again
            assert page.url == f"{base}/sign-in"
            an_agent_is_refused(page, base)
            # the console saw only the two refusals the test asked for (422 and 403)
            assert [e for e in errors if "(Unprocessable Entity)" not in e
                    and "(Forbidden)" not in e] == []
            assert len(errors) == 2


def api_report(base: str, key: str, first: date, last: date) -> dict[str, Any]:
    response = httpx.get(f"{base}/v1/reports", params={
        "from": first.isoformat(), "to": last.isoformat(), "tz": ZONE},
        headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def reads_today_month_and_csv(page: Any, errors: list[str], base: str, key: str,
                              today: date, tmp_path: Path) -> None:
    sign_in(page, base, "sara")
    page.get_by_role("navigation", name="Secciones").get_by_role("link",
                                                                 name="Informes").click()
    page.wait_for_url(f"{base}/reports")
    assert page.get_by_role("heading", level=1).inner_text() == "Informes"
    charts_drawn(page)
    expected = api_report(base, key, today, today)
    assert expected["service"]["offered"] == 2
    shown = figures(page)
    assert shown["service_level"] == number(expected["service"]["service_level"], "es") + " %"
    assert shown["abandonment_rate"] == "50,0 %"
    assert shown["offered"] == "2" and shown["abandoned"] == "1"
    assert shown["nps"] == "100,0"
    agents = page.get_by_role("table", name="Agentes: gestión y satisfacción")
    assert agents.get_by_role("row", name="ana").inner_text().split("\t")[:5] == [
        "ana", "1", number(expected["agents"][0]["handling"]["average_handle_time"], "es"),
        "1", "4,00"]
    assert serious_violations(page) == []

    page.get_by_label("Periodo", exact=True).select_option("month")
    page.get_by_role("button", name="Ver").click()
    page.wait_for_url("**/reports?period=month*")
    charts_drawn(page)
    month = api_report(base, key, today.replace(day=1), today)
    assert figures(page)["offered"] == number(month["service"]["offered"], "es")
    assert figures(page)["first_contact_resolution"] == number(
        month["resolution"]["first_contact_resolution"], "es") + " %"
    rows = page.get_by_role("table", name="Contactos por motivo").locator("tbody tr")
    assert rows.count() == len(month["by_reason"])
    assert serious_violations(page) == []

    page.get_by_label("Periodo", exact=True).select_option("custom")
    page.get_by_label("Desde").fill((today - timedelta(days=40)).isoformat())
    page.get_by_label("Hasta").fill((today - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Ver").click()
    page.wait_for_url("**/reports?period=custom*")
    charts_drawn(page)
    history = api_report(base, key, today - timedelta(days=40), today - timedelta(days=1))
    assert history["service"]["offered"] >= 1500 - 1  # the whole filled month, not today
    assert figures(page)["offered"] == number(history["service"]["offered"], "es")
    table = page.get_by_role("table", name="Agentes: gestión y satisfacción")
    assert table.locator("tbody tr").count() == len(history["agents"]) == 8
    page.evaluate("window.scrollTo(0, document.getElementById('summary-title')"
                  ".getBoundingClientRect().top + window.scrollY - 24)")
    screenshot(page, "reports-month.png", tmp_path)  # the filled month: summary and trend
    page.locator("#agents").scroll_into_view_if_needed()
    screenshot(page, "reports-agents.png", tmp_path)

    with page.expect_download() as download:
        page.get_by_role("link", name="Descargar CSV").click()
    rows_csv = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    got = {(s, k, m): v for s, k, m, v in rows_csv[1:]}
    assert got[("summary", "", "offered")] == str(history["service"]["offered"])
    assert got[("period", "", "time_zone")] == ZONE

    assert errors == []
    page.get_by_label("Desde").fill(today.isoformat())  # after "To": a clear message
    page.get_by_role("button", name="Ver").click()
    assert page.get_by_role("alert").inner_text() == "La fecha «Desde» es posterior a «Hasta»."
    assert serious_violations(page) == []


def switches_to_english(page: Any, tmp_path: Path) -> None:
    page.get_by_label("Periodo", exact=True).select_option("today")
    page.get_by_role("button", name="Ver").click()
    page.get_by_label("Idioma").select_option("en")
    page.get_by_role("button", name="Cambiar idioma").click()
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.get_by_role("heading", level=1).inner_text() == "Reports"
    charts_drawn(page)
    assert figures(page)["abandonment_rate"] == "50.0 %"
    assert page.get_by_role("table", name="Contacts by reason").is_visible()
    assert serious_violations(page) == []


def an_agent_is_refused(page: Any, base: str) -> None:
    sign_in(page, base, "ana")
    nav = page.get_by_role("navigation", name="Secciones")
    assert nav.get_by_role("link", name="Informes").count() == 0
    response = page.goto(f"{base}/reports")
    assert response is not None and response.status == 403
    assert page.get_by_role("alert").inner_text().startswith("Los informes son para")
    assert serious_violations(page) == []
