"""The CRM widget's tokens (issue 16, item 4): minted for a user's agent, stored hashed, with
scopes; expired, revoked, disabled-user and signed-out-everywhere tokens answer 401."""

from __future__ import annotations

from datetime import timedelta

import pytest

from circulo.auth import users, widget_tokens
from circulo.auth.models import WidgetToken
from circulo.context import AppContext
from circulo.errors import Forbidden, NotFound, Unauthorized, ValidationFailed

PASSWORD = "correct horse battery"
LIFETIME = timedelta(minutes=15)


def _user(ctx: AppContext, username: str = "ana", agent_id: str | None = "ana") -> None:
    with ctx.db.unit_of_work() as session:
        users.create_user(session, users.UserSpec(username=username, name=username.title(),
                                                  role="agent", agent_id=agent_id),
                          PASSWORD, ctx.clock.now())


def _mint(ctx: AppContext, username: str = "ana", scopes: list[str] | None = None
          ) -> widget_tokens.Minted:
    with ctx.db.unit_of_work() as session:
        return widget_tokens.mint(session, username, scopes, minted_by="key:crm",
                                  lifetime=LIFETIME, now=ctx.clock.now())


def _resume(ctx: AppContext, token: str, after: timedelta = timedelta()) -> widget_tokens.Grant:
    with ctx.db.unit_of_work() as session:
        return widget_tokens.resume(session, token, ctx.clock.now() + after)


def test_a_token_acts_as_its_users_agent_and_only_its_hash_is_stored(ctx: AppContext) -> None:
    _user(ctx)
    minted = _mint(ctx)
    assert minted.token.startswith("cw_") and len(minted.token) > 40
    assert minted.expires_at == ctx.clock.now() + LIFETIME
    grant = _resume(ctx, minted.token)
    assert grant.agent_id == "ana" and grant.user.username == "ana"
    assert grant.scopes == {"calls:read", "dial", "wrap_up"}
    with ctx.db.unit_of_work() as session:
        row = session.query(WidgetToken).one()
        assert minted.token not in (row.token_hash, row.prefix)
        assert row.minted_by == "key:crm"


def test_scopes_limit_what_a_token_does(ctx: AppContext) -> None:
    _user(ctx)
    grant = _resume(ctx, _mint(ctx, scopes=["calls:read"]).token)
    grant.require("calls:read")
    with pytest.raises(Forbidden):
        grant.require("dial")
    with pytest.raises(ValidationFailed):
        _mint(ctx, scopes=["calls:read", "admin"])


def test_a_token_acts_only_on_its_own_agents_tasks(ctx: AppContext) -> None:
    _user(ctx)
    grant = _resume(ctx, _mint(ctx).token)
    grant.owns("ana")
    with pytest.raises(Forbidden):
        grant.owns("luis")
    with pytest.raises(Forbidden):
        grant.owns(None)


def test_expired_revoked_and_forged_tokens_answer_401(ctx: AppContext) -> None:
    _user(ctx)
    minted = _mint(ctx)
    _resume(ctx, minted.token, LIFETIME - timedelta(seconds=1))
    with pytest.raises(Unauthorized):
        _resume(ctx, minted.token, LIFETIME)
    for forged in ("", "cw_", minted.token[:-1] + "x", "ck_abc_def", "x" * 500):
        with pytest.raises(Unauthorized):
            _resume(ctx, forged)
    with ctx.db.unit_of_work() as session:
        assert widget_tokens.revoke(session, minted.token, ctx.clock.now())
        assert not widget_tokens.revoke(session, minted.token, ctx.clock.now())
    with pytest.raises(Unauthorized):
        _resume(ctx, minted.token)


def test_a_disabled_or_signed_out_everywhere_user_loses_its_tokens(ctx: AppContext) -> None:
    _user(ctx)
    _user(ctx, "luis", "luis")
    first, second = _mint(ctx), _mint(ctx, "luis")
    with ctx.db.unit_of_work() as session:
        user = users.find_user(session, "ana")
        assert user is not None
        users.sign_out_everywhere(session, user.id, ctx.clock.now() + timedelta(seconds=1))
        users.disable_user(session, "luis", ctx.clock.now())
    for token in (first.token, second.token):
        with pytest.raises(Unauthorized):
            _resume(ctx, token, timedelta(seconds=2))


def test_only_enabled_users_with_an_agent_get_tokens(ctx: AppContext) -> None:
    _user(ctx, "sofia", None)
    with pytest.raises(ValidationFailed):
        _mint(ctx, "sofia")
    with pytest.raises(NotFound):
        _mint(ctx, "nobody")
