"""What to do after a delivery attempt. Pure: (answer, attempts, age) -> decision."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

# 4xx that say "try again later" rather than "this will never work".
RETRYABLE_4XX = frozenset({408, 409, 425, 429})


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_seconds: float = 1.0
    max_backoff_seconds: float = 300.0
    dead_after: timedelta = timedelta(hours=72)
    max_client_error_attempts: int = 3

    def backoff(self, attempts: int, rng: random.Random) -> timedelta:
        """Exponential with jitter: between half and all of base·2^(n-1), capped."""
        ceiling = min(self.max_backoff_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        return timedelta(seconds=rng.uniform(ceiling / 2, ceiling))

    def decide(self, status_code: int | None, attempts: int, age: timedelta) -> Outcome:
        if status_code is not None and 200 <= status_code < 300:
            return Outcome.DELIVERED
        if age >= self.dead_after:
            return Outcome.DEAD
        permanent = (status_code is not None and 400 <= status_code < 500
                     and status_code not in RETRYABLE_4XX)
        if permanent and attempts >= self.max_client_error_attempts:
            return Outcome.DEAD
        return Outcome.RETRY
