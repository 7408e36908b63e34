"""When wrong PINs lock a customer's PIN checks. Pure: the attempts so far in, the decision out.

After ``max_failures`` wrong PINs in a row the customer's PIN checks are locked for
``lockout``; each further lock (without a right PIN in between) lasts twice as long as the
one before, up to ``max_lockout``. A right PIN forgives everything. Even at the cap a guesser
gets ``max_failures`` tries per ``max_lockout`` (5 an hour by default): about 1,000 hours, on
average, for a 4-digit PIN, and every lock is on the customer's timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

_MAX_DOUBLINGS = 32  # 2**32 minutes is far past any cap: no overflow, whatever the count


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    max_failures: int
    lockout: timedelta
    max_lockout: timedelta


@dataclass(frozen=True, slots=True)
class Attempts:
    """A customer's wrong PINs since the last lock (``failures``) and locks since the last
    right PIN (``lockouts``)."""

    failures: int = 0
    lockouts: int = 0
    locked_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Lockout:
    """A lock that has just begun."""

    until: datetime
    duration: timedelta
    lockouts: int  # this is the n-th lock since the last right PIN
    failures: int  # the wrong PINs that caused it


def locked_until(attempts: Attempts, now: datetime) -> datetime | None:
    """The end of the lock in force, if one is."""
    until = attempts.locked_until
    return until if until is not None and until > now else None


def after_failure(attempts: Attempts, policy: LockoutPolicy, now: datetime
                  ) -> tuple[Attempts, Lockout | None]:
    """The attempts after one more wrong PIN, and the lock it begins, if it does."""
    failures = attempts.failures + 1
    if failures < policy.max_failures:
        return Attempts(failures, attempts.lockouts, attempts.locked_until), None
    duration = min(policy.lockout * 2 ** min(attempts.lockouts, _MAX_DOUBLINGS),
                   policy.max_lockout)
    lockout = Lockout(now + duration, duration, attempts.lockouts + 1, failures)
    return Attempts(0, lockout.lockouts, lockout.until), lockout
