"""What the agent should know about the contact in front of them (S12), and who is speaking
when the number alone could not say (S1).

* what the customer already said: the task's ``attributes`` (``ivr``, ``form``, ``said``,
  ``message``) and, on the customer's timeline shortly before, IVR events (type ``ivr.*`` or
  channel ``ivr``: ``answers``/``text``/``option``), web forms (``form.*``: ``fields``) and
  messages (chat, SMS, WhatsApp, e-mail: ``text``/``subject``);
* how long they waited, and whether this is the second contact about the same reason today
  (the center's day, ``CIRCULO_TIMEZONE``);
* their web and app activity before the contact (``page.viewed``, ``screen.viewed`` and the
  other calls of the Segment-compatible tracking source, ``CIRCULO_TRACKING_SOURCE``);
* for a task nobody could be attributed to: the candidates sharing its identifier, and the
  agent's confirmation of one of them (only the agent holding the task), which attributes
  the contact, records ``identity.confirmed`` and gives the task its customer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from circulo.config import Settings
from circulo.customers import card_service, cards
from circulo.customers import desk as customer_desk
from circulo.customers import service as customers
from circulo.customers.models import Event
from circulo.errors import Conflict, Forbidden, ValidationFailed
from circulo.identity import service as identity
from circulo.ingest import attribution
from circulo.routing import service as routing
from circulo.routing.customer_context import snapshots
from circulo.routing.models import TaskRow

SAID_WINDOW = timedelta(hours=6)  # what they said this long before the contact still counts
ACTIVITY_WINDOW = timedelta(hours=24)
ACTIVITY_SHOWN = 10
HOLDING = ("reserved", "assigned", "wrapping")
MESSAGE_TYPES = ("message.received", "chat.message", "chat.message_received", "chat.started",
                 "sms.received", "whatsapp.received", "email.received")
ATTRIBUTE_KINDS = {"ivr": "ivr", "form": "form", "said": "message", "message": "message",
                   "transcript": "message"}
LOOKUP_ORDER = ("phone", "email", "account")
_TEXT_KEYS = ("text", "body", "subject", "utterance", "transcript", "option", "menu",
              "intent", "answer")


class TaskHasCustomer(Conflict):
    """The task already belongs to another customer: there is nobody left to choose."""


@dataclass(frozen=True, slots=True)
class Said:
    """Something the customer said, with where: ``kind`` is ivr, form or message."""

    kind: str
    at: datetime | None  # None: carried by the task itself
    channel: str | None
    lines: list[tuple[str, str]]  # (question or field, answer); the question may be ""


@dataclass(frozen=True, slots=True)
class Activity:
    at: datetime
    channel: str | None
    type: str
    title: str
    url: str | None


@dataclass(frozen=True, slots=True)
class TaskFacts:
    task_id: str
    channel: str
    queue: str
    state: str
    reason: str | None
    waited_minutes: int
    earlier_today: int  # earlier contacts today about the same reason (any reason if none)


@dataclass(frozen=True, slots=True)
class ContactContext:
    task: TaskFacts | None
    said: list[Said] = field(default_factory=list)
    activity: list[Activity] = field(default_factory=list)


LINES = 20  # lines shown per thing said (an IVR's answers, a form's fields)
TEXT = 500  # characters per line; labels 80


def _lines(value: Any) -> list[tuple[str, str]]:
    """What was said as (label, text) lines, bounded: ingested events are the customer's
    own words, so the card shows at most ``LINES`` lines of ``TEXT`` characters each."""
    out: list[tuple[str, str]] = []
    if isinstance(value, dict):
        out = [(str(k)[:80], _text(v)) for k, v in value.items() if v not in (None, "")]
    elif isinstance(value, list):
        for item in value[:LINES]:
            if isinstance(item, dict) and ("question" in item or "answer" in item):
                out.append((str(item.get("question", ""))[:80],
                            _text(item.get("answer", ""))))
            elif item not in (None, ""):
                out.append(("", _text(item)))
    elif value not in (None, ""):
        out = [("", _text(value))]
    return out[:LINES]


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value[:LINES])[:TEXT]
    return str(value)[:TEXT]


def _said_of_event(event: Event) -> Said | None:
    props = event.properties or {}
    if event.type.startswith("ivr.") or event.channel == "ivr":
        kind = "ivr"
        lines = _lines(props.get("answers")) or _lines(
            {k: props[k] for k in _TEXT_KEYS if props.get(k) not in (None, "")})
    elif event.type.startswith("form."):
        kind = "form"
        lines = _lines(props.get("fields")) or _lines(
            {k: v for k, v in props.items() if isinstance(v, str | int | float)})
    elif event.type in MESSAGE_TYPES:
        kind = "message"
        lines = _lines(props.get("text") or props.get("body") or props.get("subject"))
    else:
        return None
    return Said(kind, event.occurred_at, event.channel, lines) if lines else None


def _activity_of(event: Event, tracking_source: str) -> Activity | None:
    """Pages and app screens, and the other tracking calls (``track``) of the website."""
    tracked = event.source == tracking_source and event.type not in (
        "customer.identified", "identity.aliased", "group.joined")
    if event.type not in ("page.viewed", "screen.viewed") and not tracked:
        return None
    props = event.properties or {}
    title = props.get("name") or props.get("title") or props.get("event") or event.type
    url = props.get("url") or props.get("path")
    return Activity(event.occurred_at, event.channel, event.type, str(title)[:200],
                    str(url)[:300] if url else None)


def _start_of_day(now: datetime, zone: str) -> datetime:
    local = now.astimezone(ZoneInfo(zone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _earlier_today(events: list[Event], task: TaskRow, day_start: datetime) -> int:
    """Earlier contacts today (distinct tasks, or contact events of other systems) about the
    task's reason, or about anything when the task has none."""
    seen: set[str] = set()
    for event in events:
        if event.occurred_at < day_start or event.occurred_at > task.created_at:
            continue
        props = event.properties or {}
        if props.get("task_id") == task.id:
            continue
        if task.reason and props.get("reason") != task.reason:
            continue
        queued = event.source == "routing" and (event.type.endswith(".queued")
                                                or event.type == "callback.scheduled")
        other = event.source != "routing" and props.get("reason") is not None
        if queued or other:
            seen.add(str(props.get("task_id") or event.id))
    return len(seen)


