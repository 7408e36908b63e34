"""The journeys runner: passes over the inbox and the due timers, beside the API in each
``circulo serve`` process. A database lease lets one process run at a time (like the routing
dispatcher), so timers fire once; if it dies, another takes over when the lease expires and
carries on from the inbox and the timers, which are rows: a restart loses and doubles
nothing.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.orm import Session

from circulo.context import AppContext
from circulo.journeys import repository as repo
from circulo.journeys import runtime
from circulo.journeys.actions import Scene
from circulo.journeys.processing import Pass, PassResult
from circulo.routing.dispatcher import dispatcher_of
from circulo.routing.leases import HeldLease

LEASE = "journeys"
LEASE_SECONDS = 15.0
POLL_SECONDS = 0.05  # how often an idle runner looks at the inbox (other processes' events)
BATCH = 500
MAX_ATTEMPTS = 3
# Behind (a full pass) while this process is ingesting: rest this many times the pass's
# length, so journeys take at most a fifth of the process and ingest keeps its pace; they
# catch up as soon as ingest eases. Keeping up (passes not full), they never rest.
REST = 4.0
log = logging.getLogger(__name__)


class Runner:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.lease = HeldLease(ctx.db, ctx.clock, LEASE, LEASE_SECONDS)
        self._wake = threading.Event()
        self._pass = threading.Lock()

    def release(self) -> None:
        with self._pass:
            self.lease.release()

    def run_once(self) -> PassResult:
        """One pass: up to ``BATCH`` inbox events and due timers, in one transaction."""
        with self._pass:
            if not self.lease.hold():
                return PassResult()
            try:
                result = self._run()
            except Exception:
                log.exception("journeys pass failed; retrying its events one by one")
                result = self._one_by_one()
        if result.created_tasks:
            dispatcher_of(self.ctx).after_change(created=result.created_tasks)
        return result

    def run_until_idle(self, limit: int = 100) -> int:
        """Passes until nothing is left to do now (tests, ``journeys try``): how many events
        and timers were handled."""
        handled = 0
        for _ in range(limit):
            result = self.run_once()
            if not (result.events or result.timers):
                break
            handled += result.events + result.timers
        return handled

    def _scene(self, session: Session) -> Scene:
        return Scene(session, self.ctx.settings, self.ctx.policies, self.ctx.clock.now(),
                     lambda: dispatcher_of(self.ctx).config(session))

    def _run(self, limit: int = BATCH) -> PassResult:
        with self.ctx.db.unit_of_work() as session:
            session.info[runtime.RUNNER] = True
            now = self.ctx.clock.now()
            inbox = repo.inbox(session, limit)
            due = repo.due(session, now, limit)
            if not inbox and not due:
                return PassResult()
            result = Pass(session, self._scene(session)).run(inbox, due)
            repo.drop_inbox(session, result.seqs)
            return result

    def _one_by_one(self) -> PassResult:
        """After a failed pass: each inbox event alone, so one bad event cannot hold up the
        others; one that keeps failing is logged and dropped after ``MAX_ATTEMPTS``."""
        total = PassResult()
        with self.ctx.db.unit_of_work(write=False) as session:
            seqs = [r.seq for r in repo.inbox(session, BATCH)]
        for seq in seqs:
            try:
                with self.ctx.db.unit_of_work() as session:
                    session.info[runtime.RUNNER] = True
                    row = repo.inbox_row(session, seq)
                    if row is None:
                        continue
                    result = Pass(session, self._scene(session)).run([row], [])
                    repo.drop_inbox(session, result.seqs)
                total.events += result.events
                total.created_tasks += result.created_tasks
            except Exception as exc:
                log.exception("journeys: event %s failed", seq)
                self._count_failure(seq, exc)
        return total

    def _count_failure(self, seq: int, exc: Exception) -> None:
        with self.ctx.db.unit_of_work() as session:
            row = repo.inbox_row(session, seq)
            if row is not None and repo.count_attempt(session, seq) >= MAX_ATTEMPTS:
                repo.log_actions(session, [{
                    "key": f"error:{row.event_id}:{seq}", "journey": "*", "version": 0,
                    "instance_id": None, "customer_id": row.customer_id, "step": "",
                    "kind": "evaluate", "outcome": "failed",
                    "detail": {"error": f"{type(exc).__name__}: {exc}"[:500],
                               "event_id": row.event_id, "type": row.type},
                    "created_at": self.ctx.clock.now(), "elapsed_ms": None}])
                repo.drop_inbox(session, [seq])

    def wake(self) -> None:
        self._wake.set()

    def run_forever(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    result = self.run_once()
                except Exception:  # a bad pass must not stop journeys; the next one retries
                    log.exception("journeys pass failed")
                    stop.wait(1.0)
                    continue
                if max(result.events, result.timers) >= BATCH and runtime.ingest_active(1.0):
                    stop.wait((time.monotonic() - started) * REST)  # ingest first
                    continue
                if result.events or result.timers:
                    continue  # more may be waiting
                self._wake.wait(POLL_SECONDS)
                self._wake.clear()
        finally:
            self.release()


def runner_of(ctx: AppContext) -> Runner:
    runner = getattr(ctx, "journeys", None)
    if runner is None:
        runner = Runner(ctx)
        ctx.journeys = runner
    assert isinstance(runner, Runner)  # noqa: S101
    return runner


def run_in_thread(ctx: AppContext, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=runner_of(ctx).run_forever, args=(stop,),
                              name="journeys-runner", daemon=True)
    thread.start()
    return thread
