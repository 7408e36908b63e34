"""The agent's desk: what one agent has in front of them (offers, contacts in hand, callbacks
by urgency, why routing chose them) and what they do with it, always as themselves.

Every action names the agent acting and the task; one that is not theirs, or no longer
theirs, is refused with a stable ``code`` the desk turns into a sentence, and changes
nothing. Repeating an action that already happened (a double click on accept, a wrap-up sent
twice) changes nothing either: ``Done.repeated`` says so. The transitions themselves are
routing's (``service``, ``wrapup``), so the outcome reaches the customer's timeline and the
CRM connectors exactly as through the API.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from circulo.config import Settings
from circulo.customers import card_service
from circulo.customers import service as customers
from circulo.errors import Conflict, NotFound, ValidationFailed
from circulo.routing import desk_repository as desk_repo
from circulo.routing import dial as dialing
from circulo.routing import repository as repo
from circulo.routing import service, wrapup
from circulo.routing.models import AgentRow, TaskOffer, TaskRow
from circulo.routing.policy import RoutingConfig, WrapupCode

IN_HAND = ("assigned", "wrapping")
CALLBACKS_AHEAD = timedelta(hours=24)  # callbacks due within this show on the desk
NOTES_LIMIT = 4000
AWAY_REASONS = ("break", "lunch", "training", "meeting", "admin", "other")


class Refused(Exception):
    """The agent may not do this now. ``code``: not_yours, withdrawn, expired, gone,
    not_in_hand, already_wrapped, bad_code, bad_notes, bad_phone, bad_request, bad_presence,
    unavailable, no_queue."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code

    @property
    def forbidden(self) -> bool:
        """Not theirs at all (a crafted request), rather than a race they lost."""
        return self.code == "not_yours"


CODE_LIMIT = 40  # a disposition code, when the queue lists none (as the widget takes)


@dataclass(frozen=True)
class Done:
    task_id: str
    repeated: bool = False  # it had already happened: nothing changed


@dataclass(frozen=True)
class DeskTask:
    id: str
    kind: str
    state: str
    queue: str
    channel: str
    customer_id: str | None
    customer_name: str | None
    reason: str | None
    phone: str | None
    queued_at: datetime
    offered_at: datetime | None
    reserved_until: datetime | None
    assigned_at: datetime | None
    not_before: datetime | None
    window_end: datetime | None
    waited_seconds: float  # queued → offered (or now, while waiting)
    step: str | None  # the policy step that matched
    rules: tuple[str, ...]  # the priority rules that held
    links: dict[str, str]  # screen-pop URLs (S4)
    codes: tuple[WrapupCode, ...]  # the queue's wrap-up codes
    urgency: int  # 0 offer, 1 in conversation, 2 wrap-up, 3 callback
    dialed: bool = False  # the agent's own outbound call (click-to-dial): nobody waited


@dataclass(frozen=True)
class DeskState:
    agent_id: str
    name: str | None
    presence: str
    away_reason: str | None
    activity: str
    queues: tuple[str, ...]
    work: tuple[DeskTask, ...]  # by urgency: offers, contacts in hand, callbacks
    fingerprint: str  # changes whenever anything shown changes

    @property
    def offers(self) -> tuple[DeskTask, ...]:
        return tuple(t for t in self.work if t.state == "reserved")

    @property
    def in_hand(self) -> tuple[DeskTask, ...]:
        return tuple(t for t in self.work if t.state in IN_HAND)

    @property
    def callbacks(self) -> tuple[DeskTask, ...]:
        return tuple(t for t in self.work if t.state == "pending")


def _phone(task: TaskRow) -> str | None:
    phone = task.identifiers.get("phone")
    if isinstance(phone, str):
        return phone
    phones = task.identifiers.get("phones")
    return str(phones[0]) if isinstance(phones, list) and phones else None


def _task(session: Session, task: TaskRow, offer: TaskOffer | None, config: RoutingConfig,
          settings: Settings, now: datetime, urgency: int) -> DeskTask:
    offered = offer.offered_at if offer is not None else None
    waited = max(0.0, ((offered or now) - task.queued_at).total_seconds())
    queue = config.queues.get(task.queue)
    links = card_service.screen_pop_links(session, task.customer_id, settings) \
        if task.customer_id and urgency < 3 else {}
    name = task.context.get("name")
    return DeskTask(
        id=task.id, kind=task.kind, state=task.state, queue=task.queue, channel=task.channel,
        customer_id=task.customer_id, customer_name=name if isinstance(name, str) else None,
        reason=task.reason, phone=_phone(task), queued_at=task.queued_at, offered_at=offered,
        reserved_until=task.reserved_until, assigned_at=task.assigned_at,
        not_before=task.not_before, window_end=task.window_end, waited_seconds=waited,
        step=offer.step if offer is not None else None,
        rules=tuple(offer.rules or ()) if offer is not None else (), links=links,
        codes=queue.wrapup_codes if queue is not None else (), urgency=urgency,
        dialed=task.source == dialing.SOURCE)