def contact_context(session: Session, customer_id: str, task_id: str | None, *,
                    settings: Settings, now: datetime) -> ContactContext:
    """The S12 context of a customer, around the given task if it is theirs."""
    root = customer_desk.root_of(session, customer_id)
    task = routing.get_task(session, task_id) if task_id else None
    if task is not None and (task.customer_id is None
                             or customer_desk.root_of(session, task.customer_id) != root):
        task = None  # another customer's task says nothing about this one
    anchor = task.created_at if task is not None else now
    day_start = _start_of_day(anchor, settings.timezone)
    since = min(day_start, anchor - ACTIVITY_WINDOW)
    events = customer_desk.events_between(session, root, since, max(now, anchor), 300)
    said: list[Said] = []
    facts = None
    if task is not None:
        for key, kind in ATTRIBUTE_KINDS.items():
            lines = _lines(task.attributes.get(key))
            if lines:
                said.append(Said(kind, None, task.channel, lines))
        end = task.assigned_at or now
        facts = TaskFacts(task.id, task.channel, task.queue, task.state, task.reason,
                          int(max(0.0, (end - task.queued_at).total_seconds()) // 60),
                          _earlier_today(events, task, day_start))
    said.extend(s for e in events if e.occurred_at >= anchor - SAID_WINDOW
                and (s := _said_of_event(e)) is not None)
    activity = [a for e in events if e.occurred_at <= anchor
                and (a := _activity_of(e, settings.tracking_source)) is not None][:ACTIVITY_SHOWN]
    return ContactContext(facts, said, activity)


# -- who is speaking ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Who:
    """``match``: known (the task has its customer), ambiguous (``candidates`` share the
    identifier ``kind``/``value``) or none (a new caller: nobody, or a profile this very
    contact created, ``customer_id``)."""

    task_id: str
    match: str
    customer_id: str | None
    kind: str | None
    value: str | None
    candidates: list[dict[str, Any]]
    may_confirm: bool


def _lookup_of(task: TaskRow) -> tuple[str, str] | None:
    for kind in LOOKUP_ORDER:
        value = task.identifiers.get(kind)
        if isinstance(value, str) and value:
            return kind, value
    return None


def who(session: Session, task_id: str, agent_id: str | None, *, role: str, lang: str,
        settings: Settings, templates: cards.Templates, policies: customers.Policies,
        now: datetime) -> Who:
    task = routing.get_task(session, task_id)
    may = agent_id is not None and task.agent_id == agent_id and task.state in HOLDING
    if task.customer_id:
        root = customer_desk.root_of(session, task.customer_id)
        queued = customer_desk.event_by_client_id(session, "routing", f"{task.id}:queued")
        if queued is not None and queued.resolution == "created":
            return Who(task.id, "none", root, None, None, [], may)  # the contact made them
        return Who(task.id, "known", root, None, None, [], may)
    lookup = _lookup_of(task)
    if lookup is None:
        return Who(task.id, "none", None, None, None, [], may)
    try:  # as the identifier is stored: what the candidates really share
        lookup = (lookup[0], identity.normalize_lookup(*lookup, settings).value or lookup[1])
    except ValidationFailed:
        return Who(task.id, "none", None, None, None, [], may)
    found = card_service.lookup_card(
        session, query={lookup[0]: lookup[1]}, role=role, lang=lang, postal_code=None,
        settings=settings, templates=templates, policies=policies, now=now)
    if found["match"] != "ambiguous":
        # nobody holds it (a new caller), or one customer since: still never linked unasked
        candidates = [] if found["match"] == "none" else [_single(found["card"])]
        return Who(task.id, "none" if not candidates else "ambiguous", None, lookup[0],
                   lookup[1], candidates, may)
    return Who(task.id, "ambiguous", None, lookup[0], lookup[1], found["candidates"], may)


def _single(card: dict[str, Any]) -> dict[str, Any]:
    return {"customer_id": card["customer_id"], "name": card["name"], "email": None,
            "open_records": len(card["open_records"]), "last_contact_at": None,
            "badges": card["badges"]}


def confirm(session: Session, task_id: str, agent_id: str, customer_id: str, *,
            settings: Settings, policies: customers.Policies, now: datetime) -> TaskRow:
    """The agent holding the task says who is speaking: the contact is attributed to that
    candidate (``identity.confirmed`` on their timeline, "confirmed by agent:<id>") and the
    task gets its customer. Saying the same twice changes nothing; another agent is refused."""
    task = routing.get_task(session, task_id, for_update=True)
    if task.agent_id != agent_id or task.state not in HOLDING:
        raise Forbidden(f"task '{task_id}' is not offered to or handled by agent "
                        f"'{agent_id}'", field="task_id")
    chosen = customer_desk.root_of(session, customer_id)
    if task.customer_id:
        if customer_desk.root_of(session, task.customer_id) == chosen:
            return task  # a double click: already done
        raise TaskHasCustomer(f"task '{task_id}' already belongs to another customer",
                              field="customer_id")
    queued = customer_desk.event_by_client_id(session, "routing", f"{task.id}:queued")
    actor = f"agent:{agent_id}"
    if queued is not None and queued.resolution == "ambiguous":
        attribution.confirm(session, customer_id=chosen, event_id=queued.id, lookup=None,
                            actor=actor, settings=settings, policies=policies, now=now)
    else:
        lookup = _lookup_of(task)
        if lookup is None:
            raise Conflict("the task has no identifier shared by candidates",
                           field="customer_id")
        attribution.confirm(session, customer_id=chosen, event_id=None,
                            lookup=identity.normalize_lookup(*lookup, settings),
                            actor=actor, settings=settings, policies=policies, now=now)
    task.customer_id = chosen
    context = snapshots(session, [chosen], policies, now).get(chosen)
    if context is not None:
        task.context = context
    task.version += 1
    task.changed_at = now
    return task
