"""A journey as its author writes it (YAML or JSON), checked at load into a ``Journey``. Pure.

A journey has a trigger (event types, ``call.*`` wildcards), an entry condition in CEL over
``event``, ``customer`` and ``counts``, limits (re-entry, a frequency cap per customer) and
steps. A step does actions, then waits (for an event, up to a time; until a time of day in the
customer's time zone; or for a while), branches, or ends. Counting conditions are written as
calls, ``count("call.abandoned", within="4h") >= 4``, ``count("call.*", since="midnight",
where="event.channel == 'voice'")``; each becomes a ``CountSpec`` served from counters kept as
events arrive (never a scan of history), and the call is replaced by ``counts.<key>``, the
same key for the same count in every journey.

Everything is checked when loaded: bad CEL, unknown variables, event types no source is known
to send, unknown template variables, actions without what they need, steps that jump to
nowhere or in a circle. Errors say ``file: line N: path: reason`` (docs/journeys.md).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from circulo import docmodels
from circulo.customers.records import RECORD_KINDS
from circulo.documents import Condition, Where, condition, duration, load_yaml
from circulo.egress import EgressError, EgressPolicy
from circulo.journeys.document import (
    NAME,
    ActionDoc,
    AlertDoc,
    AudienceDoc,
    CallbackDoc,
    ConnectorDoc,
    EmitDoc,
    JourneyDoc,
    LimitsDoc,
    NotifyDoc,
    RoutingOverrideDoc,
    StepDoc,
    SuggestDoc,
    TaskDoc,
    WaitDoc,
    WebhookDoc,
)

LANGUAGES = ("es", "en")
NOTIFY_CHANNELS = ("sms", "email", "whatsapp")
ENTRY_VARS = frozenset({"event", "customer", "counts"})
STEP_VARS = frozenset({"event", "customer", "counts", "journey"})
TEMPLATE_ROOTS = frozenset({"customer", "event", "journey", "record", "slots", "task"})
_TYPE = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z0-9_]+)*(\.\*)?)$")

_VARIABLE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
# count("type", within="4h", where="...") and the positional form count("type", "4h", "...")
_COUNT = re.compile(r"\bcount\s*\(")
_STRING = re.compile(r"\s*(?:(within|since|where)\s*=\s*)?"
                     r"(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')\s*")


class JourneyError(ValueError):
    """A journey that cannot be used; the message names where and why."""


@dataclass(frozen=True, slots=True)
class CountSpec:
    """How many of the customer's events of ``types`` (patterns) happened in the last
    ``within`` seconds, or since local midnight, optionally only those where ``where`` holds."""

    key: str
    types: tuple[str, ...]
    within: float | None = None
    since_midnight: bool = False
    where: Condition | None = None


def count_key(types: tuple[str, ...], within: float | None, since_midnight: bool,
              where: Condition | None) -> str:
    """The same count has the same key in every journey (``counts.<key>`` in conditions;
    one counter per customer)."""
    what = repr((types, within, since_midnight, where.source if where else None))
    return "c" + hashlib.sha1(what.encode(), usedforsecurity=False).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Action:
    kind: str
    params: Mapping[str, Any]
    name: str | None = None  # ``as``: later steps read what it made as journey.<name>


@dataclass(frozen=True, slots=True)
class Wait:
    for_types: tuple[str, ...] = ()  # an event of these types ...
    where: Condition | None = None  # ... for which this holds
    up_to: float | None = None  # gives up after this long (seconds)
    until: str | None = None  # "HH:MM", the customer's local time
    duration: float | None = None  # a plain pause
    date: str | None = None  # a path to a date (event.properties.occasion_date) ...
    before: float = 0.0  # ... this long before it ...
    at: str = "09:00"  # ... at this local time ...
    yearly: bool = False  # ... every year (a step may loop back to a yearly wait)


@dataclass(frozen=True, slots=True)
class Branch:
    when: Condition | None
    go: str


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    actions: tuple[Action, ...] = ()
    wait: Wait | None = None
    on_event: str | None = None  # after a wait: where to go when the event came
    on_timeout: str | None = None  # ... and when it did not (default: the end)
    branches: tuple[Branch, ...] = ()
    go: str | None = None  # where next (default: the following step)
    end: bool = False


@dataclass(frozen=True, slots=True)
class Journey:
    key: str
    name: Mapping[str, str]
    triggers: tuple[str, ...]
    when: Condition | None = None
    counts: tuple[CountSpec, ...] = ()
    reentry: str = "after_exit"
    cap: tuple[int, float] | None = None  # at most N entries per customer per period
    steps: tuple[Step, ...] = ()
    source: Any = field(default=None, compare=False)
    audience: Audience | None = None

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)


@dataclass(frozen=True, slots=True)
class Audience:
    """Whom an event of no one in particular (a carrier's incident) concerns: the customers
    with an open record of ``kind`` where ``where`` holds (over ``record`` and ``event``)."""

    kind: str
    where: Condition | None = None


def type_matches(pattern: str, event_type: str) -> bool:
    """``call.abandoned`` matches itself; ``call.*`` any type under ``call.``; ``*`` all."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def is_known(pattern: str, known: Iterable[str]) -> bool:
    """A type some source is known to send, or one of a record kind (``order.completed``,
    ``shipment.delayed``): records are built from any verb, so their types are known before
    the first one arrives (docs/events.md)."""
    return pattern.partition(".")[0] in RECORD_KINDS or any(type_matches(pattern, t)
                                                             for t in known)


# -- loading ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Outbound:
    """What a journey's ``webhook`` may use of the server: the environment variables it may
    read (``env:NAME``) and where it may send (``circulo.egress``)."""

    env_names: frozenset[str] = frozenset()
    egress: EgressPolicy = field(default_factory=EgressPolicy)


def parse_yaml(text: str, origin: str = "", known_types: Iterable[str] | None = None,
               outbound: Outbound | None = None) -> Journey:
    """Load a journey file; errors say ``origin: line N: path: reason``. ``known_types``:
    the event types sources are known to send; ``outbound``: what webhooks may read and
    reach (None, for either: do not check; versions already stored load so)."""
    data, where = load_yaml(text, origin, JourneyError)
    return build(data, where, known_types, outbound)


def parse_data(data: Any, known_types: Iterable[str] | None = None,
               outbound: Outbound | None = None) -> Journey:
    """Load a journey already parsed (a JSON body); errors name the path."""
    return build(data, Where({}, ""), known_types, outbound)


class _Loader:
    """The state of one load: where errors point, the count specs found so far."""

    def __init__(self, where: Where, known_types: Iterable[str] | None,
                 outbound: Outbound | None = None) -> None:
        self.where = where
        self.known = frozenset(known_types) if known_types is not None else None
        self.outbound = outbound
        self.counts: list[CountSpec] = []

    def fail(self, *path: Any, reason: str) -> JourneyError:
        return JourneyError(f"{self.where(*path)}: {reason}")

    def duration(self, value: Any, *path: Any) -> float:
        return duration(value, self.where(*path), JourneyError)

    def types(self, value: Any, *path: Any) -> tuple[str, ...]:
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(t, str) for t in items):
            raise self.fail(*path, reason="expected an event type or a list of them")
        for index, pattern in enumerate(items):
            here = (*path, index) if isinstance(value, list) else path
            if not _TYPE.match(pattern):
                raise self.fail(*here, reason=f"'{pattern}' is not an event type (dotted, "
                                              "lower case, optionally ending in .*)")
            if self.known is not None and not is_known(pattern, self.known):
                raise self.fail(*here, reason=f"unknown event type '{pattern}': no source "
                                              "is known to send it (declare it in "
                                              "CIRCULO_EVENT_TYPES)")
        return tuple(items)

    def text(self, value: Any, *path: Any) -> dict[str, str]:
        """Words a person reads, in Spanish and English (one string serves both)."""
        if isinstance(value, str) and value.strip():
            texts = dict.fromkeys(LANGUAGES, value)
        elif isinstance(value, dict) and value:
            texts = {str(k): v for k, v in value.items()}
            missing = [lang for lang in LANGUAGES if not isinstance(texts.get(lang), str)]
            if missing:
                raise self.fail(*path, reason=f"a text in {', '.join(missing)} is needed")
        else:
            raise self.fail(*path, reason="expected a text, or {es: ..., en: ...}")
        for lang, words in texts.items():
            for variable in _VARIABLE.findall(words):
                root = variable.split(".", 1)[0]
                if not _PATH.match(variable) or root not in TEMPLATE_ROOTS:
                    raise self.fail(*path, lang, reason=f"unknown template variable "
                                                        f"'{{{{{variable}}}}}' (it starts "
                                                        f"with one of "
                                                        f"{', '.join(sorted(TEMPLATE_ROOTS))})")
        return texts

    def condition(self, value: Any, allowed: frozenset[str], *path: Any) -> Condition:
        if not isinstance(value, str | bool) or value == "":
            raise self.fail(*path, reason="expected a CEL expression")
        original = str(value).lower() if isinstance(value, bool) else value
        source = self._counts(original, *path)
        try:
            return condition(source, self.where(*path), allowed, JourneyError)
        except JourneyError as exc:
            if source == original:
                raise
            message = str(exc).replace("invalid CEL:", "invalid CEL (count() calls shown as "
                                                        "counts.c…):", 1)
            raise JourneyError(message) from exc

    def _counts(self, source: str, *path: Any) -> str:
        """Replace each ``count(...)`` by ``counts.<key>``, recording what it counts."""
        out, position = [], 0
        for match in _COUNT.finditer(source):
            if match.start() < position:
                continue
            args, end = self._count_args(source, match.end(), *path)
            out.append(source[position:match.start()])
            out.append(f"counts.{self._spec(args, *path)}")
            position = end
        out.append(source[position:])
        return "".join(out)

    def _count_args(self, source: str, start: int, *path: Any
                    ) -> tuple[list[tuple[str | None, str]], int]:
        args: list[tuple[str | None, str]] = []
        position = start
        while True:
            match = _STRING.match(source, position)
            if match is None:
                raise self.fail(*path, reason="count() takes quoted text: count(\"type\", "
                                              "within=\"4h\", where=\"...\")")
            literal = match.group(2)[1:-1].replace('\\"', '"').replace("\\'", "'")
            args.append((match.group(1), literal))
            position = match.end()
            if source.startswith(",", position):
                position += 1
                continue
            if source.startswith(")", position):
                return args, position + 1
            raise self.fail(*path, reason="count(): expected ',' or ')'")

    def _spec(self, args: list[tuple[str | None, str]], *path: Any) -> str:
        named: dict[str, str] = {}
        positional = []
        for name, value in args:
            if name is None:
                if named:
                    raise self.fail(*path, reason="count(): a plain argument after a named one")
                positional.append(value)
            else:
                named[name] = value
        order = ["type", "window", "where"]
        for index, value in enumerate(positional):
            if index >= len(order):
                raise self.fail(*path, reason="count() takes a type, a window and a condition")
            named[order[index]] = value
        if "window" in named:
            window = named.pop("window")
            named["since" if window in ("midnight", "today") else "within"] = window
        if "type" not in named:
            raise self.fail(*path, reason="count() needs the event type first")
        types = self.types(named["type"], *path)
        if ("within" in named) == ("since" in named):
            raise self.fail(*path, reason="count() needs within=\"4h\" or since=\"midnight\"")
        within = None
        if "within" in named:
            within = self.duration(named["within"], *path)
            if within <= 0:
                raise self.fail(*path, reason="count(): the window must be longer than 0")
        elif named["since"] not in ("midnight", "today"):
            raise self.fail(*path, reason="count(): since=\"midnight\" (the customer's local "
                                          "midnight) is the only starting point")
        where = condition(named["where"], self.where(*path), frozenset({"event"}),
                          JourneyError) if named.get("where") else None
        spec = CountSpec(count_key(types, within, "since" in named, where), types, within,
                         "since" in named, where)
        if all(known.key != spec.key for known in self.counts):
            self.counts.append(spec)
        return spec.key