def desk_state(session: Session, agent_id: str, config: RoutingConfig, settings: Settings,
               now: datetime) -> DeskState:
    """The agent and their work, most urgent first: offers (soonest to expire first), the
    contacts in conversation, those in wrap-up, then the callbacks of their queues due in
    the next day."""
    agent = service.get_agent(session, agent_id)
    held = repo.tasks_of_agent(session, agent_id, ("reserved", *IN_HAND))
    offers = desk_repo.offers_to(session, agent_id, [t.id for t in held])
    rank = {"reserved": 0, "assigned": 1, "wrapping": 2}
    far = datetime.max.replace(tzinfo=now.tzinfo)
    work = sorted((_task(session, t, offers.get(t.id), config, settings, now, rank[t.state])
                   for t in held),
                  key=lambda d: (d.urgency, d.reserved_until or far, d.assigned_at or far,
                                 d.id))
    work += [_task(session, t, None, config, settings, now, 3)
             for t in desk_repo.waiting_callbacks(session, agent.queues,
                                                  now + CALLBACKS_AHEAD)]
    seen = "|".join([agent.presence, agent.away_reason or "", agent.activity,
                     *(f"{t.id}:{t.version}:{t.state}" for t in held),
                     *(f"{t.id}:{t.state}" for t in work if t.urgency == 3)])
    return DeskState(
        agent_id=agent.id, name=agent.name, presence=agent.presence,
        away_reason=agent.away_reason, activity=agent.activity, queues=tuple(agent.queues),
        work=tuple(work), fingerprint=hashlib.sha256(seen.encode()).hexdigest()[:16])


def heartbeat(session: Session, agent_id: str, now: datetime) -> None:
    """The agent's desk is open (its page or its stream)."""
    service.heartbeat(session, agent_id, now)


def look(session: Session, agent_id: str, now: datetime) -> tuple[object, ...] | None:
    """A cheap look: the agent row's version (it changes with every offer, accept, end,
    release and presence) and the callbacks due in their queues; the desk's stream re-reads
    the whole state only when this changes."""
    row = repo.agent(session, agent_id)
    if row is None:
        return None
    return (row.version, *desk_repo.callbacks_mark(session, row.queues, now + CALLBACKS_AHEAD))


def closed_offers(session: Session, agent_id: str, task_ids: Sequence[str]
                  ) -> dict[str, str]:
    """For offers the desk showed that are gone: how each ended for this agent (accepted,
    rejected, timeout, revoked; canceled when the task itself was withdrawn)."""
    ended = {task_id: offer.outcome
             for task_id, offer in desk_repo.offers_to(session, agent_id, task_ids).items()}
    for task in service.get_tasks(session, list(task_ids)):
        if task.state in ("canceled", "abandoned") and ended.get(task.id) != "accepted":
            ended[task.id] = "canceled"
    return ended


# -- acting as the agent ---------------------------------------------------------------------

def _mine(session: Session, task_id: str, agent_id: str) -> TaskRow:
    """The task, if it is or was this agent's (held now, or offered to them once);
    otherwise refused as not theirs, whatever state it is in."""
    try:
        task = service.get_task(session, task_id)
    except NotFound as exc:
        raise Refused("gone") from exc
    if task.agent_id != agent_id and not desk_repo.offers_to(session, agent_id, [task_id]):
        raise Refused("not_yours")
    return task


def _lost(task: TaskRow, agent_id: str, session: Session) -> Refused:
    """Why an offer the agent had is no longer theirs."""
    offer = desk_repo.offers_to(session, agent_id, [task.id]).get(task.id)
    if offer is not None and offer.outcome == "timeout":
        return Refused("expired")
    return Refused("withdrawn")


