"""A named database lease held by one background worker: one process works at a time, the
others stand by until it expires (ADR 0012). Renewed only when half of it has run out, so a
busy worker writes the lease row at most once per half lease."""

from __future__ import annotations

import uuid
from datetime import timedelta

from circulo.clock import Clock
from circulo.db import Database
from circulo.routing import repository as repo


class HeldLease:
    def __init__(self, db: Database, clock: Clock, name: str, seconds: float) -> None:
        self.db = db
        self.clock = clock
        self.name = name
        self.seconds = seconds
        self.holder = uuid.uuid4().hex[:12]
        self._until: float | None = None  # when our lease ends, as a timestamp

    @property
    def held(self) -> bool:
        return self._until is not None

    def hold(self) -> bool:
        """Take or renew the lease: True while this worker may work."""
        now = self.clock.now()
        if self._until is not None and self._until - now.timestamp() > self.seconds / 2:
            return True
        until = now + timedelta(seconds=self.seconds)
        with self.db.unit_of_work() as session:
            held = repo.take_lease(session, self.name, self.holder, now, until)
        self._until = until.timestamp() if held else None
        return held

    def release(self) -> None:
        if self._until is not None:
            with self.db.unit_of_work() as session:
                repo.release_lease(session, self.name, self.holder)
            self._until = None
