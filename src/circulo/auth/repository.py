"""Every query on users and their sessions."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from circulo.auth.models import User, UserSession


def user_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username_key == username.casefold()))


def user_by_id(session: Session, user_id: str) -> User | None:
    return session.get(User, user_id)


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username_key)))


def session_by_hash(session: Session, token_hash: str) -> UserSession | None:
    return session.get(UserSession, token_hash)


def delete_session(session: Session, token_hash: str) -> None:
    session.execute(delete(UserSession).where(UserSession.token_hash == token_hash))


def delete_sessions_of(session: Session, user_id: str) -> None:
    session.execute(delete(UserSession).where(UserSession.user_id == user_id))
