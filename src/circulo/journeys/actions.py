"""Applying a journey's actions, inside the runner's transaction.

Each action either changes Círculo's own records (traits and tags through the ingest
pipeline, lists, tasks and alerts through routing intake, callbacks, routing overrides,
events, suggestions) or leaves through the outbox (notifications, webhooks, connector
requests), so an effect is committed together with the decision that caused it, or not at
all. Every outcome (done, queued, skipped with its reason, failed with its error) is logged
by the service in ``journey_actions``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from circulo.campaigns import engine as reach_engine
from circulo.campaigns.service import reach_of
from circulo.config import Settings
from circulo.connectors import service as outbox
from circulo.connectors.registry import connectors_for
from circulo.connectors.slot_replies import render_slots
from circulo.customers import service as customers
from circulo.errors import ValidationFailed
from circulo.identity import service as identity
from circulo.ids import new_id
from circulo.ingest import service as ingest
from circulo.journeys import repository as repo
from circulo.journeys.engine import Effect
from circulo.journeys.models import Suggestion
from circulo.routing import callbacks, intake, overrides
from circulo.routing.policy import RoutingConfig

URGENCY_PRIORITY = {"low": -10, "normal": 0, "high": 20, "urgent": 50}
SLOT_HOURS = (10, 12, 16, 18)  # local hours offered for a callback
_VARIABLE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


class ActionFailed(Exception):
    """An action that cannot be done as written (unknown queue, no such connector)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    outcome: str  # done | queued | skipped
    detail: dict[str, Any] = field(default_factory=dict)
    output: Any = None  # what a later step reads as journey.<as>


@dataclass
class Scene:
    """What the actions of one runner pass share."""

    session: Session
    settings: Settings
    policies: customers.Policies
    now: datetime
    config: Callable[[], RoutingConfig]
    created_tasks: list[str] = field(default_factory=list)
    # events actions leave on timelines, ingested together at the end of the pass
    pending: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    tags: dict[str, list[str]] = field(default_factory=dict)  # as tagged during this pass


@dataclass
class Subject:
    """The customer and instance an action is for."""

    customer: Mapping[str, Any]
    event: Mapping[str, Any]
    vars: dict[str, Any]
    language: str
    tz: ZoneInfo
    record: Mapping[str, Any] | None = None


# -- templates --------------------------------------------------------------------------------

def render(texts: Mapping[str, str], subject: Subject, **extra: Any) -> str:
    """The text in the customer's language with ``{{root.path}}`` filled in; a value the
    customer does not have renders as nothing."""
    template = texts.get(subject.language) or next(iter(texts.values()))

    def value(match: re.Match[str]) -> str:
        current = _lookup(match.group(1), subject, **extra)
        if current is None:
            return ""
        if isinstance(current, float) and current.is_integer():
            return str(int(current))
        return str(current)

    return _VARIABLE.sub(value, template)


def _lookup(path: str, subject: Subject, **extra: Any) -> Any:
    current: Any = {"customer": subject.customer, "event": subject.event,
                    "journey": subject.vars, "record": subject.record or {}, **extra}
    for part in path.split("."):
        current = current.get(part) if isinstance(current, Mapping) else None
        if current is None:
            return None
    return current


def fill(value: Any, subject: Subject) -> Any:
    """A structure with its texts rendered; a text that is one variable alone keeps the
    value's type (``"{{event.properties.amount}}"`` stays a number in a JSON body)."""
    if isinstance(value, str):
        alone = _VARIABLE.fullmatch(value.strip())
        if alone is not None:
            return _lookup(alone.group(1), subject)
        return render({"es": value, "en": value}, subject)
    if isinstance(value, dict):
        return {k: fill(v, subject) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, subject) for v in value]
    return value


def _customer_id(effect: Effect) -> str:
    if effect.customer_id is None:
        raise ActionFailed("this action needs a customer")
    return effect.customer_id


def record_event(scene: Scene, effect: Effect, event_type: str, properties: dict[str, Any],
                  traits: dict[str, Any] | None = None, suffix: str = "", *,
                  later: bool = False) -> str:
    """An event on the customer's timeline, through the ingest pipeline (so journeys,
    webhooks and the card see it like any other). Its id makes a repeat a duplicate.
    ``later``: with the pass's other events, in one batch (``flush``); the answer is then the
    event's id as sent, not yet its stored id."""
    event: dict[str, Any] = {
        "type": event_type, "source": "circulo", "id": f"journey:{effect.key}{suffix}",
        "occurred_at": scene.now.isoformat(),
        "identifiers": {"customer_id": _customer_id(effect)},
        "properties": {**properties, "journey": effect.journey,
                       "journey_instance": effect.instance_id},
    }
    if traits:
        event["traits"] = traits
    if later:
        scene.pending.append((effect.key, event))
        return str(event["id"])
    result = ingest.ingest(scene.session, {"events": [event]}, settings=scene.settings,
                           policies=scene.policies, now=scene.now, actor="journeys")
    if result.errors:
        error = result.errors[0]
        raise ActionFailed(f"{event_type}: {error.field}: {error.detail}")
    stored = result.results[0].event_id
    if stored is None:  # suppressed: the customer was erased meanwhile
        raise ActionFailed(f"{event_type}: the customer was erased")
    return stored


