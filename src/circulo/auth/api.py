"""Sign in, who am I, sign out (here or everywhere): cookie sessions for the desktop."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from circulo.api_deps import get_ctx, session_cookie, session_times, signed_in
from circulo.auth import users
from circulo.auth.passwords import MAX_LENGTH
from circulo.context import AppContext

router = APIRouter(prefix="/v1", tags=["sessions"])


class SignInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=MAX_LENGTH)


class UserOut(BaseModel):
    """A user as the desktop sees it: never the password or its hash."""

    id: str
    username: str
    name: str
    email: str | None
    role: str = Field(description="agent, supervisor or admin")
    scopes: list[str] = Field(description="What the role may do, as API-key scopes")
    card_role: str | None = Field(description="The card template role shown to this user")
    site: str | None
    agent_id: str | None = Field(description="The routing agent this user is")
    language: str
    time_zone: str


class SessionOut(BaseModel):
    user: UserOut
    csrf_token: str = Field(description="Send it in X-CSRF-Token with every request that "
                                        "changes state")


def _view(signed: users.SignedIn) -> SessionOut:
    user = signed.user
    return SessionOut(csrf_token=signed.csrf_token, user=UserOut(
        id=user.id, username=user.username, name=user.name, email=user.email, role=user.role,
        scopes=sorted(users.ROLE_SCOPES[user.role]), card_role=user.card_role, site=user.site,
        agent_id=user.agent_id, language=user.language, time_zone=user.time_zone))


def _sign_in(ctx: AppContext, body: SignInIn, user_agent: str | None) -> users.SignedIn:
    with ctx.db.unit_of_work() as session:
        return users.sign_in(session, body.username, body.password, user_agent,
                             ctx.clock.now(), session_times(ctx))


def _secure(request: Request, ctx: AppContext) -> bool:
    return ctx.settings.session_cookie_secure or request.url.scheme == "https"


@router.post("/session", response_model=SessionOut, summary="Sign in",
             description="Checks the user name (any case) and password and sets the HttpOnly "
                         "`circulo_session` cookie. Wrong credentials, an unknown or a "
                         "disabled user all answer the same 401, counted by the "
                         "failed-authentication limit.")
async def sign_in(body: SignInIn, request: Request, response: Response,
                  ctx: AppContext = Depends(get_ctx)) -> SessionOut:
    # argon2 takes tens of milliseconds: off the event loop
    signed = await run_in_threadpool(_sign_in, ctx, body, request.headers.get("user-agent"))
    response.set_cookie(users.COOKIE, signed.token, max_age=ctx.settings.session_lifetime,
                        path="/", httponly=True, samesite="lax", secure=_secure(request, ctx))
    return _view(signed)


@router.get("/session", response_model=SessionOut, summary="Who am I",
            description="The signed-in user and the session's CSRF token; 401 without a live "
                        "session.")
async def who_am_i(request: Request, ctx: AppContext = Depends(get_ctx),
                   cookie: str | None = Depends(session_cookie)) -> SessionOut:
    return _view(await signed_in(request, ctx, cookie))


def _end(ctx: AppContext, token: str, everywhere: bool) -> None:
    with ctx.db.unit_of_work() as session:
        if everywhere:
            signed = users.resume(session, token, ctx.clock.now(), session_times(ctx))
            users.sign_out_everywhere(session, signed.user.id, ctx.clock.now())
        else:
            users.sign_out(session, token)


async def _sign_out(request: Request, response: Response, ctx: AppContext,
                    cookie: str | None, *, everywhere: bool) -> Response:
    signed = await signed_in(request, ctx, cookie)
    await run_in_threadpool(_end, ctx, signed.token, everywhere)
    response = Response(status_code=204)
    response.delete_cookie(users.COOKIE, path="/", httponly=True, samesite="lax",
                           secure=_secure(request, ctx))
    return response


@router.delete("/session", status_code=204, response_class=Response, summary="Sign out",
               description="Ends this session (needs X-CSRF-Token).")
async def sign_out(request: Request, response: Response, ctx: AppContext = Depends(get_ctx),
                   cookie: str | None = Depends(session_cookie)) -> Response:
    return await _sign_out(request, response, ctx, cookie, everywhere=False)


@router.post("/session/everywhere", status_code=204, response_class=Response,
             summary="Sign out everywhere",
             description="Ends every session of the signed-in user, on every device (needs "
                         "X-CSRF-Token).")
async def sign_out_everywhere(request: Request, response: Response,
                              ctx: AppContext = Depends(get_ctx),
                              cookie: str | None = Depends(session_cookie)) -> Response:
    return await _sign_out(request, response, ctx, cookie, everywhere=True)
