"""What every page of the desktop shares: the templates, the headers, reading a form,
the language, the signed-in session and the CSRF check.

Each area of the desktop (the agent's desk, the supervisor's console, reports, the CRM
widget) is a module with its own ``router`` and its own text catalogue, registered in
``circulo.web.install``; they all render through ``render`` here so every page carries the
same security headers and the same navigation.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from circulo.api_deps import read_body, session_times
from circulo.auth import users
from circulo.context import AppContext
from circulo.errors import Unauthorized
from circulo.i18n import pick_language
from circulo.web.texts import LANGUAGE_NAMES, texts

HERE = Path(__file__).parent
LOGIN_COOKIE = "circulo_login"
LOGIN_TOKEN_LIFETIME = 600  # seconds a sign-in form stays usable
FORM_LIMIT = 8 * 1024  # bytes: a sign-in form is a few hundred
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; "
                               "form-action 'self'; base-uri 'none'; object-src 'none'",
    "X-Frame-Options": "DENY",  # no clickjacking of the sign-out or language buttons
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages carry CSRF tokens and personal data
}

templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                        autoescape=select_autoescape(["html"]))


@dataclass(frozen=True)
class Form:
    fields: Mapping[str, str]

    def get(self, name: str) -> str:
        return self.fields.get(name, "")


async def read_form(request: Request) -> Form:
    """An ``application/x-www-form-urlencoded`` body, first value of each field; anything
    else reads as an empty form (the caller answers with a message, never a 500)."""
    body = await read_body(request, FORM_LIMIT)
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return Form({})
    try:
        parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True,
                          max_num_fields=20)
    except ValueError:
        return Form({})
    return Form({name: values[0] for name, values in parsed.items()})


def language(request: Request, user: users.UserView | None = None) -> str:
    """``?lang=`` first, then the signed-in user's setting, then ``Accept-Language``."""
    asked = request.query_params.get("lang", "")
    if asked in users.LANGUAGES:
        return asked
    if user is not None:
        return user.language
    return pick_language(request.headers.get("accept-language"))


def nav(user: users.UserView | None) -> list[tuple[str, str]]:
    """The areas the user's role opens, as (path, text key) for the bar."""
    if user is None:
        return []
    return [(path, key) for path, key, roles in AREAS if user.role in roles]


# (path, text key, roles): an area module adds its line here when it lands
AREAS: list[tuple[str, str, frozenset[str]]] = [
    ("/desk", "desk", frozenset(users.ROLES)),
    ("/console", "console.nav", users.SUPERVISING),
    ("/reports", "reports.title", users.SUPERVISING),
    ("/recordings", "rec.title", users.SUPERVISING),
]


def render(name: str, lang: str, status: int = 200, *, user: users.UserView | None = None,
           **values: Any) -> HTMLResponse:
    html = templates.get_template(name).render(lang=lang, t=texts(lang), user=user,
                                               nav=nav(user), languages=LANGUAGE_NAMES,
                                               **values)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def redirect(to: str) -> RedirectResponse:
    return RedirectResponse(to, status_code=303, headers=HEADERS)


def secure(request: Request, ctx: AppContext) -> bool:
    return ctx.settings.session_cookie_secure or request.url.scheme == "https"


def current(ctx: AppContext, token: str | None) -> users.SignedIn | None:
    if not token:
        return None
    try:
        with ctx.db.unit_of_work() as session:
            return users.resume(session, token, ctx.clock.now(), session_times(ctx))
    except Unauthorized:
        return None




async def signed_in(request: Request, ctx: AppContext) -> users.SignedIn | None:
    """The session of the request's cookie, or None (absent, expired, signed out)."""
    return await run_in_threadpool(current, ctx, request.cookies.get(users.COOKIE))


def csrf_valid(signed: users.SignedIn, offered: str) -> bool:
    """Whether a form field or ``X-CSRF-Token`` header carries the session's token."""
    return hmac.compare_digest(offered.encode(), signed.csrf_token.encode())


async def checked(request: Request, ctx: AppContext
                  ) -> tuple[users.SignedIn | None, Form, bool]:
    """The session, the form, and whether the request carries the session's CSRF token
    (the form's ``csrf_token`` field, or the ``X-CSRF-Token`` header htmx sends)."""
    signed = await signed_in(request, ctx)
    form = await read_form(request)
    offered = form.get("csrf_token") or request.headers.get("x-csrf-token", "")
    return signed, form, signed is not None and csrf_valid(signed, offered)


def new_token() -> str:
    return secrets.token_urlsafe(32)
