"""The living demo: simulated contacts and simulated agents on the demo company.

Every tick (a second) is one transaction: contacts enter the queues through the real intake
path (``intake.create_task``, ``callbacks.schedule``: identity resolution, the timeline, the
routing snapshot, as ``POST /v1/tasks`` does), the IVR's answers land on the caller's timeline,
the simulated agents act through routing's service functions (presence, accept, reject, end,
wrap-up) and callers who waited too long hang up (``callbacks.abandon``, so the abandoned-call
policy schedules callbacks). The decisions are ``demo.engine``'s; this module only reads the
state and applies them. A database lease lets one process simulate at a time.

The agents that a user is (``users.agent_id``: the demo's ``agent`` user, or anyone created
with ``circulo users create --agent-id``) are never simulated: they are people.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from circulo.auth import users
from circulo.context import AppContext
from circulo.demo import repository
from circulo.demo.engine import (
    Action,
    Contact,
    DemoCustomer,
    Held,
    SimAgent,
    Tuning,
    Waiting,
    decide,
    hang_ups,
    next_contact,
    next_gap,
)
from circulo.demo.generator import live_event
from circulo.errors import CirculoError
from circulo.ids import new_id
from circulo.ingest import service as ingest
from circulo.routing import callbacks, intake, service, wrapup
from circulo.routing.dispatcher import dispatcher_of
from circulo.routing.models import AgentRow, TaskRow
from circulo.routing.policy import RoutingConfig
from circulo.surveys import service as surveys

log = logging.getLogger(__name__)
LEASE = "demo-traffic"
LEASE_SECONDS = 10.0
TICK_SECONDS = 1.0
NEEDED_QUEUES = ("atencion", "rellamadas")  # the demo policy's (src/circulo/demo/routing.yaml)
LIVE_EVENT_SHARE = 0.3  # contacts followed by a card purchase or a survey, for the journeys
AFTER_CONTACT = ("card.used", "survey.answered")
# With CIRCULO_SURVEYS_FILE set: callers who answer the survey by keypad after the call (so
# the console's CSAT and NPS move); CSAT and NPS drawn with a realistic lean to the top.
SURVEY_SHARE = 0.4
CSAT_WEIGHTS = (5, 6, 12, 35, 42)  # 1..5
NPS_WEIGHTS = (3, 2, 2, 3, 3, 5, 7, 12, 18, 22, 23)  # 0..10


@dataclass(frozen=True, slots=True)
class TickReport:
    """What one tick did (for tests and the log)."""

    simulated: bool
    created: tuple[str, ...] = ()
    actions: tuple[Action, ...] = ()
    hung_up: tuple[str, ...] = ()


class DemoTraffic:
    def __init__(self, ctx: AppContext, rng: random.Random, *,
                 tuning: Tuning | None = None) -> None:
        self.ctx = ctx
        self.rng = rng
        self.tuning = tuning or Tuning()
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{new_id()[-12:]}"
        self.next_contact_at: datetime | None = None
        self.last_tick: datetime | None = None
        self._customers: list[DemoCustomer] | None = None

    # -- one tick ------------------------------------------------------------------------------

    def tick(self) -> TickReport:
        """Contacts due, the simulated agents' steps and the hang-ups, in one transaction;
        then the dispatcher routes what changed."""
        now = self.ctx.clock.now()
        dt = TICK_SECONDS if self.last_tick is None \
            else max(0.0, (now - self.last_tick).total_seconds())
        dispatcher = dispatcher_of(self.ctx)
        with self.ctx.db.unit_of_work() as session:
            if not service.hold_lease(session, LEASE, self.holder, now,
                                      now + timedelta(seconds=LEASE_SECONDS)):
                return TickReport(simulated=False)
            config = dispatcher.config(session)
            if not all(queue in config.queues for queue in NEEDED_QUEUES):
                return TickReport(simulated=False)  # not the demo's policy: nothing to do
            self.last_tick = now
            created = self._arrivals(session, config, now)
            actions = self._agents(session, config, now, dt)
            hung_up = self._hang_ups(session, config, now, dt)
        dispatcher.after_change()
        return TickReport(True, tuple(created), tuple(actions), tuple(hung_up))

    def release(self) -> None:
        with self.ctx.db.unit_of_work() as session:
            service.drop_lease(session, LEASE, self.holder)

    # -- contacts ------------------------------------------------------------------------------

    def customers(self, session: Session) -> list[DemoCustomer]:
        if self._customers is None:
            points: dict[str, dict[str, str]] = {}
            for profile_id, kind, value in repository.contact_points(session):
                points.setdefault(profile_id, {}).setdefault(kind, value)
            self._customers = [
                DemoCustomer(found.get("phone"), found.get("email"),
                             "en" if found.get("email", "").endswith(".com")
                             or not found.get("phone", "+34").startswith("+34") else "es")
                for found in points.values()]
        return self._customers

    def _arrivals(self, session: Session, config: RoutingConfig, now: datetime) -> list[str]:
        if self.next_contact_at is not None and now < self.next_contact_at:
            return []
        settings = self.ctx.settings
        self.next_contact_at = now + timedelta(seconds=next_gap(
            self.rng, settings.demo_traffic_min_seconds, settings.demo_traffic_max_seconds))
        contact = next_contact(self.rng, self.customers(session))
        task = self._enter(session, contact, config, now)
        if contact.message is not None:  # what the chat or e-mail says, for its analysis
            self._ingest(session, {
                "type": "chat.message" if contact.channel == "chat" else "email.received",
                "source": "demo", "id": f"{task.external_id}:message",
                "channel": contact.channel, "occurred_at": now.isoformat(),
                "identifiers": contact.identifiers,
                "properties": {**contact.message, "task_id": task.id,
                               "language": contact.language}}, now)
        if self.rng.random() < LIVE_EVENT_SHARE:
            event = live_event(self.rng, now, [contact_phone(contact)])
            if event["type"] in AFTER_CONTACT:  # not a second, invented call
                self._ingest(session, event, now)
        return [task.id]

    def _enter(self, session: Session, contact: Contact, config: RoutingConfig,
               now: datetime) -> TaskRow:
        settings, policies = self.ctx.settings, self.ctx.policies
        external_id = f"demo-{new_id()}"
        if contact.ivr is not None:  # what the caller told the IVR, before the queue
            self._ingest(session, {
                "type": "ivr.completed", "source": "ivr", "id": f"{external_id}:ivr",
                "channel": "voice", "occurred_at": now.isoformat(),
                "identifiers": contact.identifiers,
                "properties": {**contact.ivr, "call_id": external_id}}, now)
        new = intake.NewTask(
            queue=contact.queue, channel=contact.channel, identifiers=contact.identifiers,
            language=contact.language, attributes=contact.attributes, source="demo",
            external_id=external_id, reason=contact.reason, kind=contact.kind,
            not_before=now if contact.kind == "callback" else None,
            window_end=now + timedelta(minutes=contact.window_minutes)
            if contact.kind == "callback" else None,
            max_attempts=2 if contact.kind == "callback" else 1)
        if contact.kind == "callback":
            task, _ = callbacks.schedule(session, new, config, settings=settings,
                                         policies=policies, now=now)
        else:
            task, _ = intake.create_task(session, new, config, settings=settings,
                                         policies=policies, now=now)
        return task

    def _ingest(self, session: Session, event: dict[str, object], now: datetime) -> None:
        ingest.ingest(session, {"events": [event]}, settings=self.ctx.settings,
                      policies=self.ctx.policies, now=now, actor="demo")

    # -- agents --------------------------------------------------------------------------------

    def _agents(self, session: Session, config: RoutingConfig, now: datetime,
                dt: float) -> list[Action]:
        people = {user.agent_id for user in users.list_users(session)
                  if user.agent_id and not user.disabled}
        rows = service.list_agents(session)
        person_available = any(row.id in people and row.presence == "available"
                               for row in rows)
        simulated: list[SimAgent] = []
        reasons: dict[str, str] = {}
        for row in rows:
            if row.id in people or not row.active:
                continue
            if row.presence != "offline":
                service.heartbeat(session, row.id, now)  # their "desktop" is open
            held = service.tasks_in_hand(session, row.id)
            reasons.update((task.id, str(task.attributes.get("reason_code", "")))
                           for task in held)
            simulated.append(sim_agent(row, held))
        actions = decide(simulated, now, dt, person_available=person_available, rng=self.rng,
                         tuning=self.tuning, reasons=reasons)
        return self.apply(session, actions, config, now)

    def apply(self, session: Session, actions: Sequence[Action], config: RoutingConfig,
              now: datetime) -> list[Action]:
        """The actions, each in its own savepoint: one the record refuses (an offer withdrawn
        or timed out meanwhile, a task already accepted) is skipped and changes nothing,
        the others stand. The ones applied."""
        applied: list[Action] = []
        for action in actions:
            try:
                with session.begin_nested():
                    self._apply(session, action, config, now)
            except CirculoError as refused:
                log.info("demo: %s %s by %s skipped: %s", action.verb, action.task_id,
                         action.agent_id, refused)
                continue
            applied.append(action)
        return applied

    def _apply(self, session: Session, action: Action, config: RoutingConfig,
               now: datetime) -> None:
        settings, policies = self.ctx.settings, self.ctx.policies
        task_id = action.task_id or ""
        if action.verb == "presence":
            service.set_presence(session, action.agent_id, action.presence or "available",
                                 "break" if action.presence == "away" else None, now)
        elif action.verb == "accept":
            service.accept(session, task_id, action.agent_id, settings=settings,
                           policies=policies, now=now)
        elif action.verb == "reject":
            service.reject(session, task_id, action.agent_id, now)
        elif action.verb == "end":
            service.end(session, task_id, action.agent_id, now)
        elif action.verb == "complete":
            wrapup.complete(session, task_id, action.agent_id, disposition=action.disposition,
                            notes=None, data=None, outcome=action.outcome, config=config,
                            settings=settings, policies=policies, now=now)
            if settings.surveys_file is not None and self.rng.random() < SURVEY_SHARE:
                self._survey(session, task_id, now)

    def _survey(self, session: Session, task_id: str, now: datetime) -> None:
        """The caller answers the survey by keypad, as the IVR would send it."""
        digits = {"csat": str(self.rng.choices(range(1, 6), CSAT_WEIGHTS)[0]),
                  "nps": str(self.rng.choices(range(11), NPS_WEIGHTS)[0])}
        try:
            with session.begin_nested():
                surveys.answer_by_keypad(session, self.ctx.settings, self.ctx.policies,
                                         task_id, digits, None, None, now)
        except CirculoError as refused:  # no survey follows this queue, or it asks more
            log.debug("demo: no survey answer for %s: %s", task_id, refused)

    def _hang_ups(self, session: Session, config: RoutingConfig, now: datetime,
                  dt: float) -> list[str]:
        waiting = [Waiting(task.id, task.channel, task.kind,
                           (now - task.queued_at).total_seconds())
                   for task in service.find_tasks(session, states=["pending"], queue=None,
                                                  customer_id=None, agent_id=None, limit=500)]
        gone: list[str] = []
        for task_id in hang_ups(waiting, dt, self.rng, self.tuning):
            try:
                with session.begin_nested():  # offered meanwhile and taken: they stay
                    callbacks.abandon(session, task_id, config, settings=self.ctx.settings,
                                      policies=self.ctx.policies, now=now)
            except CirculoError:
                continue
            gone.append(task_id)
        return gone

    # -- the loop ------------------------------------------------------------------------------

    def run_forever(self, stop: threading.Event) -> None:
        try:
            while not stop.wait(TICK_SECONDS):
                try:
                    self.tick()
                except CirculoError as exc:  # a task changed hands meanwhile: next tick
                    log.info("demo traffic tick skipped: %s", exc)
                except Exception:  # the demo must not stop for one bad tick
                    log.exception("demo traffic tick failed")
        finally:
            try:
                self.release()
            except Exception:  # shutting down: the lease expires by itself
                log.debug("demo traffic lease not released", exc_info=True)


def sim_agent(row: AgentRow, held: Sequence[TaskRow]) -> SimAgent:
    return SimAgent(row.id, row.presence, row.presence_since, tuple(
        Held(task.id, task.state, task.channel, task.kind, _since(task), task.reserved_until)
        for task in held))


def _since(task: TaskRow) -> datetime:
    if task.state == "assigned" and task.assigned_at is not None:
        return task.assigned_at
    if task.state == "wrapping" and task.ended_at is not None:
        return task.ended_at
    return task.changed_at


def contact_phone(contact: Contact) -> str:
    phone = contact.identifiers.get("phone")
    return str(phone) if phone else "+34600123456"


def run_in_thread(ctx: AppContext, stop: threading.Event,
                  rng: random.Random | None = None) -> threading.Thread:
    # Demo traffic, not security: a seed from the clock makes each run different.
    traffic = DemoTraffic(ctx, rng or random.Random())
    thread = threading.Thread(target=traffic.run_forever, args=(stop,), name="demo-traffic",
                              daemon=True)
    thread.start()
    return thread
