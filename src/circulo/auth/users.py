"""Users (agents, supervisors, admins) and their cookie sessions.

A session is a random 32-byte token in an HttpOnly cookie; the database keeps only its
SHA-256, so a copy of the table signs nobody in. The CSRF token is derived from the session
token with HMAC: the browser's script reads it from the sign-in answer (or ``GET
/v1/session``) and sends it back in ``X-CSRF-Token``, which another site cannot do.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from circulo.auth import repository
from circulo.auth.models import User, UserSession
from circulo.auth.passwords import check_password, hash_password, verify_password
from circulo.auth.service import Principal
from circulo.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from circulo.ids import new_id

ROLES = ("agent", "supervisor", "admin")
SUPERVISING = frozenset({"supervisor", "admin"})  # the console and reports are theirs
LANGUAGES = ("es", "en")
# What each role may do, as API-key scopes. ``routing:self``: the routing actions that name an
# agent (presence, heartbeat, offers, accept, reject, end, complete), for the user's own agent
# only. Every session principal acts only as its own agent, whatever its role.
ROLE_SCOPES = {
    "agent": frozenset({"read", "routing:self"}),
    "supervisor": frozenset({"read", "routing", "identity:review"}),
    "admin": frozenset({"admin"}),
}
COOKIE = "circulo_session"
_CSRF_CONTEXT = b"circulo csrf v1"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-@")
WRONG_CREDENTIALS = "wrong user name or password"
LAST_SEEN_EVERY = timedelta(seconds=30)  # fewer writes: last_seen_at moves at most this often


@dataclass(frozen=True, slots=True)
class UserSpec:
    username: str
    name: str
    role: str
    email: str | None = None
    card_role: str | None = None
    site: str | None = None
    agent_id: str | None = None
    language: str = "es"
    time_zone: str = "Europe/Madrid"


@dataclass(frozen=True, slots=True)
class SessionTimes:
    idle: timedelta
    lifetime: timedelta


@dataclass(frozen=True, slots=True)
class UserView:
    """A user as read, usable after its transaction: never the password hash."""

    id: str
    username: str
    name: str
    email: str | None
    role: str
    card_role: str | None
    site: str | None
    agent_id: str | None
    language: str
    time_zone: str
    disabled: bool

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(user.id, user.username, user.name, user.email, user.role, user.card_role,
                   user.site, user.agent_id, user.language, user.time_zone, user.disabled)


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: UserView
    token: str  # the cookie's value: never stored

    @property
    def csrf_token(self) -> str:
        return csrf_token(self.token)


def _invalid(field: str, code: str, detail: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {detail}", errors=[
        {"field": field, "code": code, "detail": detail}])


def _check_spec(spec: UserSpec) -> None:
    if not 1 <= len(spec.username) <= 64 or not set(spec.username.casefold()) <= _NAME_CHARS:
        raise _invalid("username", "invalid_username",
                       "1 to 64 letters, digits, '.', '_', '-' or '@'")
    if not spec.name.strip() or len(spec.name) > 200:
        raise _invalid("name", "invalid_name", "1 to 200 characters")
    if spec.role not in ROLES:
        raise _invalid("role", "invalid_role", f"one of {list(ROLES)}")
    if spec.language not in LANGUAGES:
        raise _invalid("language", "invalid_language", f"one of {list(LANGUAGES)}")
    try:
        ZoneInfo(spec.time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _invalid("time_zone", "invalid_time_zone", "an IANA zone such as Europe/Madrid"
                       ) from exc
    for field in ("email", "card_role", "site", "agent_id"):
        value = getattr(spec, field)
        if value is not None and not 1 <= len(value) <= (254 if field == "email" else 64):
            raise _invalid(field, f"invalid_{field}", "too long or empty")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(token: str) -> str:
    return hmac.new(token.encode(), _CSRF_CONTEXT, hashlib.sha256).hexdigest()


def create_user(session: Session, spec: UserSpec, password: str, now: datetime) -> User:
    _check_spec(spec)
    check_password(spec.username, password)
    if repository.user_by_username(session, spec.username) is not None:
        raise Conflict(f"a user named '{spec.username}' exists")
    user = User(id=new_id(), username=spec.username, username_key=spec.username.casefold(),
                name=spec.name.strip(), email=spec.email, role=spec.role,
                card_role=spec.card_role, site=spec.site, agent_id=spec.agent_id,
                language=spec.language, time_zone=spec.time_zone,
                password_hash=hash_password(password), disabled=False, created_at=now,
                sessions_valid_after=None)
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, username: str) -> User | None:
    return repository.user_by_username(session, username)


def list_users(session: Session) -> list[User]:
    return repository.all_users(session)


def _existing(session: Session, username: str) -> User:
    user = repository.user_by_username(session, username)
    if user is None:
        raise NotFound(f"no user named '{username}'")
    return user


def sign_out_everywhere(session: Session, user_id: str, now: datetime) -> None:
    user = repository.user_by_id(session, user_id)
    if user is not None:
        user.sessions_valid_after = now
    repository.delete_sessions_of(session, user_id)


def disable_user(session: Session, username: str, now: datetime) -> User:
    """A disabled user cannot sign in, and its sessions end now."""
    user = _existing(session, username)
    user.disabled = True
    sign_out_everywhere(session, user.id, now)
    return user


def set_password(session: Session, username: str, password: str, now: datetime) -> User:
    """A new password also ends every session (the old one may have leaked)."""
    user = _existing(session, username)
    check_password(user.username, password)
    user.password_hash = hash_password(password)
    sign_out_everywhere(session, user.id, now)
    return user


def set_language(session: Session, user_id: str, language: str) -> UserView:
    """The language the desktop speaks to this user (``es`` or ``en``)."""
    if language not in LANGUAGES:
        raise _invalid("language", "unknown_language",
                       f"the language must be one of {', '.join(LANGUAGES)}")
    user = repository.user_by_id(session, user_id)
    if user is None:
        raise NotFound("no such user")
    user.language = language
    return UserView.of(user)


def sign_in(session: Session, username: str, password: str, user_agent: str | None,
            now: datetime, times: SessionTimes) -> SignedIn:
    """A new session for the right password of an enabled user; otherwise the same 401 for
    every failure, after the same argon2 work (a dummy hash for unknown users)."""
    user = repository.user_by_username(session, username) if len(username) <= 64 else None
    matches = verify_password(user.password_hash if user else None, password)
    if user is None or not matches or user.disabled:
        raise Unauthorized(WRONG_CREDENTIALS)
    token = secrets.token_urlsafe(32)
    session.add(UserSession(token_hash=digest(token), user_id=user.id, created_at=now,
                            last_seen_at=now, expires_at=now + times.lifetime,
                            user_agent=(user_agent or "")[:300] or None))
    return SignedIn(UserView.of(user), token)


def resume(session: Session, token: str, now: datetime, times: SessionTimes) -> SignedIn:
    """The user of a live session; an expired, ended or unknown one answers 401."""
    row = repository.session_by_hash(session, digest(token))
    user = repository.user_by_id(session, row.user_id) if row else None
    if row is None or user is None or user.disabled or now >= row.expires_at \
            or now - row.last_seen_at > times.idle \
            or (user.sessions_valid_after is not None
                and row.created_at < user.sessions_valid_after):
        raise Unauthorized("no session, or it has expired: sign in again")
    if now - row.last_seen_at >= LAST_SEEN_EVERY:
        row.last_seen_at = now
    return SignedIn(UserView.of(user), token)


def sign_out(session: Session, token: str) -> None:
    repository.delete_session(session, digest(token))


def principal_of(user: UserView) -> Principal:
    return Principal(user.id, user.username, ROLE_SCOPES[user.role], user_id=user.id,
                     agent_id=user.agent_id)
