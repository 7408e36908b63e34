"""The transcription worker: takes pending recordings one at a time, transcribes each outside
any transaction (seconds of CPU), then stores the transcript and ingests ``call.transcribed``
in one transaction. It runs beside the API in each ``circulo serve`` process under the
database lease ``speech``, so one process transcribes at a time (the machine's cores are
shared with the API).

Nothing is lost or stuck: a recording is a row, claimed with a lease of its own
(``JOB_LEASE``), so one whose process died is taken again when that lease runs out; bad
audio, a language nobody here transcribes, a missing engine or a failing server mark it
``failed`` with a reason; an unexpected error is retried, then marked failed too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from circulo.config import Settings
from circulo.context import AppContext
from circulo.routing.leases import HeldLease
from circulo.speech import service
from circulo.speech.engines import transcriber_for
from circulo.speech.model import SpeechError, Transcriber
from circulo.speech.models import Recording

LEASE = "speech"
LEASE_SECONDS = 30.0
JOB_LEASE = timedelta(minutes=30)  # longer than any transcription of speech_max_seconds
POLL_SECONDS = 1.0
log = logging.getLogger(__name__)

TranscriberFor = Callable[[Settings, str], Transcriber]


class SpeechWorker:
    def __init__(self, ctx: AppContext, transcribers: TranscriberFor = transcriber_for
                 ) -> None:
        self.ctx = ctx
        self.transcribers = transcribers
        self.lease = HeldLease(ctx.db, ctx.clock, LEASE, LEASE_SECONDS)
        self._wake = threading.Event()
        self._once = threading.Lock()

    def release(self) -> None:
        with self._once:
            self.lease.release()

    def run_once(self) -> bool:
        """One recording handled (transcribed or failed): True; nothing to do: False."""
        with self._once:
            # Idle, the worker only reads (a write transaction every second would queue
            # behind ingest on SQLite); it takes the lease and claims when work is there.
            with self.ctx.db.unit_of_work(write=False) as session:
                if not service.any_due(session, self.ctx.clock.now()):
                    return False
            if not self.lease.hold():
                return False
            with self.ctx.db.unit_of_work() as session:
                claimed = service.claim(session, self.ctx.clock.now(), JOB_LEASE)
            if claimed is None:
                return False
            if isinstance(claimed, Recording):  # given up on: failed, nothing to run
                return True
            self._transcribe(claimed)
            return True

    def _transcribe(self, job: service.Job) -> None:
        settings = self.ctx.settings
        try:
            transcript = self.transcribers(settings, job.language).transcribe(
                job.path, language=job.language)
        except SpeechError as exc:
            log.info("recording %s failed: %s", job.recording_id, exc.reason)
            with self.ctx.db.unit_of_work() as session:
                service.fail(session, job.recording_id, exc.reason, exc.detail,
                             self.ctx.clock.now())
            return
        except Exception:  # a bug or a passing fault: retried, then failed (service.claim)
            log.exception("recording %s: transcription error", job.recording_id)
            with self.ctx.db.unit_of_work() as session:
                service.retry_later(session, job.recording_id, self.ctx.clock.now())
            return
        with self.ctx.db.unit_of_work() as session:
            service.complete(session, job.recording_id, transcript, settings=settings,
                             policies=self.ctx.policies, now=self.ctx.clock.now())

    def run_until_idle(self, limit: int = 100) -> int:
        """Recordings handled until none is waiting (tests, the demo)."""
        handled = 0
        while handled < limit and self.run_once():
            handled += 1
        return handled

    def wake(self) -> None:
        self._wake.set()

    def run_forever(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    if self.run_once():
                        continue
                except Exception:  # the database went away: try again shortly
                    log.exception("speech worker pass failed")
                    stop.wait(POLL_SECONDS)
                    continue
                self._wake.wait(POLL_SECONDS)
                self._wake.clear()
        finally:
            self.release()


def worker_of(ctx: AppContext) -> SpeechWorker:
    worker = getattr(ctx, "speech", None)
    if worker is None:
        worker = SpeechWorker(ctx)
        ctx.speech = worker
    assert isinstance(worker, SpeechWorker)  # noqa: S101
    return worker


def run_in_thread(ctx: AppContext, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=worker_of(ctx).run_forever, args=(stop,),
                              name="speech-worker", daemon=True)
    thread.start()
    return thread