def flush(scene: Scene) -> dict[str, str]:
    """Ingest the events actions left for later, in one batch: the reason each refused one
    failed, by action key (one ingest per pass instead of one per action)."""
    if not scene.pending:
        return {}
    keys = [key for key, _ in scene.pending]
    result = ingest.ingest(scene.session, {"events": [e for _, e in scene.pending]},
                           settings=scene.settings, policies=scene.policies, now=scene.now,
                           actor="journeys")
    scene.pending.clear()
    return {keys[error.index]: f"{error.field}: {error.detail}" for error in result.errors}


# -- the actions ------------------------------------------------------------------------------

def _set_trait(scene: Scene, effect: Effect, subject: Subject) -> Outcome:
    traits = {name: render({"es": v, "en": v}, subject) if isinstance(v, str) else v
              for name, v in effect.action.params.items()}
    record_event(scene, effect, "journey.traits_set", {}, traits, later=True)
    return Outcome("done", {"traits": traits})


def _tag(scene: Scene, effect: Effect, subject: Subject) -> Outcome:
    customer_id = _customer_id(effect)
    current = scene.tags.get(customer_id)
    if current is None:  # not tagged yet in this pass: what the customer had
        had = (subject.customer.get("traits") or {}).get("tags") or []
        current = list(had) if isinstance(had, list) else [had]
    tags = sorted({*current, *effect.action.params["tags"]})
    scene.tags[customer_id] = tags
    record_event(scene, effect, "journey.tagged", {"added": effect.action.params["tags"]},
                  {"tags": tags}, later=True)
    return Outcome("done", {"tags": tags})


def _add_to_list(scene: Scene, effect: Effect, subject: Subject) -> Outcome:
    customer_id = _customer_id(effect)
    joined = [name for name in effect.action.params["lists"]
              if repo.join_list(scene.session, name, customer_id, f"journey:{effect.journey}",
                                scene.now)]
    if joined:
        record_event(scene, effect, "list.joined", {"lists": joined}, later=True)
    return Outcome("done", {"lists": effect.action.params["lists"], "new": joined})


def _remove_from_list(scene: Scene, effect: Effect, subject: Subject) -> Outcome:
    customer_id = _customer_id(effect)
    left = [name for name in effect.action.params["lists"]
            if repo.leave_list(scene.session, name, customer_id)]
    if left:
        record_event(scene, effect, "list.left", {"lists": left}, later=True)
    return Outcome("done", {"lists": effect.action.params["lists"], "removed": left})


def _created(scene: Scene, new: intake.NewTask, create: Any) -> Outcome:
    """A task (``intake.create_task``) or callback (``callbacks.schedule``) made for the
    journey; the dispatcher is woken for it after the pass commits."""
    try:
        task, created = create(scene.session, new, scene.config(), settings=scene.settings,
                               policies=scene.policies, now=scene.now)
    except ValidationFailed as exc:
        raise ActionFailed(_problem(exc)) from exc
    if created:
        scene.created_tasks.append(task.id)
    return Outcome("done", {"task_id": task.id, "queue": task.queue},
                   {"id": task.id, "queue": task.queue, "priority": new.priority})


def _new_task(scene: Scene, effect: Effect, new: intake.NewTask) -> Outcome:
    return _created(scene, new, intake.create_task)


def _task(scene: Scene, effect: Effect, subject: Subject) -> Outcome:
    params = effect.action.params
    attributes: dict[str, Any] = {"journey": effect.journey}
    if params.get("note"):
        attributes["note"] = render(params["note"], subject)
    return _new_task(scene, effect, intake.NewTask(
        queue=params["queue"], channel=params["channel"],
        identifiers={"customer_id": _customer_id(effect)}, priority=int(params["priority"]),
        skills=dict(params["skills"]) or None, attributes=attributes, source="journey",
        external_id=effect.key, reason=params.get("reason") or f"journey:{effect.journey}",
        kind="task", language=subject.language))


