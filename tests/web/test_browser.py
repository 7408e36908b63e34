"""The desktop in a real browser (issue 16, step 2): Debian's Chromium driven by Playwright
against a live server. Sign in wrong then right, the desk, the language switch, sign out; on
every page axe-core (the vendored copy) finds nothing serious or critical."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from circulo.auth import users
from circulo.context import AppContext
from tests.web.browser import (
    live_server,
    own_database,
    page_of,
    screenshot,
    serious_violations,
)

PASSWORD = "correct horse battery"

pytestmark = pytest.mark.browser


def test_sign_in_desk_language_and_sign_out_in_chromium(ctx: AppContext, browser: Any,
                                                         tmp_path: Path) -> None:
    with own_database(ctx, tmp_path) as db:
        with db.unit_of_work() as session:
            users.create_user(session, users.UserSpec(
                username="ana", name="Ana Pérez", role="agent", agent_id="ana",
                language="es"), PASSWORD, ctx.clock.now())
        with live_server(db.url) as base, page_of(browser) as (page, errors):
            signs_in_switches_language_and_signs_out(page, errors, base, tmp_path)


def signs_in_switches_language_and_signs_out(page: Any, errors: list[str], base: str,
                                             tmp_path: Path) -> None:

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
    assert page.url == f"{base}/desk", (page.url, page.locator("main").inner_text())
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