def build(data: Any, where: Where, known_types: Iterable[str] | None = None,
          outbound: Outbound | None = None) -> Journey:
    load = _Loader(where, known_types, outbound)
    if not isinstance(data, dict):
        raise load.fail(reason="expected a mapping")
    doc = docmodels.validate(JourneyDoc, data, where, JourneyError)
    name = load.text(doc.name or doc.journey, "name")
    triggers = load.types(doc.trigger, "trigger")
    audience = _audience(load, doc.audience) if doc.audience is not None else None
    when = load.condition(doc.when, ENTRY_VARS | {"record"} if audience else ENTRY_VARS,
                          "when") if doc.when is not None else None
    limits = doc.limits or LimitsDoc()
    cap = (limits.cap.max, limits.cap.per) if limits.cap is not None else None
    if not doc.steps:
        raise load.fail("steps", reason="expected a list of steps")
    steps = tuple(_step(load, step, index) for index, step in enumerate(doc.steps))
    _check_flow(load, steps)
    return Journey(doc.journey, name, triggers, when, tuple(load.counts), limits.reentry, cap,
                   steps, source=data, audience=audience)


def _audience(load: _Loader, doc: AudienceDoc) -> Audience:
    if doc.records not in RECORD_KINDS:
        raise load.fail("audience", "records", reason=f"expected a record kind: "
                                                      f"{', '.join(sorted(RECORD_KINDS))}")
    where = load.condition(doc.where, frozenset({"record", "event"}), "audience",
                           "where") if doc.where is not None else None
    return Audience(doc.records, where)