def _alert(scene: Scene, effect: Effect, subject: Subject) -> Outcome:
    params = effect.action.params
    to: str = params["to"]
    attributes: dict[str, Any] = {"journey": effect.journey, "urgency": params["urgency"],
                                  "alert": render(params["message"], subject)}
    queue = params.get("queue")
    if to.startswith("queue:"):
        queue = to.split(":", 1)[1]
    elif to.startswith("agent:"):
        attributes["for_agent"] = to.split(":", 1)[1]
    else:
        advisor = subject.customer.get("advisor")
        if advisor:
            attributes["for_agent"] = str(advisor)
        elif queue is None:
            return Outcome("skipped", {"reason": "no_advisor"})
    return _new_task(scene, effect, intake.NewTask(
        queue=str(queue), channel="backoffice", identifiers={"customer_id": _customer_id(effect)},
        priority=URGENCY_PRIORITY[params["urgency"]], attributes=attributes, source="journey",
        external_id=effect.key, reason="alert", kind="task", language=subject.language))


def offer_slots(now: datetime, tz: ZoneInfo, count: int, within: float) -> list[datetime]:
    """The next ``count`` callback times at the offered local hours, at least an hour away
    and before ``within`` has passed."""
    slots: list[datetime] = []
    local = now.astimezone(tz)
    day = local.date()
    limit = now + timedelta(seconds=within)
    while len(slots) < count:
        for hour in SLOT_HOURS:
            moment = datetime(day.year, day.month, day.day, hour, tzinfo=tz)
            if moment >= now + timedelta(hours=1) and moment <= limit and len(slots) < count:
                slots.append(moment)
        day += timedelta(days=1)
        if datetime(day.year, day.month, day.day, tzinfo=tz) > limit:
            break
    return slots


def _callback(scene: Scene, effect: Effect, subject: Subject) -> Outcome:
    params = effect.action.params
    customer_id = _customer_id(effect)
    if params["slots"]:
        slots = offer_slots(scene.now, subject.tz, int(params["slots"]), float(params["within"]))
        if not slots:
            return Outcome("skipped", {"reason": "no_slot_in_window"})
        offer = {"id": effect.key, "queue": params["queue"], "priority": params["priority"],
                 "slots": [s.isoformat() for s in slots], "journey": effect.journey,
                 "instance": effect.instance_id,
                 "expires_at": (scene.now + timedelta(seconds=float(params["within"])))
                 .isoformat()}
        text = {lang: render_slots(slots, subject.tz, lang, scene.now) for lang in ("es", "en")}
        return Outcome("done", {"offered": offer["slots"]},
                       {**offer, "text": text[subject.language], "texts": text})
    new = intake.NewTask(
        queue=params["queue"], channel="voice", identifiers={"customer_id": customer_id},
        priority=int(params["priority"]), source="journey", external_id=effect.key,
        reason=f"journey:{effect.journey}", kind="callback", not_before=scene.now,
        window_end=scene.now + timedelta(seconds=float(params["within"])),
        language=subject.language)
    return book_callback(scene, new)


def book_callback(scene: Scene, new: intake.NewTask) -> Outcome:
    return _created(scene, new, callbacks.schedule)


def _routing_override(scene: Scene, effect: Effect, subject: Subject) -> Outcome:
    params = effect.action.params
    ivr = None
    if params.get("ivr"):
        ivr = {k: render(v, subject) for k, v in params["ivr"].items()}
        ivr["language"] = subject.language
    try:
        row = overrides.set_override(
            scene.session, _customer_id(effect), config=scene.config(),
            expires_at=scene.now + timedelta(seconds=float(params["for"])),
            queue=params.get("queue"), team=params.get("team"),
            priority_boost=int(params.get("priority_boost") or 0), ivr=ivr,
            reason=params.get("reason") or f"journey:{effect.journey}",
            source=f"journey:{effect.journey}", now=scene.now)
    except ValidationFailed as exc:
        raise ActionFailed(_problem(exc)) from exc
    return Outcome("done", {"override_id": row.id}, overrides.view(row))


