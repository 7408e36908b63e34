"""The analysis worker: takes the text inbox in order, in batches, beside the API in each
``circulo serve`` process. A database lease lets one process work at a time (like the
journeys runner). A batch is one transaction: results, ``text.analyzed`` events, routing's
changes and the deletion of the inbox rows commit together, so a crash redoes the batch and
loses nothing; redoing it records nothing twice (the derived events' ids are the source
events'). A batch that fails is retried message by message; a message that keeps failing is
marked failed after ``text_max_attempts`` and skipped.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from circulo.context import AppContext
from circulo.routing.dispatcher import dispatcher_of
from circulo.routing.leases import HeldLease
from circulo.text.model import Analyzer
from circulo.textan import repository as repo
from circulo.textan import service
from circulo.textan.analyzers import configured
from circulo.textan.service import BatchResult

LEASE = "text-analysis"
LEASE_SECONDS = 15.0
POLL_SECONDS = 0.1  # how often an idle worker looks at the inbox
REST = 2.0  # behind while this process ingests: rest this many times the batch's length
log = logging.getLogger(__name__)


@dataclass
class Progress:
    analysed: int = 0
    skipped: int = 0
    failed: int = 0
    derived: int = 0

    def add(self, batch: BatchResult) -> None:
        self.analysed += batch.analysed
        self.skipped += batch.skipped
        self.derived += batch.derived

    @property
    def handled(self) -> int:
        return self.analysed + self.skipped + self.failed


class Worker:
    def __init__(self, ctx: AppContext, analyzer: Analyzer) -> None:
        self.ctx = ctx
        self.analyzer = analyzer
        self.lease = HeldLease(ctx.db, ctx.clock, LEASE, LEASE_SECONDS)
        self._wake = threading.Event()
        self._batch = threading.Lock()

    def release(self) -> None:
        with self._batch:
            self.lease.release()

    def run_once(self) -> Progress:
        """One batch of up to ``text_batch_size`` messages, in one transaction."""
        progress = Progress()
        with self._batch:
            if not self.lease.hold():
                return progress
            try:
                batch = self._run(None)
                progress.add(batch)
                changed = batch.changed_tasks
            except Exception:
                log.exception("text analysis batch failed; retrying its messages one by one")
                changed = self._one_by_one(progress)
        if changed:
            dispatcher_of(self.ctx).after_change()
        return progress

    def run_until_idle(self, limit: int = 1000) -> Progress:
        """Batches until the inbox has nothing left to do (tests, the demo, benchmarks)."""
        total = Progress()
        for _ in range(limit):
            progress = self.run_once()
            if not progress.handled:
                break
            total.analysed += progress.analysed
            total.skipped += progress.skipped
            total.failed += progress.failed
            total.derived += progress.derived
        return total

    def _run(self, seq: int | None) -> BatchResult:
        settings = self.ctx.settings
        with self.ctx.db.unit_of_work() as session:
            session.info[service.WORKER] = True
            if seq is None:
                rows = list(repo.todo(session, settings.text_batch_size))
            else:
                one = repo.row(session, seq)
                rows = [one] if one is not None and one.failed_at is None else []
            if not rows:
                return BatchResult()
            config = dispatcher_of(self.ctx).config(session)
            result = service.analyse(session, rows, self.analyzer, settings=settings,
                                     policies=self.ctx.policies, config=config,
                                     now=self.ctx.clock.now())
            repo.drop(session, result.seqs)
            return result

    def _one_by_one(self, progress: Progress) -> list[str]:
        """After a failed batch: each message alone, so one bad message cannot hold up the
        others; one that keeps failing is marked failed after ``text_max_attempts``."""
        changed: list[str] = []
        with self.ctx.db.unit_of_work(write=False) as session:
            seqs = [r.seq for r in repo.todo(session, self.ctx.settings.text_batch_size)]
        for seq in seqs:
            try:
                batch = self._run(seq)
            except Exception as exc:
                log.exception("text analysis: message %s failed", seq)
                if self._count_failure(seq, exc):
                    progress.failed += 1
                continue
            progress.add(batch)
            changed += batch.changed_tasks
        return changed

    def _count_failure(self, seq: int, exc: Exception) -> bool:
        """Whether the message is now marked failed (it is skipped from now on)."""
        with self.ctx.db.unit_of_work() as session:
            if repo.row(session, seq) is None:
                return False
            attempts = repo.count_attempt(session, seq, f"{type(exc).__name__}: {exc}")
            if attempts >= self.ctx.settings.text_max_attempts:
                repo.mark_failed(session, seq, self.ctx.clock.now())
                return True
        return False

    def wake(self) -> None:
        self._wake.set()

    def run_forever(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    progress = self.run_once()
                except Exception:  # a bad batch must not stop the worker; the next retries
                    log.exception("text analysis batch failed")
                    stop.wait(1.0)
                    continue
                if progress.handled >= self.ctx.settings.text_batch_size \
                        and service.ingest_active(1.0):
                    stop.wait((time.monotonic() - started) * REST)  # ingest first
                    continue
                if progress.handled:
                    continue  # more may be waiting
                self._wake.wait(POLL_SECONDS)
                self._wake.clear()
        finally:
            self.release()


def worker_of(ctx: AppContext, analyzer: Analyzer | None = None) -> Worker:
    """The process's worker, created on first use with ``analyzer`` or the configured one."""
    worker = ctx.textan
    if worker is None or (analyzer is not None and worker.analyzer is not analyzer):
        worker = Worker(ctx, analyzer or configured(ctx.settings))
        ctx.textan = worker
    assert isinstance(worker, Worker)  # noqa: S101
    return worker


def run_in_thread(ctx: AppContext, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=worker_of(ctx).run_forever, args=(stop,),
                              name="text-analysis", daemon=True)
    thread.start()
    return thread