def _step(load: _Loader, doc: StepDoc, index: int) -> Step:
    name = doc.name or f"step{index + 1}"
    actions = tuple(_action(load, a, ("steps", index, "do", n))
                    for n, a in enumerate(doc.do or ()))
    wait = _wait(load, doc.wait, ("steps", index, "wait")) if doc.wait is not None else None
    if (doc.on_event is not None or doc.on_timeout is not None) and (
            wait is None or not wait.for_types):
        raise load.fail("steps", index, reason="on_event and on_timeout follow a wait for "
                                               "an event")
    branches = tuple(
        Branch(load.condition(branch.when, STEP_VARS, "steps", index, "branch", n, "when")
               if branch.when is not None else None, branch.go)
        for n, branch in enumerate(doc.branch or ()))
    if not (actions or wait or branches or doc.end or doc.go):
        raise load.fail("steps", index, reason="a step does something: do, wait, branch, "
                                               "go or end")
    return Step(name, actions, wait, doc.on_event, doc.on_timeout, branches, doc.go, doc.end)


def _wait(load: _Loader, doc: WaitDoc, path: tuple[Any, ...]) -> Wait:
    given = doc.model_fields_set
    kinds = [k for k in ("for_", "until", "duration", "date") if k in given]
    if len(kinds) != 1:
        raise load.fail(*path, reason="wait for an event (for + up_to), until a time of day "
                                      "(until: \"09:00\"), for a while (duration), or for a "
                                      "date (date: event.properties.date, before: 14d)")
    if doc.date is not None:
        return _date_wait(load, doc, path)
    if given & {"before", "at", "yearly"}:
        raise load.fail(*path, reason="before, at and yearly belong to a wait for a date")
    if doc.for_ is not None:
        if doc.up_to is None:
            raise load.fail(*path, reason="a wait for an event needs up_to (how long at most)")
        where = load.condition(doc.where, STEP_VARS, *path, "where") \
            if doc.where is not None else None
        return Wait(load.types(doc.for_, *path, "for"), where, doc.up_to)
    if given & {"where", "up_to"}:
        raise load.fail(*path, reason="where and up_to belong to a wait for an event")
    if doc.until is not None:
        return Wait(until=doc.until)
    if doc.duration is None:
        raise load.fail(*path, kinds[0].rstrip("_"), reason="expected a value")
    return Wait(duration=doc.duration)


