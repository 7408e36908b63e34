"""The CRM widget's tokens: short-lived, scoped to one user's agent, stored hashed.

A CRM page never holds an API key. Its backend, holding a key with the ``widget`` scope,
mints a token for the signed-in CRM user's Círculo user (or a signed-in Círculo user mints
one for itself); the page hands it to ``widget.js``, which sends it as ``Authorization:
Bearer cw_…``. The token can only read that agent's calls, dial as that agent and wrap up
that agent's tasks; it lasts ``CIRCULO_WIDGET_TOKEN_LIFETIME`` (15 minutes) and ends early
when revoked, when its user is disabled or signs out everywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from circulo.auth import repository
from circulo.auth.models import WidgetToken
from circulo.auth.users import UserView
from circulo.errors import Forbidden, NotFound, Unauthorized, ValidationFailed

TOKEN_PREFIX = "cw_"  # noqa: S105 - a prefix, not a secret
CALLS_READ = "calls:read"  # see the agent's offers and calls in hand
DIAL = "dial"  # click-to-dial as the agent
WRAP_UP = "wrap_up"  # accept, end and wrap up the agent's own tasks
WIDGET_SCOPES = (CALLS_READ, DIAL, WRAP_UP)
INVALID = "no widget token, or it has expired or been revoked: ask the CRM for a new one"


@dataclass(frozen=True, slots=True)
class Minted:
    token: str  # shown once: never stored
    prefix: str
    user: UserView
    scopes: tuple[str, ...]
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Grant:
    """What a live widget token allows: one user's agent, some scopes, until a moment."""

    prefix: str
    user: UserView
    agent_id: str
    scopes: frozenset[str]
    expires_at: datetime

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"this widget token lacks the '{scope}' scope", scope=scope)

    def owns(self, agent_id: str | None) -> None:
        """The task in question must be this token's agent's."""
        if agent_id != self.agent_id:
            raise Forbidden("this task is not in the hands of this widget's agent",
                            field="task_id")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _invalid(field: str, code: str, detail: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {detail}", errors=[
        {"field": field, "code": code, "detail": detail}])


def mint(session: Session, username: str, scopes: Sequence[str] | None, *, minted_by: str,
         lifetime: timedelta, now: datetime) -> Minted:
    """A new token for ``username``'s agent. The caller has checked who may mint for whom."""
    wanted = tuple(sorted(set(scopes))) if scopes else WIDGET_SCOPES
    unknown = sorted(set(wanted) - set(WIDGET_SCOPES))
    if unknown:
        raise _invalid("scopes", "invalid_scope",
                       f"unknown {unknown}: a widget token's scopes are among "
                       f"{list(WIDGET_SCOPES)}")
    user = repository.user_by_username(session, username) if len(username) <= 64 else None
    if user is None or user.disabled:
        raise NotFound(f"no enabled user named '{username}'", field="user")
    if not user.agent_id:
        raise _invalid("user", "not_an_agent",
                       f"user '{user.username}' is no routing agent: the widget acts as one")
    prefix = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    expires = now + lifetime
    session.add(WidgetToken(token_hash=_digest(token), prefix=prefix, user_id=user.id,
                            scopes=",".join(wanted), minted_by=minted_by[:120],
                            created_at=now, expires_at=expires, revoked_at=None))
    return Minted(token, prefix, UserView.of(user), wanted, expires)


def _row(session: Session, token: str | None) -> WidgetToken | None:
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    return session.get(WidgetToken, _digest(token))


def resume(session: Session, token: str | None, now: datetime) -> Grant:
    """The grant of a live token; unknown, expired or revoked answers 401, as does a token
    whose user was disabled, signed out everywhere since, or is no longer an agent."""
    row = _row(session, token)
    user = repository.user_by_id(session, row.user_id) if row else None
    if row is None or user is None or row.revoked_at is not None or now >= row.expires_at \
            or user.disabled or not user.agent_id \
            or not hmac.compare_digest(row.token_hash, _digest(token or "")) \
            or (user.sessions_valid_after is not None
                and row.created_at < user.sessions_valid_after):
        raise Unauthorized(INVALID)
    return Grant(row.prefix, UserView.of(user), user.agent_id,
                 frozenset(row.scopes.split(",")), row.expires_at)


def revoke(session: Session, token: str, now: datetime) -> bool:
    """End a token now (the CRM user signed out). Whether there was a live one."""
    row = _row(session, token)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now
    return True


def revoke_of_user(session: Session, user_id: str, now: datetime) -> int:
    """End every live token of a user."""
    rows = session.scalars(select(WidgetToken).where(
        WidgetToken.user_id == user_id, WidgetToken.revoked_at.is_(None),
        WidgetToken.expires_at > now))
    count = 0
    for row in rows:
        row.revoked_at = now
        count += 1
    return count
