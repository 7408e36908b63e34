"""Passwords: argon2id hashes (argon2-cffi's defaults, RFC 9106's second recommendation) and
the few rules a password must meet. Verifying costs tens of milliseconds on purpose: callers
run it off the event loop."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from circulo.errors import ValidationFailed

MIN_LENGTH = 12
MAX_LENGTH = 1024  # argon2 takes any length; this only bounds the work a request can ask for
_hasher = PasswordHasher()


def check_password(username: str, password: str) -> None:
    """Refuse a password that is too short, too long, or the user name itself."""
    problem = ("too_short", f"at least {MIN_LENGTH} characters") \
        if len(password) < MIN_LENGTH else \
        ("too_long", f"at most {MAX_LENGTH} characters") if len(password) > MAX_LENGTH else \
        ("same_as_username", "must not be the user name") \
        if password.casefold() == username.casefold() else None
    if problem:
        raise ValidationFailed(f"the password is not acceptable: {problem[1]}", errors=[
            {"field": "password", "code": problem[0], "detail": problem[1]}])


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("circulo: no such user, same work")


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; with no stored hash (an unknown user), a dummy
    one is verified so the answer takes as long as for a real user."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