def _date_wait(load: _Loader, doc: WaitDoc, path: tuple[Any, ...]) -> Wait:
    where = doc.date or ""
    if not _PATH.match(where) or where.split(".", 1)[0] not in {"event", "customer", "journey"}:
        raise load.fail(*path, "date", reason="expected where the date is, such as "
                                              "event.properties.occasion_date")
    return Wait(date=where, before=doc.before or 0.0, at=doc.at or "09:00",
                yearly=bool(doc.yearly))


def _check_flow(load: _Loader, steps: tuple[Step, ...]) -> None:
    """Every jump lands on a step, names are unique, and no path loops back on itself."""
    names = [s.name for s in steps]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise load.fail("steps", index, "name", reason=f"a second step named '{name}'")
    edges: dict[str, list[str]] = {}
    for index, step in enumerate(steps):
        targets = [t for t in (step.go, step.on_event, step.on_timeout) if t is not None]
        targets += [b.go for b in step.branches]
        for target in targets:
            if target not in names:
                raise load.fail("steps", index, reason=f"goes to '{target}', which is not a step")
        follows = not step.end and step.go is None and not (
            step.branches and step.branches[-1].when is None)
        if follows and index + 1 < len(steps):
            targets.append(names[index + 1])
        edges[step.name] = targets
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    by_name = {s.name: s for s in steps}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for target in edges[name]:
            if state.get(target) == 1:
                cycle = [*trail[trail.index(target):], target] if target in trail \
                    else [name, target]
                if any((w := by_name[n].wait) is not None and w.yearly for n in cycle):
                    continue  # a loop that waits a year each time round (S15)
                raise load.fail("steps", names.index(name),
                                reason=f"the steps go round in a circle: {' -> '.join(cycle)}")
            if target not in state:
                visit(target, [*trail, target])
        state[name] = 2

    for name in names:
        if name not in state:
            visit(name, [name])