def accept(session: Session, task_id: str, agent_id: str, *, settings: Settings,
           policies: customers.Policies, now: datetime) -> Done:
    task = _mine(session, task_id, agent_id)
    if task.agent_id == agent_id and task.state in (*IN_HAND, "completed"):
        return Done(task_id, repeated=True)  # a second click: it is already theirs
    if task.agent_id != agent_id or task.state != "reserved":
        raise _lost(task, agent_id, session)
    if task.reserved_until is not None and task.reserved_until < now:
        raise Refused("expired")
    try:
        service.accept(session, task_id, agent_id, settings=settings, policies=policies,
                       now=now)
    except Conflict as exc:  # it moved between the look and the lock
        raise Refused("withdrawn", str(exc)) from exc
    return Done(task_id)


def reject(session: Session, task_id: str, agent_id: str, now: datetime) -> Done:
    task = _mine(session, task_id, agent_id)
    if task.agent_id != agent_id or task.state != "reserved":
        offer = desk_repo.offers_to(session, agent_id, [task_id]).get(task_id)
        if offer is not None and offer.outcome == "rejected":
            return Done(task_id, repeated=True)
        if task.agent_id == agent_id:
            raise Refused("not_in_hand")
        raise _lost(task, agent_id, session)
    try:
        service.reject(session, task_id, agent_id, now)
    except Conflict as exc:
        raise Refused("withdrawn", str(exc)) from exc
    return Done(task_id)


def end(session: Session, task_id: str, agent_id: str, now: datetime) -> Done:
    task = _mine(session, task_id, agent_id)
    if task.agent_id == agent_id and task.state in ("wrapping", "completed"):
        return Done(task_id, repeated=True)
    if task.agent_id != agent_id or task.state != "assigned":
        raise Refused("not_in_hand")
    try:
        service.end(session, task_id, agent_id, now)
    except Conflict as lost:  # changed since it was read (the caller hung up, a 2nd click)
        raise Refused("not_in_hand") from lost
    return Done(task_id)


def wrap_up(session: Session, task_id: str, agent_id: str, *, code: str, notes: str,
            config: RoutingConfig, settings: Settings, policies: customers.Policies,
            now: datetime) -> Done:
    """The disposition (one of the queue's codes when it lists them) and notes: through
    routing's complete, so the outcome reaches the timeline and the CRM once."""
    task = _mine(session, task_id, agent_id)
    if task.agent_id == agent_id and task.state == "completed":
        raise Refused("already_wrapped")
    if task.agent_id != agent_id or task.state not in IN_HAND:
        raise Refused("not_in_hand")
    queue = config.queues.get(task.queue)
    codes = {c.code for c in queue.wrapup_codes} if queue is not None else set()
    if (codes and code not in codes) or len(code) > CODE_LIMIT:
        raise Refused("bad_code")
    if len(notes) > NOTES_LIMIT:
        raise Refused("bad_notes")
    try:
        wrapup.complete(session, task_id, agent_id, disposition=code or None,
                        notes=notes.strip() or None, data=None, outcome=None, config=config,
                        settings=settings, policies=policies, now=now)
    except Conflict as lost:  # wrapped up meanwhile (two submits racing)
        raise Refused("already_wrapped") from lost
    return Done(task_id)


def set_presence(session: Session, agent_id: str, presence: str, reason: str,
                 now: datetime) -> AgentRow:
    if presence not in service.PRESENCES:
        raise Refused("bad_presence")
    if presence == "away" and reason not in AWAY_REASONS:
        raise Refused("bad_presence")
    return service.set_presence(session, agent_id, presence,
                                reason if presence == "away" else None, now)


def dial(session: Session, agent_id: str, phone: str, request_id: str, *,
         config: RoutingConfig, settings: Settings, policies: customers.Policies,
         now: datetime) -> Done:
    """Click-to-dial from the desk: the same outbound call the CRM widget places
    (``routing.dial``: in the agent's hands at once, never offered, not counted as an
    answered contact), for an agent who is available. The form's ``request_id`` makes a
    double submit one call."""
    agent = service.get_agent(session, agent_id)
    if agent.presence != "available":
        raise Refused("unavailable")
    try:
        dialing.voice_queue(config, list(agent.queues))
    except Conflict as conflict:
        raise Refused("no_queue") from conflict
    try:
        task, created = dialing.dial(session, dialing.Dial(
            agent_id=agent_id, phone=phone, request_id=request_id), config,
            settings=settings, policies=policies, now=now)
    except ValidationFailed as invalid:
        field = invalid.errors[0]["field"] if invalid.errors else ""
        raise Refused("bad_phone" if field == "phone" else "bad_request") from invalid
    except Conflict as conflict:  # already on a call
        raise Refused("unavailable") from conflict
    return Done(task.id, repeated=not created)