def _notify(scene: Scene, effect: Effect, subject: Subject) -> Outcome:
    params = effect.action.params
    customer_id = _customer_id(effect)
    profile = customers.profiles_by_ids(scene.session, [customer_id])[0]
    points = identity.contact_points_of(scene.session, [customer_id]).get(customer_id, [])
    reach = reach_of(profile, points, scene.settings)
    if params["channels"] == "preferred":
        plan = reach_engine.choose("preferred", params["purpose"], reach,
                                   ("sms", "email", "whatsapp"))
    else:
        reasons = []
        for channel in params["channels"]:
            plan = reach_engine.choose(channel, params["purpose"], reach)
            if plan.channel:
                break
            reasons.append(f"{channel}:{plan.reason}")
        else:
            plan = reach_engine.Plan(None, reason=",".join(reasons))
    if plan.channel is None:
        record_event(scene, effect, "notification.skipped",
                      {"reason": plan.reason, "purpose": params["purpose"]}, later=True)
        return Outcome("skipped", {"reason": plan.reason})
    offer = subject.vars.get("offer") or {}  # the slots a callback action offered ({{slots}})
    slots = str((offer.get("texts") or {}).get(subject.language) or "")
    text = render(params["text"], subject, slots=slots)
    subject_line = render(params["subject"], subject, slots=slots) \
        if params.get("subject") else None
    message_id = "ntf_" + new_id()
    data = {"message_id": message_id, "customer_id": customer_id, "channel": plan.channel,
            "to": plan.to, "text": text, "subject": subject_line, "language": subject.language,
            "purpose": params["purpose"], "journey": effect.journey,
            "instance_id": effect.instance_id}
    outbox.enqueue_request(scene.session, f"notify:{plan.channel}", "notification.requested",
                           data, ordering_key=customer_id, now=scene.now)
    record_event(scene, effect, "notification.requested",
                  {"message_id": message_id, "channel": plan.channel, "text": text,
                   "purpose": params["purpose"]}, later=True)
    return Outcome("queued", {"channel": plan.channel, "message_id": message_id},
                   {"channel": plan.channel, "message_id": message_id, "text": text})


def _webhook(scene: Scene, effect: Effect, subject: Subject) -> Outcome:
    params = effect.action.params
    body = fill(params["body"], subject)
    data = {"url": params["url"], "method": params.get("method", "POST"),
            "headers": params.get("headers") or {}, "body": body, "journey": effect.journey,
            "instance_id": effect.instance_id, "customer_id": effect.customer_id,
            "event": subject.event.get("id")}
    message_id = outbox.enqueue_request(scene.session, "journey:webhook", "journey.webhook",
                                        data, ordering_key=effect.customer_id or "",
                                        now=scene.now)
    return Outcome("queued", {"message_id": message_id, "url": params["url"]})


def _emit(scene: Scene, effect: Effect, subject: Subject) -> Outcome:
    params = effect.action.params
    properties = fill(params["properties"], subject)
    event_id = record_event(scene, effect, params["type"], properties)
    return Outcome("done", {"event_id": event_id, "type": params["type"]},
                   {"id": event_id, "type": params["type"]})


def _connector(scene: Scene, effect: Effect, subject: Subject) -> Outcome:
    params = effect.action.params
    specs = connectors_for(scene.settings)
    spec = specs.get(params["name"])
    if spec is None:
        raise ActionFailed(f"no connector named '{params['name']}' (known: "
                           f"{', '.join(sorted(specs)) or 'none'})")
    values = fill(params["params"], subject)
    data = {"action": params["action"], "params": values, "customer_id": effect.customer_id,
            "journey": effect.journey, "request_id": effect.key}
    message_id = outbox.enqueue_request(scene.session, spec.destination,
                                        "connector.action_requested", data,
                                        ordering_key=effect.customer_id or "", now=scene.now)
    return Outcome("queued", {"message_id": message_id, "connector": spec.name,
                              "action": params["action"]})


def _suggest(scene: Scene, effect: Effect, subject: Subject) -> Outcome:
    params = effect.action.params
    texts = {lang: render(params["text"], _in(subject, lang)) for lang in ("es", "en")}
    row = Suggestion(id=new_id(), customer_id=_customer_id(effect), journey=effect.journey,
                     instance_id=effect.instance_id, code=params["code"], text=texts,
                     status="open", created_at=scene.now,
                     expires_at=scene.now + timedelta(seconds=float(params["for"])))
    repo.add(scene.session, row)
    return Outcome("done", {"suggestion_id": row.id, "code": row.code},
                   {"id": row.id, "code": row.code})


def _in(subject: Subject, language: str) -> Subject:
    return Subject(subject.customer, subject.event, subject.vars, language, subject.tz,
                   subject.record)


def _problem(exc: ValidationFailed) -> str:
    errors = getattr(exc, "errors", None) or []
    if errors:
        return "; ".join(f"{e.get('field')}: {e.get('detail')}" for e in errors)
    return str(exc)


APPLY: dict[str, Callable[[Scene, Effect, Subject], Outcome]] = {
    "set_trait": _set_trait, "tag": _tag, "add_to_list": _add_to_list,
    "remove_from_list": _remove_from_list, "task": _task, "alert": _alert,
    "callback": _callback, "routing_override": _routing_override, "notify": _notify,
    "webhook": _webhook, "emit": _emit, "connector": _connector, "suggest": _suggest,
}
