"""Shared plumbing of the browser tests: Debian's Chromium under Playwright, axe-core, the
screenshots, and a live server on a database of its own.

Skipped only when /usr/bin/chromium is absent; with ``CIRCULO_REQUIRE_BROWSER=1`` (set by
.ci/run, which installs Chromium) its absence fails instead, so CI can never skip silently.
``CIRCULO_UPDATE_SCREENSHOTS=1`` also writes the screenshots into docs/screenshots."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

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




@contextmanager
def own_database(ctx: AppContext, tmp_path: Path) -> Iterator[Database]:
    """On SQLite the live server gets a database of its own, shared with no other test's
    state (in the whole suite the shared file once answered 'wrong password' for a user a
    test had just created); on PostgreSQL the suite's database, wiped after the test."""
    db = Database(f"sqlite:///{tmp_path / 'desk.db'}") if ctx.db.dialect == "sqlite" \
        else ctx.db
    upgrade(db.engine)
    try:
        yield db
    finally:
        if db is not ctx.db:
            db.dispose()


@contextmanager
def page_of(browser: Any, *, locale: str = "es-ES") -> Iterator[tuple[Any, list[str]]]:
    """A page at the desk's smallest screen, and the console errors it logs (a script or
    style the CSP blocks, a missing file): a test asserts the list is empty."""
    # bypass_csp: axe is injected as an inline script, which the pages' CSP forbids
    context = browser.new_context(viewport=VIEWPORT, locale=locale, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    try:
        yield page, errors
    finally:
        context.close()


PASSWORD = "correct horse battery"  # every browser test's users have it
SIGN_IN = {"es": ("Nombre de usuario", "Contraseña", "Iniciar sesión"),
           "en": ("User name", "Password", "Sign in")}


def sign_in(page: Any, base: str, username: str, password: str = PASSWORD, *,
            lang: str = "es") -> None:
    """Sign in through the form, as a person does, and wait for the page it leads to."""
    user_label, password_label, button = SIGN_IN[lang]
    page.goto(f"{base}/sign-in?lang={lang}")
    page.get_by_label(user_label).fill(username)
    page.get_by_label(password_label).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


__all__ = ["live_server", "own_database", "page_of", "screenshot", "serious_violations", "sign_in"]
