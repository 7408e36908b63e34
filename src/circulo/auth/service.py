"""API keys with scopes. The secret is shown once; only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from circulo.auth.models import ApiKey
from circulo.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from circulo.ids import new_id

# ``pins:write``: set customers' PINs (``traits.pin``) through ingest; an ``ingest`` key alone
# may not, so a leaked tracking write key cannot replace a PIN it then "verifies".
PINS_WRITE = "pins:write"
# ``identity:review``: accept or reject suggested duplicates (supervisors; admin implies it).
IDENTITY_REVIEW = "identity:review"
# ``widget``: mint CRM widget tokens for users (a CRM's backend; never in a page).
WIDGET = "widget"
SCOPES = ("ingest", "read", "campaigns", "routing", "metrics", "admin", PINS_WRITE,
          IDENTITY_REVIEW, WIDGET)
# Only a signed-in user's session has this one: the routing actions that name an agent, for
# its own agent (``Principal.act_for``).
ROUTING_SELF = "routing:self"
KEY_PREFIX = "ck_"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an API key, or a signed-in user (``user_id`` set) through a session."""

    key_id: str
    name: str
    scopes: frozenset[str]
    user_id: str | None = None
    agent_id: str | None = None  # the routing agent a signed-in user is

    def allows(self, scope: str) -> bool:
        # admin implies every other scope
        return scope in self.scopes or "admin" in self.scopes

    def require(self, scope: str, *, own_agent: bool = False) -> None:
        """``own_agent``: the route acts for an agent it names, which ``routing:self`` allows
        for the user's own agent (checked by ``act_for``)."""
        if self.allows(scope) or (own_agent and scope == "routing"
                                  and ROUTING_SELF in self.scopes):
            return
        who = "this user's role" if self.user_id else "this API key"
        raise Forbidden(f"{who} lacks the '{scope}' scope", scope=scope)

    def act_for(self, agent_id: str) -> None:
        """A signed-in user acts only as its own agent; an API key acts for any agent."""
        if self.user_id is not None and agent_id != self.agent_id:
            raise Forbidden(f"a signed-in user acts only as its own agent, not '{agent_id}'",
                            agent_id=agent_id)

    @property
    def actor(self) -> str:
        return f"user:{self.name}" if self.user_id else f"key:{self.name}"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, name: str, scopes: list[str], now: datetime) -> tuple[ApiKey, str]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValidationFailed(f"scopes must be among {list(SCOPES)}; got {scopes}",
                               errors=[{"field": "scopes", "code": "invalid_scope",
                                        "detail": f"unknown: {unknown}" if unknown else "empty"}])
    prefix = secrets.token_hex(6)
    secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(id=new_id(), name=name, prefix=prefix, secret_hash=_digest(secret),
                 scopes=",".join(sorted(set(scopes))), created_at=now, revoked_at=None)
    session.add(key)
    return key, secret


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))


def revoke_key(session: Session, prefix: str, now: datetime) -> ApiKey:
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None:
        raise NotFound(f"no API key with prefix '{prefix}'")
    key.revoked_at = now
    return key


def authenticate(session: Session, secret: str | None) -> Principal:
    if not secret or not secret.startswith(KEY_PREFIX) or secret.count("_") < 2:
        raise Unauthorized("send an API key as 'Authorization: Bearer ck_...' or 'X-API-Key'")
    prefix = secret[len(KEY_PREFIX):].split("_", 1)[0]
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or key.revoked_at is not None or not hmac.compare_digest(
        key.secret_hash, _digest(secret)
    ):
        raise Unauthorized("unknown or revoked API key")
    return Principal(key.id, key.name, frozenset(key.scopes.split(",")))
