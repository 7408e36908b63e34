"""The desktop in a real browser (issue 16, step 2): Debian's Chromium driven by Playwright
against a live server. Sign in wrong then right, the desk, the language switch, sign out; on
every page axe-core (the vendored copy) finds nothing serious or critical.

Skipped only when /usr/bin/chromium is absent; with ``CIRCULO_REQUIRE_BROWSER=1`` (set by
.ci/run, which installs Chromium) its absence fails instead, so CI can never skip silently.
``CIRCULO_UPDATE_SCREENSHOTS=1`` also writes the screenshots into docs/screenshots."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from circulo.auth import users
from circulo.context import AppContext
from circulo.db import Database
from circulo.migrate import upgrade
from tests.live import live_server

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "src/circulo/web/static/vendor/axe.min.js"
PASSWORD = "correct horse battery"
VIEWPORT = {"width": 1366, "height": 768}  # the smallest screen the desk is made for

pytestmark = pytest.mark.browser


@pytest.fixture
def browser() -> Iterator[Any]:
    missing = None if CHROMIUM.exists() else f"{CHROMIUM} is absent (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "the playwright package is not installed (pip install -e '.[dev]')"
    if missing:
        if os.environ.get("CIRCULO_REQUIRE_BROWSER") == "1":
            pytest.fail(f"CIRCULO_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def serious_violations(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.map(v => ({id: v.id, impact: v.impact,
            nodes: v.nodes.map(n => n.target.join(' '))}));
    }""")
    return [v for v in found if v["impact"] in ("serious", "critical")]


def screenshot(page: Any, name: str, tmp: Path) -> None:
    page.screenshot(path=str(tmp / name), full_page=False)
    if os.environ.get("CIRCULO_UPDATE_SCREENSHOTS") == "1":
        (ROOT / "docs/screenshots").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ROOT / "docs/screenshots" / name), full_page=False)


def test_sign_in_desk_language_and_sign_out_in_chromium(ctx: AppContext, browser: Any,
                                                         tmp_path: Path) -> None:
    # On SQLite the server gets a database of its own, shared with no other test's state
    db = Database(f"sqlite:///{tmp_path / 'desk.db'}") if ctx.db.dialect == "sqlite" \
        else ctx.db
    upgrade(db.engine)
    with db.unit_of_work() as session:
        users.create_user(session, users.UserSpec(
            username="ana", name="Ana Pérez", role="agent", agent_id="ana", language="es"),
            PASSWORD, ctx.clock.now())
    with live_server(db.url) as base:
        # bypass_csp: axe is injected as an inline script, which the pages' CSP forbids
        context = browser.new_context(viewport=VIEWPORT, locale="es-ES", bypass_csp=True)
        page = context.new_page()
        errors: list[str] = []  # a script or style the CSP blocks shows here
        page.on("console", lambda message: errors.append(message.text)
                if message.type == "error" else None)

        page.goto(f"{base}/")
        assert page.url == f"{base}/sign-in"
        assert page.get_attribute("html", "lang") == "es"
        assert serious_violations(page) == []
        screenshot(page, "sign-in.png", tmp_path)

        page.get_by_label("Nombre de usuario").fill("ana")
        page.get_by_label("Contraseña").fill("not the password")
        page.get_by_role("button", name="Iniciar sesión").click()
        alert = page.get_by_role("alert")
        assert alert.inner_text() == "Nombre de usuario o contraseña incorrectos."
        assert page.get_by_label("Nombre de usuario").input_value() == "ana"
        assert serious_violations(page) == []

        page.get_by_label("Contraseña").fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Iniciar sesión").click()
        assert page.url == f"{base}/desk", (page.url, [c["name"] for c in context.cookies()],
                                            page.locator("main").inner_text())
        assert page.locator("#who").inner_text() == "Ana Pérez"
        assert page.locator("#role").inner_text() == "Agente"
        assert page.locator("#agent").inner_text() == "ana"
        assert serious_violations(page) == []
        screenshot(page, "desk-shell.png", tmp_path)

        page.get_by_label("Idioma").select_option("en")
        page.get_by_role("button", name="Cambiar idioma").click()
        page.wait_for_function("document.documentElement.lang === 'en'")
        assert page.locator("#role").inner_text() == "Agent"
        assert serious_violations(page) == []

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{base}/sign-in")
        page.goto(f"{base}/desk")
        assert page.url == f"{base}/sign-in"  # the session is gone
        assert [e for e in errors if "401" not in e] == []  # the wrong password's 401 only
        context.close()
    if db is not ctx.db:
        db.dispose()
