"""The desktop's pages: sign in, language, sign out (the desk itself: ``web.desk``).

Server-rendered HTML (Jinja2), not part of the JSON API, so kept out of the OpenAPI
document. Forms post plainly; every state-changing form carries a token the page itself
received, so a cross-site form cannot forge it:

* the sign-in form (no session yet) carries a *login token* that must equal a short-lived,
  HttpOnly, SameSite=Strict cookie set with the form (double submit): a foreign site can
  neither read nor set that cookie, so it cannot sign a victim in as someone else;
* the desk's forms carry the session's CSRF token, compared like the API's X-CSRF-Token.

The paths stay behind the failed-authentication throttle: a wrong password answers 401
(counted), and a throttled client gets 429 on these pages as on the API.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from circulo.api_deps import get_ctx, session_cookie, session_times
from circulo.auth import users
from circulo.auth.passwords import MAX_LENGTH
from circulo.context import AppContext
from circulo.errors import Unauthorized, ValidationFailed
from circulo.web.common import (
    AREAS,
    LOGIN_COOKIE,
    LOGIN_TOKEN_LIFETIME,
    checked,
    current,
    language,
    new_token,
    read_form,
    redirect,
    render,
    secure,
)
from circulo.web.desk import desk_page
from circulo.web.texts import texts

router = APIRouter(include_in_schema=False)


def sign_in_form(request: Request, ctx: AppContext, lang: str, *, status: int = 200,
                 message: str = "", username: str = "") -> HTMLResponse:
    """The form with a fresh login token, also set as the short-lived cookie it must match."""
    token = new_token()
    response = render("sign_in.html", lang, status, login_token=token, message=message,
                      username=username[:200])
    response.set_cookie(LOGIN_COOKIE, token, max_age=LOGIN_TOKEN_LIFETIME, path="/sign-in",
                        httponly=True, samesite="strict", secure=secure(request, ctx))
    return response


@router.get("/")
async def home(ctx: AppContext = Depends(get_ctx),
               cookie: str | None = Depends(session_cookie)) -> Response:
    signed = await run_in_threadpool(current, ctx, cookie)
    return redirect("/desk" if signed else "/sign-in")


@router.get("/sign-in")
async def sign_in_page(request: Request, ctx: AppContext = Depends(get_ctx),
                       cookie: str | None = Depends(session_cookie)) -> Response:
    if await run_in_threadpool(current, ctx, cookie):
        return redirect("/desk")
    return sign_in_form(request, ctx, language(request))


def _sign_in(ctx: AppContext, username: str, password: str,
             user_agent: str | None) -> users.SignedIn:
    with ctx.db.unit_of_work() as session:
        return users.sign_in(session, username, password, user_agent, ctx.clock.now(),
                             session_times(ctx))


@router.post("/sign-in")
async def sign_in(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    form = await read_form(request)
    lang = language(request)
    t = texts(lang)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(form.get("login_token").encode(),
                                               expected.encode()):
        return sign_in_form(request, ctx, lang, status=403, message=t["form_expired"],
                            username=form.get("username"))
    username, password = form.get("username"), form.get("password")
    if not username or not password:
        return sign_in_form(request, ctx, lang, status=422, message=t["missing_fields"],
                            username=username)
    try:
        if len(password) > MAX_LENGTH:
            raise Unauthorized(users.WRONG_CREDENTIALS)
        # argon2 takes tens of milliseconds: off the event loop
        signed = await run_in_threadpool(_sign_in, ctx, username, password,
                                         request.headers.get("user-agent"))
    except Unauthorized:
        # 401: the throttle counts it like a wrong password on POST /v1/session
        return sign_in_form(request, ctx, lang, status=401, message=t["wrong_credentials"],
                            username=username)
    response = redirect("/desk")
    response.set_cookie(users.COOKIE, signed.token, max_age=ctx.settings.session_lifetime,
                        path="/", httponly=True, samesite="lax", secure=secure(request, ctx))
    response.delete_cookie(LOGIN_COOKIE, path="/sign-in", httponly=True, samesite="strict",
                           secure=secure(request, ctx))
    return response


def _set_language(ctx: AppContext, user_id: str, lang: str) -> users.UserView:
    with ctx.db.unit_of_work() as session:
        return users.set_language(session, user_id, lang)


@router.post("/desk/language")
async def change_language(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    signed, form, valid = await checked(request, ctx)
    if signed is None:
        return redirect("/sign-in")
    if not valid:
        return desk_page(request, signed, status=403,
                         message=texts(language(request, signed.user))["refused"])
    try:
        await run_in_threadpool(_set_language, ctx, signed.user.id, form.get("language"))
    except ValidationFailed:
        return desk_page(request, signed, status=422,
                         message=texts(language(request, signed.user))["bad_language"])
    back = form.get("back")  # only to an area of the desktop: never an open redirect
    return redirect(back if back in {path for path, _, _ in AREAS} else "/desk")


def _end(ctx: AppContext, token: str) -> None:
    with ctx.db.unit_of_work() as session:
        users.sign_out(session, token)


@router.post("/sign-out")
async def sign_out(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    signed, _, valid = await checked(request, ctx)
    if signed is None:
        return redirect("/sign-in")
    if not valid:
        return desk_page(request, signed, status=403,
                         message=texts(language(request, signed.user))["refused"])
    await run_in_threadpool(_end, ctx, signed.token)
    response = redirect("/sign-in")
    response.delete_cookie(users.COOKIE, path="/", httponly=True, samesite="lax",
                           secure=secure(request, ctx))
    return response
