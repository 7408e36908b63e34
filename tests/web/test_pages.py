"""The desktop's server-rendered pages (issue 16, step 2): sign in, the desk shell, language,
sign out; login CSRF, the session's CSRF on page forms, the failed-authentication throttle."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from circulo.app import create_app
from circulo.auth import users
from circulo.clock import FixedClock
from circulo.context import AppContext
from circulo.db import Database
from tests.conftest import custom_api

PASSWORD = "correct horse battery"


def make_user(ctx: AppContext, language: str = "es") -> None:
    with ctx.db.unit_of_work() as session:
        users.create_user(session, users.UserSpec(
            username="ana", name="Ana Pérez", role="supervisor", agent_id="ana-agent",
            language=language), PASSWORD, ctx.clock.now())


@pytest.fixture
def client(ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx.settings, ctx=ctx), follow_redirects=False) as test_client:
        yield test_client


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def sign_in(client: TestClient, password: str = PASSWORD, username: str = "ana") -> object:
    form = client.get("/sign-in")
    return client.post("/sign-in", data={"username": username, "password": password,
                                         "login_token": hidden(form.text, "login_token")})


def test_root_and_desk_send_a_stranger_to_sign_in(client: TestClient) -> None:
    for path in ("/", "/desk"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/sign-in"


def test_sign_in_page_language_from_accept_language_and_override(client: TestClient) -> None:
    page = client.get("/sign-in", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in page.text and '<label for="username">User name' in page.text
    spanish = client.get("/sign-in", headers={"Accept-Language": "es-ES"})
    assert '<html lang="es">' in spanish.text and "Nombre de usuario" in spanish.text
    override = client.get("/sign-in?lang=en", headers={"Accept-Language": "es"})
    assert '<html lang="en">' in override.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_wrong_password_shows_a_message_and_counts_as_failed(ctx: AppContext,
                                                             client: TestClient) -> None:
    make_user(ctx)
    response = sign_in(client, "wrong password")
    assert response.status_code == 401  # the throttle counts it like the API's 401
    assert "Nombre de usuario o contraseña incorrectos" in response.text
    assert users.COOKIE not in client.cookies
    unknown = sign_in(client, username="nobody" * 30)  # too long, unknown: the same answer
    assert unknown.status_code == 401


def test_sign_in_lands_on_the_desk_in_the_users_language(ctx: AppContext,
                                                          client: TestClient) -> None:
    make_user(ctx, language="en")
    response = sign_in(client)
    assert response.status_code == 303 and response.headers["location"] == "/desk"
    assert client.cookies.get(users.COOKIE)
    assert client.get("/").headers["location"] == "/desk"
    desk = client.get("/desk", headers={"Accept-Language": "es"})
    assert desk.status_code == 200 and '<html lang="en">' in desk.text  # the user's setting
    assert "Ana Pérez" in desk.text and "Supervisor" in desk.text and "ana-agent" in desk.text
    assert desk.headers["cache-control"] == "no-store"
    assert client.get("/sign-in").headers["location"] == "/desk"


def test_language_switch_saves_the_setting(ctx: AppContext, client: TestClient) -> None:
    make_user(ctx, language="es")
    sign_in(client)
    desk = client.get("/desk")
    refused = client.post("/desk/language", data={"language": "en"})
    assert refused.status_code == 403
    switched = client.post("/desk/language", data={
        "language": "en", "csrf_token": hidden(desk.text, "csrf_token")})
    assert switched.status_code == 303
    assert '<html lang="en">' in client.get("/desk").text
    with ctx.db.unit_of_work() as session:
        user = users.find_user(session, "ana")
        assert user is not None and user.language == "en"
    bad = client.post("/desk/language", data={
        "language": "fr", "csrf_token": hidden(desk.text, "csrf_token")})
    assert bad.status_code == 422


def test_sign_out_needs_the_csrf_token(ctx: AppContext, client: TestClient) -> None:
    make_user(ctx)
    sign_in(client)
    desk = client.get("/desk")
    assert client.post("/sign-out").status_code == 403  # a forged cross-site form
    assert client.get("/desk").status_code == 200
    out = client.post("/sign-out", data={"csrf_token": hidden(desk.text, "csrf_token")})
    assert out.status_code == 303 and out.headers["location"] == "/sign-in"
    assert client.get("/desk").status_code == 303


def test_sign_in_without_the_login_token_is_refused(ctx: AppContext,
                                                    client: TestClient) -> None:
    """Login CSRF: a cross-site form cannot sign the victim in as the attacker, because it
    can neither read nor set the short-lived login cookie the hidden field must match."""
    make_user(ctx)
    forged = client.post("/sign-in", data={"username": "ana", "password": PASSWORD,
                                           "login_token": "guessed"})
    assert forged.status_code == 403 and users.COOKIE not in client.cookies
    assert "caducado" in forged.text  # the page explains and offers a fresh form
    client.cookies.clear()
    no_cookie = client.post("/sign-in", data={"username": "ana", "password": PASSWORD,
                                              "login_token": "x"})
    assert no_cookie.status_code == 403


def test_odd_bodies_never_answer_500(ctx: AppContext, client: TestClient) -> None:
    make_user(ctx)
    form = client.get("/sign-in")
    token = hidden(form.text, "login_token")
    for body in (b"", b"username=%ff%fe&password=x", b"\x00\x01", b"a" * 40_000,
                 b"username=ana&username=bob&password=x&login_token=" + token.encode()):
        response = client.post("/sign-in", content=body, headers={
            "content-type": "application/x-www-form-urlencoded"})
        assert response.status_code in (400, 401, 403, 413, 422), (body[:20], response.text)
    assert client.post("/sign-in", json={"username": "ana"}).status_code in (403, 415, 422)


def test_pages_stay_out_of_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not {"/", "/sign-in", "/desk", "/sign-out", "/desk/language"} & set(paths)


def test_static_assets_are_served(client: TestClient) -> None:
    for asset in ("vendor/htmx.min.js", "vendor/axe.min.js", "desk.css"):
        response = client.get(f"/static/web/{asset}")
        assert response.status_code == 200 and response.content, asset


def test_a_throttled_client_gets_429_on_the_sign_in_form(database: Database,
                                                        clock: FixedClock) -> None:
    with custom_api(database, clock, auth_failure_limit="2/minute") as api:
        client = api.client
        make_user(client.app.state.ctx)  # type: ignore[attr-defined]
        client.follow_redirects = False
        assert sign_in(client, "nope").status_code == 401
        assert sign_in(client, "nope").status_code == 401
        assert client.get("/sign-in").status_code == 429
        assert client.get("/static/web/desk.css").status_code == 200
