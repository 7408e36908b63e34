"""Recorded calls in Chromium (S24, quality review): a telephony system uploads a call, the
server's background worker transcribes it offline, and a supervisor searches a word said in
it, opens it, sees the timestamped transcript and plays it; the customer panel's timeline
links to it; an agent is refused. Spanish and English; axe clean."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from circulo.auth import service as auth
from circulo.auth import users
from circulo.context import AppContext
from tests.speech.audio import needs_espeak, spoken
from tests.web.browser import (
    PASSWORD,
    live_server,
    own_database,
    page_of,
    screenshot,
    serious_violations,
    sign_in,
)

pytestmark = [pytest.mark.browser, needs_espeak]
SAID = ("Good morning. I am calling because my internet connection drops every evening. "
        "I have restarted the router many times and nothing changes. "
        "I want a technician to visit my house this week, please.")
OTHER = "Thank you, the new invoice looks correct now."


def uploaded(api: httpx.Client, text: str, phone: str) -> str:
    response = api.post("/v1/recordings", params={"language": "en", "phone": phone,
                                                  "call_id": f"CALL-{phone[-3:]}"},
                        content=spoken(text), headers={"Content-Type": "audio/wav"})
    assert response.status_code == 202, response.text
    recording: str = response.json()["id"]
    return recording


def transcribed(api: httpx.Client, recording: str, timeout: float = 120) -> dict[str, Any]:
    """What `circulo serve`'s speech worker made of it (it runs in the server process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = api.get(f"/v1/recordings/{recording}").json()
        if body["status"] not in ("pending", "processing"):
            return body
        time.sleep(0.5)
    raise AssertionError(f"recording {recording} still not transcribed")


def test_a_supervisor_finds_and_reviews_a_recorded_call(ctx: AppContext, browser: Any,
                                                       tmp_path: Path) -> None:
    with own_database(ctx, tmp_path) as db:
        with db.unit_of_work() as session:
            for username, role in (("sara", "supervisor"), ("ana", "agent")):
                users.create_user(session, users.UserSpec(
                    username=username, name=username.title(), role=role, language="es",
                    agent_id="ana" if role == "agent" else None), PASSWORD, ctx.clock.now())
            _, key = auth.create_key(session, "pbx", ["admin"], ctx.clock.now())
        with live_server(db.url, cli=True, CIRCULO_DATA_DIR=str(tmp_path)) as base, \
                httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"},
                             timeout=30) as api, page_of(browser) as (page, errors):
            wanted = uploaded(api, SAID, "+34600000123")
            uploaded(api, OTHER, "+34600000456")
            recording = transcribed(api, wanted)
            assert recording["status"] == "transcribed", recording
            assert "technician" in recording["transcript"].lower()

            searches_and_opens(page, base, wanted, tmp_path)
            the_panel_links_to_it(page, base, recording["customer_id"], wanted)
            in_english(page, base, wanted)
            an_agent_is_refused(page, base, wanted)
            assert [e for e in errors if "(Forbidden)" not in e] == []


def searches_and_opens(page: Any, base: str, wanted: str, tmp_path: Path) -> None:
    sign_in(page, base, "sara")
    page.get_by_role("navigation", name="Secciones").get_by_role(
        "link", name="Grabaciones").click()
    page.wait_for_url(f"{base}/recordings")
    assert page.locator("#found").inner_text() == "2 grabaciones"
    assert serious_violations(page) == []
    page.get_by_label("Buscar en lo que se dijo").fill("technician")
    page.get_by_role("button", name="Buscar").click()
    page.wait_for_url("**/recordings?q=technician*")
    assert page.locator("#found").inner_text() == "1 grabación con «technician»"
    rows = page.locator("#rec-list tbody tr")
    assert rows.count() == 1
    assert "technician" in rows.first.locator(".rec-said").inner_text().lower()
    assert serious_violations(page) == []
    screenshot(page, "recordings-search.png", tmp_path)

    rows.first.get_by_role("link").click()
    page.wait_for_url(f"{base}/recordings/{wanted}")
    # The text-analysis worker reads the transcript like any message (S24 then S16); it runs
    # in the server beside the speech worker, within a second or two of the transcript.
    deadline = time.monotonic() + 30
    while not page.locator("#rec-analysis").is_visible() and time.monotonic() < deadline:
        time.sleep(0.5)
        page.reload()
    assert "Urgencia" in page.locator("#rec-analysis").inner_text()
    assert page.locator("#rec-status").inner_text() == "Transcrita"
    lines = page.locator("#rec-transcript li")
    assert lines.count() >= 2  # three sentences: Whisper cuts them into segments
    assert "technician" in page.locator("#rec-transcript").inner_text().lower()
    assert lines.first.get_by_role("button", name="Escuchar 0:00.0–").count() == 1
    starts = [float(b.get_attribute("data-seek"))
              for b in page.locator("#rec-transcript [data-seek]").all()]
    assert starts == sorted(starts)
    # The player loads the audio with the session (served with ranges), and seeks on click.
    page.wait_for_function("document.getElementById('rec-audio').readyState >= 1")
    duration = page.evaluate("document.getElementById('rec-audio').duration")
    assert 4 < duration < 20
    lines.nth(1).get_by_role("button").click()
    page.wait_for_function(f"document.getElementById('rec-audio').currentTime >= "
                           f"{starts[1] - 0.01}")
    assert serious_violations(page) == []
    screenshot(page, "recordings-detail.png", tmp_path)


def the_panel_links_to_it(page: Any, base: str, customer_id: str, wanted: str) -> None:
    page.goto(f"{base}/desk/customers/{customer_id}")
    timeline = page.locator("#cust-timeline-list")
    assert "Llamada transcrita" in timeline.inner_text()
    timeline.get_by_role("link", name="Ver la grabación").first.click()
    page.wait_for_url(f"{base}/recordings/{wanted}")


def in_english(page: Any, base: str, wanted: str) -> None:
    page.get_by_label("Idioma").select_option("en")
    page.get_by_role("button", name="Cambiar idioma").click()
    page.wait_for_function("document.documentElement.lang === 'en'")
    page.goto(f"{base}/recordings/{wanted}")
    assert page.locator("#rec-status").inner_text() == "Transcribed"
    assert page.get_by_role("heading", name="Transcript").is_visible()
    assert serious_violations(page) == []
    page.goto(f"{base}/recordings?q=INVOICE")
    assert page.locator("#found").inner_text() == "1 recording with “INVOICE”"
    page.get_by_role("button", name="Sign out").click()


def an_agent_is_refused(page: Any, base: str, wanted: str) -> None:
    sign_in(page, base, "ana")
    nav = page.get_by_role("navigation", name="Secciones")
    assert nav.get_by_role("link", name="Grabaciones").count() == 0
    response = page.goto(f"{base}/recordings/{wanted}")
    assert response is not None and response.status == 403
    assert page.get_by_role("alert").inner_text().startswith("Las grabaciones son para")
    audio = page.request.get(f"{base}/v1/recordings/{wanted}/audio")
    assert audio.status == 403
    assert serious_violations(page) == []
