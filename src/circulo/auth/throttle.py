"""Per-client limits on failures: failed authentications and failed PIN checks.

Counted in memory with the ``limits`` library's moving window, per process: behind several
workers a client gets up to that many times the limit, which still turns key or PIN guessing
from thousands of tries a minute into a handful. Only failures are counted, so a contact
center behind one address is never slowed by its own correct keys and PINs. A check and the
failure it records are two steps: requests already in flight when the limit is reached still
finish, a few at most.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from circulo.errors import TooManyRequests

AUTH = "authentication"
PIN = "PIN check"
SURVEY = "survey link"


def parse_limit(text: str) -> RateLimitItem:
    """``20/minute``, ``100 per hour``…: the notation of the ``limits`` library."""
    return parse(text)


class Throttle:
    def __init__(self, auth_limit: str, pin_limit: str,
                 survey_limit: str = "30/minute") -> None:
        self._limits = {AUTH: parse_limit(auth_limit), PIN: parse_limit(pin_limit),
                        SURVEY: parse_limit(survey_limit)}
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def retry_after(self, kind: str, client: str) -> int | None:
        """Seconds until ``client`` may try ``kind`` again; None while it may."""
        item = self._limits[kind]
        if self._limiter.test(item, kind, client):
            return None
        reset = self._limiter.get_window_stats(item, kind, client).reset_time
        return max(1, math.ceil(reset - time.time()))

    def check(self, kind: str, client: str) -> None:
        """Refuse a client that has failed ``kind`` too often lately (429, Retry-After)."""
        wait = self.retry_after(kind, client)
        if wait is not None:
            raise TooManyRequests(
                f"too many failed {kind}s from this client (at most {self._limits[kind]}); "
                f"try again in {wait} s", retry_after=wait)

    def failed(self, kind: str, client: str) -> None:
        self._limiter.hit(self._limits[kind], kind, client)