# -- actions ----------------------------------------------------------------------------------

def _action(load: _Loader, doc: ActionDoc, path: tuple[Any, ...]) -> Action:
    kinds = [k for k in ACTIONS if k in doc.model_fields_set]
    if len(kinds) != 1:
        raise load.fail(*path, reason="an action is one of " + ", ".join(sorted(ACTIONS)))
    kind = kinds[0]
    params = getattr(doc, kind)
    if params is None:
        raise load.fail(*path, kind, reason="expected what the action does")
    return Action(kind, ACTIONS[kind](load, params, (*path, kind)), doc.as_)


def _words(load: _Loader, value: str | list[str], path: tuple[Any, ...]) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(NAME.match(v) for v in items):
        raise load.fail(*path, reason="expected a name or a list of names (lower case)")
    return list(items)


def _set_trait(load: _Loader, traits: dict[str, Any], path: tuple[Any, ...]
               ) -> dict[str, Any]:
    if not traits:
        raise load.fail(*path, reason="expected {trait: value, ...}")
    return traits


def _list_action(load: _Loader, names: str | list[str], path: tuple[Any, ...]
                 ) -> dict[str, Any]:
    return {"lists": _words(load, names, path)}


def _tag(load: _Loader, names: str | list[str], path: tuple[Any, ...]) -> dict[str, Any]:
    return {"tags": _words(load, names, path)}


