"""Surveys in Chromium (S10): a customer opens the survey link on a phone, answers in
Spanish (another in English) and sees the thank-you; the reopened link says it was answered;
the supervisor's console shows the new CSAT and NPS for that agent and queue without a
reload; a VIP's low score puts them on the rescue desk's callback list."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from circulo.auth import service as auth
from circulo.auth import users
from circulo.connectors.models import OutboxMessage
from circulo.context import AppContext
from circulo.db import Database
from tests.surveys.helpers import LINK, POLICY, SURVEYS
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
PHONE = {"width": 390, "height": 844}
S10 = Path(__file__).resolve().parents[2] / "examples/journeys/s10-low-score-rescue.yaml"


def contact(api: httpx.Client, phone: str, agent: str, **traits: Any) -> str:
    """A customer who accepts surveys calls and ``agent`` handles the call: the task id."""
    assert api.post("/v1/events", json={"events": [{
        "type": "profile.updated", "source": "crm", "identifiers": {"phone": phone},
        "traits": traits, "consent": [{"channel": "sms", "purpose": "surveys",
                                       "granted": True}]}]}).status_code == 200
    for who in ("lucia", "tom"):
        assert api.post(f"/v1/agents/{who}/presence", json={
            "presence": "available" if who == agent else "away"}).is_success
    task = api.post("/v1/tasks", json={"queue": "atencion", "reason": "factura",
                                       "identifiers": {"phone": phone}}).json()["id"]
    deadline = time.monotonic() + 10
    while not api.post(f"/v1/tasks/{task}/accept", json={"agent_id": agent}).is_success:
        assert time.monotonic() < deadline, "the task was never offered"
        time.sleep(0.2)
    assert api.post(f"/v1/tasks/{task}/complete", json={"agent_id": agent}).is_success
    return str(task)


def link_for(db: Database, base: str, phone: str) -> str:
    """The link in the SMS the outbox holds for ``phone`` (no SMS provider in a test)."""
    with db.unit_of_work(write=False) as session:
        for message in session.scalars(select(OutboxMessage).where(
                OutboxMessage.event_type == "notification.requested")):
            if message.payload["data"]["to"] == phone:
                match = LINK.search(message.payload["data"]["text"])
                assert match
                return f"{base}/s/{match.group(1)}"
    raise AssertionError(f"no survey SMS for {phone}")


def answer_in_spanish(browser: Any, link: str, tmp_path: Path) -> None:
    with page_of(browser, locale="es-ES") as (page, errors):
        page.set_viewport_size(PHONE)
        page.goto(link)
        assert page.locator("html").get_attribute("lang") == "es"
        assert page.get_by_role("heading", level=1).inner_text() == "¿Qué tal le atendimos?"
        assert serious_violations(page) == []
        # the page fits the phone: nothing wider than the screen
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "surveys-form-es.png", tmp_path)
        csat = page.get_by_role("group", name=re.compile("grado de satisfacción"))
        # by keyboard: into the scale, then the arrow keys move the choice (native radios)
        csat.get_by_role("radio", name="3").focus()
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("ArrowLeft")
        assert csat.get_by_role("radio", name="1").is_checked()
        nps = page.get_by_role("group", name=re.compile("recomendaría"))
        nps.get_by_text("2", exact=True).click()
        assert nps.get_by_role("radio", name="2").is_checked()
        page.get_by_label(re.compile("contarnos algo más")).fill(
            "Me tuvieron esperando y nadie resolvió lo de la factura.")
        page.get_by_role("button", name="Enviar respuestas").click()
        page.wait_for_selector("text=¡Gracias!")
        assert serious_violations(page) == []
        screenshot(page, "surveys-thanks-es.png", tmp_path)
        page.goto(link)  # the link is single-use
        assert page.get_by_role("heading", level=1).inner_text() == "Encuesta ya respondida"
        assert serious_violations(page) == []
        screenshot(page, "surveys-answered.png", tmp_path)
        assert [e for e in errors if "409" not in e] == []


def answer_in_english(browser: Any, link: str, tmp_path: Path) -> None:
    with page_of(browser, locale="en-GB") as (page, errors):
        page.set_viewport_size(PHONE)
        page.goto(link)
        assert page.locator("html").get_attribute("lang") == "en"
        page.get_by_role("button", name="Send answers").click()  # nothing chosen yet
        page.wait_for_selector("text=Please check the answers marked below.")
        assert page.get_by_text("Choose an answer.").count() == 2
        assert serious_violations(page) == []
        screenshot(page, "surveys-problems-en.png", tmp_path)
        page.get_by_role("group", name=re.compile("How satisfied")).get_by_text(
            "5", exact=True).click()
        page.get_by_role("group", name=re.compile("recommend")).get_by_text(
            "10", exact=True).click()
        page.get_by_role("button", name="Send answers").click()
        page.wait_for_selector("text=Thank you!")
        assert serious_violations(page) == []
        assert [e for e in errors if "422" not in e] == []


def cell(page: Any, table: str, key: str, column: str) -> str:
    return str(page.locator(f'#{table} tr[data-key="{key}"] td[data-col="{column}"]')
               .inner_text())


def test_surveys_from_the_phone_to_the_console(ctx: AppContext, browser: Any,
                                               tmp_path: Path) -> None:
    with own_database(ctx, tmp_path) as db:
        with db.unit_of_work() as session:
            users.create_user(session, users.UserSpec(
                username="sara", name="Sara", role="supervisor", language="es"),
                PASSWORD, ctx.clock.now())
            _, key = auth.create_key(session, "ivr", ["admin"], ctx.clock.now())
        # the background loops as circulo serve runs them: routing, and the journeys runner
        with live_server(db.url, CIRCULO_SURVEYS_FILE=str(SURVEYS),
                         CIRCULO_ROUTING_BACKGROUND="true") as base, \
                httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as api:
            assert api.put("/v1/routing/policy", content=POLICY,
                           headers={"Content-Type": "application/yaml"}).status_code == 200
            assert api.post("/v1/journeys", params={"activate": "true"},
                            content=S10.read_bytes(),
                            headers={"Content-Type": "application/yaml"}).is_success
            with page_of(browser) as (console, console_errors):
                sign_in(console, base, "sara")
                console.goto(f"{base}/console/surveys")
                assert "Aún no hay respuestas" in console.locator("#live-scores").inner_text()

                contact(api, "+34600000010", "lucia", name="María López", tier="vip",
                        language="es")
                contact(api, "+447911123456", "tom", name="Sam Hill", language="en")
                answer_in_spanish(browser, link_for(db, base, "+34600000010"), tmp_path)
                answer_in_english(browser, link_for(db, base, "+447911123456"), tmp_path)

                # live: the page that was already open shows both answers (htmx polling)
                console.wait_for_selector('#today-agent tr[data-key="tom"]', timeout=15000)
                assert cell(console, "today-agent", "lucia", "csat") == "0,0 % (1,00)"
                assert cell(console, "today-agent", "lucia", "nps") == "-100,0"
                assert cell(console, "today-agent", "tom", "csat") == "100,0 % (5,00)"
                assert cell(console, "today-queue", "atencion", "csat") == "50,0 % (3,00)"
                assert cell(console, "today-queue", "atencion", "nps") == "0,0"
                assert cell(console, "today-site", "madrid", "csat_n") == "1"
                assert cell(console, "today-reason", "factura", "nps_n") == "2"
                assert serious_violations(console) == []
                screenshot(console, "surveys-console.png", tmp_path)
                assert console_errors == []

            # S10: the VIP's low score put her on the rescue desk's callback list
            deadline = time.monotonic() + 15
            while True:
                members = api.get("/v1/lists/rescue-desk/members").json()["members"]
                if members or time.monotonic() > deadline:
                    break
                time.sleep(0.3)
            assert members, api.get("/v1/journeys/low-score-rescue").json()["counters"]
            [member] = members
            tasks = api.get("/v1/tasks", params={"customer_id": member["customer_id"]}).json()
            assert [t["queue"] for t in tasks if t["kind"] == "callback"] == ["rescate"]
            assert len(members) == 1  # Sam's 5/10 started nothing
