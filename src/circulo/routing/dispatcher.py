"""The dispatcher: keeps the engine's picture of waiting tasks and agents in step with the
database, lets the engine decide, and writes each decision as a checked reservation.

One process at a time dispatches (a lease in the database, renewed while it works); the
others' requests still write tasks and presence, and the holder picks their changes up by
polling rows changed since its last look (with an overlap, so a transaction that committed
late is not missed) and by a full reload every minute. Correctness never depends on the
lease: a reservation is only written if the task is still waiting and the agent still has
room, checked under row locks (ADR 0008). Time-driven work runs here too: offers that timed
out, wrap-ups that ran over, agents whose desktop went silent.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from circulo.context import AppContext
from circulo.ids import new_id
from circulo.routing import repository as repo
from circulo.routing import service, wrapup
from circulo.routing.engine import Agent, Offer, Router, Task
from circulo.routing.models import AgentRow, TaskRow
from circulo.routing.policy import EMPTY, RoutingConfig

log = logging.getLogger(__name__)
LEASE = "dispatcher"
LEASE_SECONDS = 10.0
SYNC_OVERLAP = timedelta(seconds=5)
FULL_RELOAD_SECONDS = 60.0
IDLE_POLL_SECONDS = 0.2
HOUSEKEEPING_SECONDS = 0.5
COALESCE_SECONDS = 0.01
POLL_SECONDS = 0.2  # the window of changed rows is read at least this often


def agent_of(row: AgentRow, now: datetime, heartbeat: timedelta) -> Agent:
    connected = row.last_seen is not None and now - row.last_seen <= heartbeat
    return Agent(
        id=row.id, site=row.site, skills=dict(row.skills), languages=frozenset(row.languages),
        queues=frozenset(row.queues), teams=frozenset(row.teams), capacity=dict(row.capacity),
        load={k: v for k, v in row.load.items() if v},
        available=row.active and row.presence == "available" and connected,
        free_since=row.free_since.timestamp(),
    )


def task_of(row: TaskRow) -> Task:
    declined = {agent: datetime.fromisoformat(at).timestamp()
                for agent, at in (row.declined or {}).items()}
    return Task(
        id=row.id, queue=row.queue, channel=row.channel, entered=row.queued_at.timestamp(),
        priority=row.priority, skills=dict(row.skills), language=row.language,
        customer=row.context, attributes=row.attributes, kind=row.kind,
        not_before=row.not_before.timestamp() if row.not_before else None,
        team=row.team, boost=row.boost, declined=declined,
    )


class Dispatcher:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.cache = service.PolicyCache()
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{new_id()[-12:]}"
        self.router = Router(EMPTY)
        self._versions: dict[str, int] = {}  # the waiting tasks in the picture
        # versions of the rows in the last sync window: only rows not seen are re-read
        self._seen_tasks: dict[str, int] = {}
        self._seen_agents: dict[str, int] = {}
        self._synced_at: datetime | None = None
        self._polled = 0.0
        # Tasks this process created since the last pass (read by id, without polling the
        # window), and whether a change came that only the window shows.
        self._hints: set[str] = set()
        self._poll_now = True
        self._hints_lock = threading.Lock()
        self._loaded_at = 0.0
        self._loaded_version: int | None = None
        self._lease_until: datetime | None = None
        self._housekeeping_due: datetime | None = None
        # One pass at a time; the picture itself is only locked while it changes, so the
        # queue positions requests ask for never wait on the database.
        self._pass = threading.RLock()
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self.background = False

    # -- policy ------------------------------------------------------------------------------

    def config(self, session: Session) -> RoutingConfig:
        return self.cache.get(session)

    # -- keeping the picture -------------------------------------------------------------------

    def _reload(self, session: Session, now: datetime) -> None:
        """A new picture, built aside from the rows and then swapped in."""
        config = self.cache.get(session)
        router = Router(config)
        versions: dict[str, int] = {}
        heartbeat = self.ctx.settings.agent_heartbeat_timeout
        agents = repo.agents(session)
        for row in agents:
            router.upsert_agent(agent_of(row, now, heartbeat))
        for task_row in repo.pending_tasks(session):
            self._admit(task_row, now, router, versions)
        with self._lock:
            self.router, self._versions = router, versions
        self._seen_agents = {row.id: row.version for row in agents}
        self._seen_tasks = dict(versions)
        self._synced_at = now
        self._polled = time.monotonic()
        self._loaded_at = time.monotonic()
        self._loaded_version = self.cache.version

    def _admit(self, row: TaskRow, now: datetime, router: Router | None = None,
               versions: dict[str, int] | None = None) -> None:
        router = router or self.router
        if row.queue not in router.config.queues:
            log.warning("task %s waits in queue %s, which the policy no longer has",
                        row.id, row.queue)
            return
        router.admit(task_of(row), now.timestamp())
        (self._versions if versions is None else versions)[row.id] = row.version

    def _sync(self, session: Session, now: datetime, hints: set[str], poll: bool) -> None:
        """Bring the picture up to date: a full reload when the policy changed or now and
        then; the window of changed rows when asked or due; else only the tasks this process
        just created (``hints``), read by id."""
        self.cache.get(session)
        stale = (self._synced_at is None or self._loaded_version != self.cache.version
                 or time.monotonic() - self._loaded_at > FULL_RELOAD_SECONDS)
        if stale:
            self._reload(session, now)
            return
        since = abs((now - (self._synced_at or now)).total_seconds())
        if poll or since >= POLL_SECONDS or time.monotonic() - self._polled >= POLL_SECONDS:
            self._poll(session, now)
        elif hints:
            tasks = [row for row in repo.tasks_by_ids(session, sorted(hints))
                     if self._versions.get(row.id) != row.version]
            self._apply([], tasks, now)
            self._seen_tasks.update((row.id, row.version) for row in tasks)

    def _poll(self, session: Session, now: datetime) -> None:
        since = (self._synced_at or now) - SYNC_OVERLAP
        # Rows changed in the window (which overlaps the last one, for transactions that
        # committed late): a narrow read of versions, then full rows only for those not seen.
        window = repo.agent_versions_since(session, since)
        agents = repo.agents_by_ids(session, [
            agent_id for agent_id, version in window
            if self._seen_agents.get(agent_id) != version])
        task_window = repo.task_versions_since(session, since)
        tasks = repo.tasks_by_ids(session, [
            task_id for task_id, version in task_window
            if self._seen_tasks.get(task_id) != version
            and self._versions.get(task_id) != version])
        self._apply(agents, tasks, now)
        self._seen_agents = dict(window)
        self._seen_agents.update((row.id, row.version) for row in agents)
        self._seen_tasks = dict(task_window)
        self._seen_tasks.update((row.id, row.version) for row in tasks)
        self._synced_at = now
        self._polled = time.monotonic()

    def _apply(self, agents: Sequence[AgentRow], tasks: Sequence[TaskRow],
               now: datetime) -> None:
        heartbeat = self.ctx.settings.agent_heartbeat_timeout
        with self._lock:
            for row in agents:
                if row.active:
                    self.router.upsert_agent(agent_of(row, now, heartbeat))
                else:
                    self.router.remove_agent(row.id)
            for task_row in tasks:
                if task_row.state == "pending":
                    self._admit(task_row, now)
                else:
                    self.router.remove(task_row.id)
                    self.router.reserved.pop(task_row.id, None)
                    self._versions.pop(task_row.id, None)

    # -- the lease -----------------------------------------------------------------------------

    def _hold_lease(self, now: datetime) -> bool:
        if self._lease_until is not None and self._lease_until - now > timedelta(
                seconds=LEASE_SECONDS / 2):
            return True
        until = now + timedelta(seconds=LEASE_SECONDS)
        with self.ctx.db.unit_of_work() as session:
            held = repo.take_lease(session, LEASE, self.holder, now, until)
        if held:
            if self._lease_until is None:
                self._synced_at = None  # a new holder starts from a full picture
            self._lease_until = until
        else:
            self._lease_until = None
        return held

    def release(self) -> None:
        with self._pass:
            if self._lease_until is not None:
                with self.ctx.db.unit_of_work() as session:
                    repo.release_lease(session, LEASE, self.holder)
                self._lease_until = None

    # -- one pass ------------------------------------------------------------------------------

    def housekeeping(self, now: datetime) -> bool:
        """Offers that timed out, wrap-ups past their time, agents gone silent. Whether
        anything changed."""
        heartbeat = self.ctx.settings.agent_heartbeat_timeout
        changed = False
        with self.ctx.db.unit_of_work() as session:
            config = self.cache.get(session)
            for task_id, _ in repo.expired_reservations(session, now):
                service.expire_offer(session, task_id, now)
                changed = True
            for agent_id in repo.stale_agents(session, now - heartbeat):
                service.set_presence(session, agent_id, "offline", None, now)
                changed = True
            for task in repo.wrapping_tasks(session):
                holder = repo.agent(session, task.agent_id) if task.agent_id else None
                queue = config.queues.get(task.queue)
                limit = (holder.wrap_up if holder is not None and holder.wrap_up is not None
                         else queue.wrap_up if queue else 30.0)
                if task.ended_at is not None and (now - task.ended_at).total_seconds() > limit:
                    changed = True
                    wrapup.complete(session, task.id, None, disposition=None, notes=None,
                                    data=None, outcome="wrap_up_timeout", config=config,
                                    settings=self.ctx.settings, policies=self.ctx.policies,
                                    now=now)
        return changed

    def run_once(self) -> list[Offer]:
        """Sync, decide, record. Returns the offers written (none if another process holds
        the lease)."""
        with self._pass:
            now = self.ctx.clock.now()
            if not self._hold_lease(now):
                with self._hints_lock:  # the holder polls them; taking over reloads all
                    self._hints.clear()
                return []
            if self._housekeeping_due is None or now >= self._housekeeping_due:
                if self.housekeeping(now):
                    with self._hints_lock:
                        self._poll_now = True
                self._housekeeping_due = now + timedelta(seconds=HOUSEKEEPING_SECONDS)
            with self._hints_lock:
                hints, self._hints = self._hints, set()
                poll, self._poll_now = self._poll_now, False
            with self.ctx.db.unit_of_work(write=False) as session:
                self._sync(session, now, hints, poll)
            with self._lock:
                offers = self.router.dispatch(now.timestamp())
            if not offers:
                return []
            return self._record(offers, now)

    def _record(self, offers: Sequence[Offer], now: datetime) -> list[Offer]:
        written: list[Offer] = []
        refused: list[Offer] = []
        with self.ctx.db.unit_of_work() as session:
            config = self.cache.get(session)
            recorded = service.reserve_many(
                session, [(o.task_id, o.agent_id, o.step) for o in offers], config, now,
                rules=[o.rules for o in offers])
            for offer, ok in zip(offers, recorded, strict=True):
                (written if ok else refused).append(offer)
        with self._lock:
            for offer in written:
                self.router.accept(offer.task_id)  # the record holds it now
                self._versions.pop(offer.task_id, None)
            for offer in refused:
                # Someone else changed the task or the agent: forget our guess, re-read both.
                self.router.undo(offer, now.timestamp(), still_waiting=False)
                self._versions.pop(offer.task_id, None)
        if refused:
            with self.ctx.db.unit_of_work(write=False) as session:
                self._refresh(session, refused, now)
        return written

    def _refresh(self, session: Session, offers: Sequence[Offer], now: datetime) -> None:
        heartbeat = self.ctx.settings.agent_heartbeat_timeout
        for offer in offers:
            agent_row = repo.agent(session, offer.agent_id)
            task_row = repo.task(session, offer.task_id)
            with self._lock:
                if agent_row is not None and agent_row.active:
                    self.router.upsert_agent(agent_of(agent_row, now, heartbeat))
                if task_row is not None and task_row.state == "pending":
                    self._admit(task_row, now)

    # -- what callers use ----------------------------------------------------------------------

    def after_change(self, created: Sequence[str] | None = None) -> None:
        """A request changed tasks or agents: dispatch now (or wake the loop that does).
        ``created``: the change was only these new tasks, which the next pass reads by id;
        any other change makes it read the window of changed rows."""
        with self._hints_lock:
            if created is None:
                self._poll_now = True
            else:
                self._hints.update(created)
        if self.background:
            self._wake.set()
        else:
            self.run_once()

    def position(self, task_id: str) -> tuple[int | None, float | None]:
        with self._lock:
            now = self.ctx.clock.now().timestamp()
            return self.router.position(task_id), self.router.expected_wait(task_id, now)

    def run_forever(self, stop: threading.Event) -> None:
        self.background = True
        try:
            while not stop.is_set():
                try:
                    self.run_once()
                except Exception:  # a bad pass must not stop routing; the next one retries
                    log.exception("routing pass failed")
                    time.sleep(1.0)
                wakeup = self.router.next_wakeup()
                delay = IDLE_POLL_SECONDS
                if wakeup is not None:
                    delay = max(0.0, min(delay, wakeup - self.ctx.clock.now().timestamp()))
                if self._wake.wait(delay):
                    # woken by a request: let the requests of the next moments join this
                    # pass, so a burst costs one sync and one commit instead of one each
                    stop.wait(COALESCE_SECONDS)
                self._wake.clear()
        finally:
            self.background = False
            self.release()


def dispatcher_of(ctx: AppContext) -> Dispatcher:
    if ctx.routing is None:
        ctx.routing = Dispatcher(ctx)
    dispatcher: Dispatcher = ctx.routing
    return dispatcher


def run_in_thread(ctx: AppContext, stop: threading.Event) -> threading.Thread:
    dispatcher = dispatcher_of(ctx)
    dispatcher.background = True
    thread = threading.Thread(target=dispatcher.run_forever, args=(stop,),
                              name="routing-dispatcher", daemon=True)
    thread.start()
    return thread