def _task(load: _Loader, doc: TaskDoc, path: tuple[Any, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"queue": doc.queue, "channel": doc.channel,
                           "priority": doc.priority, "skills": doc.skills or {},
                           "reason": doc.reason}
    if doc.note is not None:
        out["note"] = load.text(doc.note, *path, "note")
    return out


def _alert(load: _Loader, doc: AlertDoc, path: tuple[Any, ...]) -> dict[str, Any]:
    if not doc.to.startswith("queue:") and not doc.queue:
        raise load.fail(*path, reason="an alert for an agent names the queue its task "
                                      "waits in (queue: ...)")
    return {"to": doc.to, "urgency": doc.urgency, "queue": doc.queue,
            "message": load.text(doc.message, *path, "message")}


def _callback(load: _Loader, doc: CallbackDoc, path: tuple[Any, ...]) -> dict[str, Any]:
    return {"queue": doc.queue, "slots": doc.slots, "priority": doc.priority,
            "within": doc.within}


def _routing(load: _Loader, doc: RoutingOverrideDoc, path: tuple[Any, ...]
             ) -> dict[str, Any]:
    given = doc.model_fields_set
    if not given & {"queue", "team", "priority_boost", "ivr"}:
        raise load.fail(*path, reason="an override sets a queue, a team, a priority_boost or "
                                      "an ivr message")
    out: dict[str, Any] = {k: getattr(doc, k) for k in ("queue", "team", "priority_boost",
                                                         "reason") if k in given}
    out["for"] = doc.for_
    if doc.ivr is not None:
        out["ivr"] = {k: load.text(getattr(doc.ivr, k), *path, "ivr", k)
                      for k in ("message", "question") if k in doc.ivr.model_fields_set}
    return out


def _notify(load: _Loader, doc: NotifyDoc, path: tuple[Any, ...]) -> dict[str, Any]:
    channels = doc.channels
    if channels != "preferred":
        channels = channels if isinstance(channels, list) else [channels]
        if not channels or any(c not in NOTIFY_CHANNELS for c in channels):
            raise load.fail(*path, "channels", reason="expected preferred, or some of "
                                                      f"{', '.join(NOTIFY_CHANNELS)}")
    out = {"channels": channels, "purpose": doc.purpose,
           "text": load.text(doc.text, *path, "text")}
    if doc.subject is not None:
        out["subject"] = load.text(doc.subject, *path, "subject")
    return out


WEBHOOK_METHODS = ("POST", "PUT", "PATCH")
_HEADER = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")
_ENV = re.compile(r"env:[A-Z_][A-Z0-9_]*")


def _webhook(load: _Loader, doc: WebhookDoc, path: tuple[Any, ...]) -> dict[str, Any]:
    url = doc.url
    if not url.startswith(("https://", "http://")):
        raise load.fail(*path, "url", reason="expected an http(s) URL")
    if load.outbound is not None:
        try:
            load.outbound.egress.check_url(url)
        except EgressError as exc:
            why = str(exc).removeprefix("refused: ")
            raise load.fail(*path, "url", reason=f"{why} refused (an internal system may "
                                                 "be named in CIRCULO_EGRESS_ALLOW)") from exc
    method = (doc.method or "POST").upper()
    if method not in WEBHOOK_METHODS:
        raise load.fail(*path, "method", reason=f"expected one of {', '.join(WEBHOOK_METHODS)}")
    headers = doc.headers or {}
    for name, value in headers.items():
        if not _HEADER.fullmatch(name) or \
                name.lower().startswith("webhook-") or name.lower() == "content-type":
            raise load.fail(*path, "headers", name, reason="not a header a journey may set")
        if not isinstance(value, str) or (value.startswith("env:")
                                          and not _ENV.fullmatch(value)):
            raise load.fail(*path, "headers", name,
                            reason="expected text, or env:NAME to read the server's environment")
        if load.outbound is not None and value.startswith("env:") \
                and value[4:] not in load.outbound.env_names:
            raise load.fail(*path, "headers", name,
                            reason=f"the environment variable {value[4:]} may not be read "
                                   "(journeys read only those in "
                                   "CIRCULO_JOURNEY_ENV_ALLOWLIST)")
    body = doc.body or {}
    _templates(load, body, (*path, "body"))
    return {"url": url, "method": method, "headers": dict(headers), "body": body}


def _templates(load: _Loader, value: Any, path: tuple[Any, ...]) -> None:
    """Every text inside a structure may use template variables: check them all."""
    if isinstance(value, str) and value.strip():
        load.text(value, *path)
    elif isinstance(value, dict):
        for key, item in value.items():
            _templates(load, item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _templates(load, item, (*path, index))


def _emit(load: _Loader, doc: EmitDoc, path: tuple[Any, ...]) -> dict[str, Any]:
    event_type = doc.type
    if not _TYPE.match(event_type) or "*" in event_type or "." not in event_type:
        raise load.fail(*path, "type", reason="expected an event type such as "
                                              "dispute.auto_refunded")
    properties = doc.properties or {}
    _templates(load, properties, (*path, "properties"))
    return {"type": event_type, "properties": properties}


def _connector(load: _Loader, doc: ConnectorDoc, path: tuple[Any, ...]) -> dict[str, Any]:
    values = doc.params or {}
    _templates(load, values, (*path, "params"))
    return {"name": doc.name, "action": doc.action, "params": values}


def _suggest(load: _Loader, doc: SuggestDoc, path: tuple[Any, ...]) -> dict[str, Any]:
    return {"code": _words(load, doc.code, (*path, "code"))[0],
            "text": load.text(doc.text, *path, "text"), "for": doc.for_}


ACTIONS: dict[str, Callable[[_Loader, Any, tuple[Any, ...]], dict[str, Any]]] = {
    "set_trait": _set_trait, "tag": _tag, "add_to_list": _list_action,
    "remove_from_list": _list_action, "task": _task, "alert": _alert, "callback": _callback,
    "routing_override": _routing, "notify": _notify, "webhook": _webhook, "emit": _emit,
    "connector": _connector, "suggest": _suggest,
}
