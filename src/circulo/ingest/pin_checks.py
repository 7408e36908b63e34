"""Checking a customer's PIN, with the lockout of ``customers.pins``: the counter is read and
written in the transaction of the check (its row locked), and each lock is recorded on the
customer's timeline as ``pin.locked``, ingested like any other event so that webhooks and
journeys (a supervisor's alert, an SMS to the customer) see it."""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy.orm import Session

from circulo.config import Settings
from circulo.customers import pins
from circulo.customers import repository as repo
from circulo.customers import service as customers
from circulo.errors import PinLocked
from circulo.ingest import service as ingest

LOCKED = "pin.locked"


def policy_of(settings: Settings) -> pins.LockoutPolicy:
    return pins.LockoutPolicy(settings.pin_max_failures, settings.pin_lockout,
                              settings.pin_lockout_max)


def check_pin(session: Session, customer_id: str, pin: str, *, settings: Settings,
              policies: customers.Policies, now: datetime) -> bool:
    """Whether ``pin`` is the customer's PIN; raises ``PinLocked`` (even for the right PIN)
    while wrong PINs keep the customer's checks locked. Call it in a thread: the hash is
    slow on purpose."""
    stored = customers.active_root(session, customer_id).pin_hash
    if stored is None:  # nothing to guess, nothing to count
        return False
    attempts = repo.pin_attempts_for_update(session, customer_id, now)
    until = pins.locked_until(attempts, now)
    if until is not None:
        wait = math.ceil((until - now).total_seconds())
        raise PinLocked(f"too many wrong PINs: this customer's PIN checks are locked for "
                        f"{wait} s more", retry_after=wait, locked_until=until.isoformat())
    if customers.verify_pin(stored, pin):
        repo.forget_pin_attempts(session, customer_id)
        return True
    attempts, lockout = pins.after_failure(attempts, policy_of(settings), now)
    repo.save_pin_attempts(session, customer_id, attempts, now)
    if lockout is not None:
        ingest.ingest(session, {"events": [{
            "type": LOCKED, "source": "circulo", "identifiers": {"customer_id": customer_id},
            "occurred_at": now.isoformat(),
            "properties": {"failures": lockout.failures, "lockout": lockout.lockouts,
                           "seconds": int(lockout.duration.total_seconds()),
                           "locked_until": lockout.until.isoformat()},
        }]}, settings=settings, policies=policies, now=now, actor="circulo")
    return False
