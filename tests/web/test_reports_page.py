"""The reports page without a browser: who may open it, expired sessions, bad periods
answered with a message on the page (never a 500), and the presets in the user's zone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from circulo.app import create_app
from circulo.auth import users
from circulo.clock import FixedClock
from circulo.context import AppContext
from tests.web.test_pages import PASSWORD, sign_in


def make_user(ctx: AppContext, username: str, role: str, time_zone: str = "Europe/Madrid"
              ) -> None:
    with ctx.db.unit_of_work() as session:
        users.create_user(session, users.UserSpec(
            username=username, name=username.title(), role=role, language="es",
            time_zone=time_zone, agent_id="ana" if role == "agent" else None),
            PASSWORD, ctx.clock.now())


@pytest.fixture
def client(ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx.settings, ctx=ctx), follow_redirects=False) as test_client:
        yield test_client


def test_a_stranger_goes_to_sign_in_and_an_agent_is_told_why_not(
        ctx: AppContext, client: TestClient) -> None:
    response = client.get("/reports")
    assert (response.status_code, response.headers["location"]) == (303, "/sign-in")
    make_user(ctx, "ana", "agent")
    sign_in(client, username="ana")
    response = client.get("/reports")
    assert response.status_code == 403
    assert "Los informes son para supervisores y administradores" in response.text
    assert 'href="/reports"' not in response.text  # not in the agent's bar either


def test_an_expired_session_goes_to_sign_in_and_the_csv_answers_401(
        ctx: AppContext, client: TestClient, clock: FixedClock) -> None:
    make_user(ctx, "sara", "supervisor")
    sign_in(client, username="sara")
    assert client.get("/reports").status_code == 200
    clock.advance(timedelta(seconds=ctx.settings.session_idle_timeout + 1))
    response = client.get("/reports")
    assert (response.status_code, response.headers["location"]) == (303, "/sign-in")
    assert client.get("/v1/reports.csv").status_code == 401


@pytest.mark.parametrize(("query", "message"), [
    ("period=custom&from=2026-11-25&to=2026-11-24", "La fecha «Desde» es posterior a «Hasta»."),
    ("period=custom&from=2026-01-01&to=2026-11-24",
     "El periodo es demasiado largo: como mucho 92 días."),
    ("period=custom&from=yesterday", "Escriba las fechas como AAAA-MM-DD."),
    ("from=2026-13-01", "Escriba las fechas como AAAA-MM-DD."),
])
def test_a_bad_period_is_explained_on_the_page(ctx: AppContext, client: TestClient,
                                              query: str, message: str) -> None:
    make_user(ctx, "sara", "supervisor")
    sign_in(client, username="sara")
    response = client.get(f"/reports?{query}")
    assert response.status_code == 422
    assert f'role="alert" id="message">{message}</p>' in response.text
    assert 'id="period"' in response.text  # the form is there to correct it


def test_presets_are_days_of_the_users_zone(ctx: AppContext, client: TestClient,
                                            clock: FixedClock) -> None:
    # Auckland is UTC+13 in November: 08:00 UTC is 21:00 on Tuesday the 24th there
    make_user(ctx, "kiri", "supervisor", time_zone="Pacific/Auckland")
    clock.set(clock.now().replace(hour=8))
    sign_in(client, username="kiri")
    expected = {"today": "Del 2026-11-24 al 2026-11-24", "yesterday": "Del 2026-11-23 al",
                "week": "Del 2026-11-23 al 2026-11-24", "month": "Del 2026-11-01 al 2026-11-24"}
    for preset, text in expected.items():
        response = client.get(f"/reports?period={preset}")
        assert response.status_code == 200
        assert text in response.text, preset
    clock.set(clock.now().replace(hour=12))  # 01:00 on the 25th in Auckland
    sign_in(client, username="kiri")  # hours later: a new session
    assert "Del 2026-11-25 al 2026-11-25 (Pacific/Auckland)" in client.get(
        "/reports?period=today").text
