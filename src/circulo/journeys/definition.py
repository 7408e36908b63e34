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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from circulo.customers.records import RECORD_KINDS
from circulo.documents import Condition, Where, condition, duration, load_yaml

LANGUAGES = ("es", "en")
URGENCIES = ("low", "normal", "high", "urgent")
REENTRY = ("after_exit", "never", "always")
NOTIFY_CHANNELS = ("sms", "email", "whatsapp")
PURPOSES = ("service", "marketing")
ENTRY_VARS = frozenset({"event", "customer", "counts"})
STEP_VARS = frozenset({"event", "customer", "counts", "journey"})
TEMPLATE_ROOTS = frozenset({"customer", "event", "journey", "record", "slots", "task"})
_TYPE = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z0-9_]+)*(\.\*)?)$")
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
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

def parse_yaml(text: str, origin: str = "", known_types: Iterable[str] | None = None
               ) -> Journey:
    """Load a journey file; errors say ``origin: line N: path: reason``. ``known_types``:
    the event types sources are known to send (None: do not check)."""
    data, where = load_yaml(text, origin, JourneyError)
    return build(data, where, known_types)


def parse_data(data: Any, known_types: Iterable[str] | None = None) -> Journey:
    """Load a journey already parsed (a JSON body); errors name the path."""
    return build(data, Where({}, ""), known_types)


class _Loader:
    """The state of one load: where errors point, the count specs found so far."""

    def __init__(self, where: Where, known_types: Iterable[str] | None) -> None:
        self.where = where
        self.known = frozenset(known_types) if known_types is not None else None
        self.counts: list[CountSpec] = []

    def fail(self, *path: Any, reason: str) -> JourneyError:
        return JourneyError(f"{self.where(*path)}: {reason}")

    def mapping(self, value: Any, *path: Any) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(*path, reason="expected a mapping")
        return {str(k): v for k, v in value.items()}

    def fields(self, data: Mapping[str, Any], allowed: Iterable[str], *path: Any,
               required: Iterable[str] = ()) -> None:
        allowed = set(allowed)
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise self.fail(*path, unknown[0], reason="unknown field (expected one of "
                                                      f"{', '.join(sorted(allowed))})")
        for name in required:
            if data.get(name) in (None, "", [], {}):
                raise self.fail(*path, reason=f"'{name}' is required")

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


def build(data: Any, where: Where, known_types: Iterable[str] | None = None) -> Journey:
    load = _Loader(where, known_types)
    root = load.mapping(data)
    load.fields(root, {"journey", "name", "description", "trigger", "audience", "when",
                       "limits", "steps"}, required=("journey", "trigger", "steps"))
    key = root["journey"]
    if not isinstance(key, str) or not _NAME.match(key):
        raise load.fail("journey", reason="expected a name: lower case, digits, '_' or '-'")
    name = load.text(root.get("name") or key, "name")
    triggers = load.types(root["trigger"], "trigger")
    audience = _audience(load, root["audience"]) if "audience" in root else None
    when = load.condition(root["when"], ENTRY_VARS | {"record"} if audience else ENTRY_VARS,
                          "when") if "when" in root else None
    reentry, cap = _limits(load, root.get("limits"))
    raw_steps = root["steps"]
    if not isinstance(raw_steps, list) or not raw_steps:
        raise load.fail("steps", reason="expected a list of steps")
    steps = tuple(_step(load, raw, index) for index, raw in enumerate(raw_steps))
    _check_flow(load, steps)
    return Journey(key, name, triggers, when, tuple(load.counts), reentry, cap, steps,
                   source=data, audience=audience)


def _audience(load: _Loader, raw: Any) -> Audience:
    data = load.mapping(raw, "audience")
    load.fields(data, {"records", "where"}, "audience", required=("records",))
    kind = data["records"]
    if kind not in RECORD_KINDS:
        raise load.fail("audience", "records", reason=f"expected a record kind: "
                                                      f"{', '.join(sorted(RECORD_KINDS))}")
    where = load.condition(data["where"], frozenset({"record", "event"}), "audience",
                           "where") if "where" in data else None
    return Audience(str(kind), where)


def _limits(load: _Loader, raw: Any) -> tuple[str, tuple[int, float] | None]:
    limits = load.mapping(raw, "limits")
    load.fields(limits, {"reentry", "cap"}, "limits")
    reentry = limits.get("reentry", "after_exit")
    if reentry not in REENTRY:
        raise load.fail("limits", "reentry", reason=f"expected one of {', '.join(REENTRY)}")
    cap = None
    if limits.get("cap") is not None:
        raw_cap = load.mapping(limits["cap"], "limits", "cap")
        load.fields(raw_cap, {"max", "per"}, "limits", "cap", required=("max", "per"))
        most = raw_cap["max"]
        if isinstance(most, bool) or not isinstance(most, int) or most < 1:
            raise load.fail("limits", "cap", "max", reason="expected a whole number, at least 1")
        cap = (most, load.duration(raw_cap["per"], "limits", "cap", "per"))
    return reentry, cap


def _step(load: _Loader, raw: Any, index: int) -> Step:
    data = load.mapping(raw, "steps", index)
    load.fields(data, {"name", "do", "wait", "on_event", "on_timeout", "branch", "go", "end"},
                "steps", index)
    name = data.get("name", f"step{index + 1}")
    if not isinstance(name, str) or not _NAME.match(name):
        raise load.fail("steps", index, "name", reason="expected a name: lower case, digits, "
                                                       "'_' or '-'")
    raw_actions = data.get("do") or []
    if not isinstance(raw_actions, list):
        raise load.fail("steps", index, "do", reason="expected a list of actions")
    actions = tuple(_action(load, a, ("steps", index, "do", n))
                    for n, a in enumerate(raw_actions))
    wait = _wait(load, data["wait"], ("steps", index, "wait")) if "wait" in data else None
    if ("on_event" in data or "on_timeout" in data) and (wait is None or not wait.for_types):
        raise load.fail("steps", index, reason="on_event and on_timeout follow a wait for "
                                               "an event")
    branches = []
    for n, raw_branch in enumerate(data.get("branch") or []):
        branch = load.mapping(raw_branch, "steps", index, "branch", n)
        load.fields(branch, {"when", "go"}, "steps", index, "branch", n, required=("go",))
        when = load.condition(branch["when"], STEP_VARS, "steps", index, "branch", n, "when") \
            if "when" in branch else None
        branches.append(Branch(when, str(branch["go"])))
    end = data.get("end", False)
    if not isinstance(end, bool):
        raise load.fail("steps", index, "end", reason="expected true or false")
    if not (actions or wait or branches or end or data.get("go")):
        raise load.fail("steps", index, reason="a step does something: do, wait, branch, "
                                               "go or end")
    return Step(name, actions, wait, data.get("on_event"), data.get("on_timeout"),
                tuple(branches), data.get("go"), end)


def _wait(load: _Loader, raw: Any, path: tuple[Any, ...]) -> Wait:
    data = load.mapping(raw, *path)
    load.fields(data, {"for", "where", "up_to", "until", "duration", "date", "before", "at",
                       "yearly"}, *path)
    kinds = [k for k in ("for", "until", "duration", "date") if k in data]
    if len(kinds) != 1:
        raise load.fail(*path, reason="wait for an event (for + up_to), until a time of day "
                                      "(until: \"09:00\"), for a while (duration), or for a "
                                      "date (date: event.properties.date, before: 14d)")
    if "date" in data:
        return _date_wait(load, data, path)
    if any(k in data for k in ("before", "at", "yearly")):
        raise load.fail(*path, reason="before, at and yearly belong to a wait for a date")
    if "for" in data:
        if "up_to" not in data:
            raise load.fail(*path, reason="a wait for an event needs up_to (how long at most)")
        where = load.condition(data["where"], STEP_VARS, *path, "where") \
            if "where" in data else None
        return Wait(load.types(data["for"], *path, "for"), where,
                    load.duration(data["up_to"], *path, "up_to"))
    if "where" in data or "up_to" in data:
        raise load.fail(*path, reason="where and up_to belong to a wait for an event")
    if "until" in data:
        if not isinstance(data["until"], str) or not _CLOCK.match(data["until"]):
            raise load.fail(*path, "until", reason="expected a time of day such as \"09:00\"")
        return Wait(until=data["until"])
    return Wait(duration=load.duration(data["duration"], *path, "duration"))


def _date_wait(load: _Loader, data: dict[str, Any], path: tuple[Any, ...]) -> Wait:
    where = data["date"]
    if not isinstance(where, str) or not _PATH.match(where) or \
            where.split(".", 1)[0] not in {"event", "customer", "journey"}:
        raise load.fail(*path, "date", reason="expected where the date is, such as "
                                              "event.properties.occasion_date")
    at = data.get("at", "09:00")
    if not isinstance(at, str) or not _CLOCK.match(at):
        raise load.fail(*path, "at", reason="expected a time of day such as \"10:00\"")
    yearly = data.get("yearly", False)
    if not isinstance(yearly, bool):
        raise load.fail(*path, "yearly", reason="expected true or false")
    before = load.duration(data.get("before", 0), *path, "before")
    return Wait(date=where, before=before, at=at, yearly=yearly)


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

def _action(load: _Loader, raw: Any, path: tuple[Any, ...]) -> Action:
    data = load.mapping(raw, *path)
    name = data.pop("as", None)
    if name is not None and (not isinstance(name, str) or not _NAME.match(name)):
        raise load.fail(*path, "as", reason="expected a name: lower case, digits, '_' or '-'")
    if len(data) != 1:
        raise load.fail(*path, reason="an action is one of " + ", ".join(sorted(ACTIONS)))
    kind, params = next(iter(data.items()))
    check = ACTIONS.get(kind)
    if check is None:
        raise load.fail(*path, kind, reason="unknown action (expected one of "
                                            f"{', '.join(sorted(ACTIONS))})")
    return Action(kind, check(load, params, (*path, kind)), name)


def _words(load: _Loader, value: Any, path: tuple[Any, ...]) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) and _NAME.match(v) for v in items):
        raise load.fail(*path, reason="expected a name or a list of names (lower case)")
    return list(items)


def _set_trait(load: _Loader, params: Any, path: tuple[Any, ...]) -> dict[str, Any]:
    traits = load.mapping(params, *path)
    if not traits:
        raise load.fail(*path, reason="expected {trait: value, ...}")
    return traits


def _list_action(load: _Loader, params: Any, path: tuple[Any, ...]) -> dict[str, Any]:
    return {"lists": _words(load, params, path)}


def _tag(load: _Loader, params: Any, path: tuple[Any, ...]) -> dict[str, Any]:
    return {"tags": _words(load, params, path)}


def _task(load: _Loader, params: Any, path: tuple[Any, ...]) -> dict[str, Any]:
    data = load.mapping(params, *path)
    load.fields(data, {"queue", "channel", "priority", "skills", "reason", "note"}, *path,
                required=("queue",))
    out: dict[str, Any] = {"queue": str(data["queue"]),
                           "channel": str(data.get("channel", "backoffice")),
                           "priority": data.get("priority", 0), "skills": data.get("skills")
                           or {}, "reason": data.get("reason")}
    if isinstance(out["priority"], bool) or not isinstance(out["priority"], int):
        raise load.fail(*path, "priority", reason="expected a whole number")
    if "note" in data:
        out["note"] = load.text(data["note"], *path, "note")
    return out


def _alert(load: _Loader, params: Any, path: tuple[Any, ...]) -> dict[str, Any]:
    data = load.mapping(params, *path)
    load.fields(data, {"to", "urgency", "message", "queue"}, *path, required=("to", "message"))
    to = data["to"]
    if not isinstance(to, str) or not (to == "advisor" or to.startswith(("agent:", "queue:"))):
        raise load.fail(*path, "to", reason="expected advisor, agent:<id> or queue:<name>")
    if not to.startswith("queue:") and not data.get("queue"):
        raise load.fail(*path, reason="an alert for an agent names the queue its task "
                                      "waits in (queue: ...)")
    urgency = data.get("urgency", "normal")
    if urgency not in URGENCIES:
        raise load.fail(*path, "urgency", reason=f"expected one of {', '.join(URGENCIES)}")
    return {"to": to, "urgency": urgency, "queue": data.get("queue"),
            "message": load.text(data["message"], *path, "message")}


def _callback(load: _Loader, params: Any, path: tuple[Any, ...]) -> dict[str, Any]:
    data = load.mapping(params, *path)
    load.fields(data, {"queue", "within", "slots", "priority"}, *path, required=("queue",))
    slots = data.get("slots", 0)
    if isinstance(slots, bool) or not isinstance(slots, int) or not 0 <= slots <= 5:
        raise load.fail(*path, "slots", reason="expected 0 to 5 slots to offer")
    return {"queue": str(data["queue"]), "slots": slots, "priority": data.get("priority", 0),
            "within": load.duration(data.get("within", "1d"), *path, "within")}


def _routing(load: _Loader, params: Any, path: tuple[Any, ...]) -> dict[str, Any]:
    data = load.mapping(params, *path)
    load.fields(data, {"queue", "team", "priority_boost", "ivr", "for", "reason"}, *path,
                required=("for",))
    if not any(k in data for k in ("queue", "team", "priority_boost", "ivr")):
        raise load.fail(*path, reason="an override sets a queue, a team, a priority_boost or "
                                      "an ivr message")
    out: dict[str, Any] = {k: data[k] for k in ("queue", "team", "priority_boost", "reason")
                           if k in data}
    out["for"] = load.duration(data["for"], *path, "for")
    if "ivr" in data:
        ivr = load.mapping(data["ivr"], *path, "ivr")
        load.fields(ivr, {"message", "question"}, *path, "ivr")
        out["ivr"] = {k: load.text(v, *path, "ivr", k) for k, v in ivr.items()}
    return out


def _notify(load: _Loader, params: Any, path: tuple[Any, ...]) -> dict[str, Any]:
    data = load.mapping(params, *path)
    load.fields(data, {"channels", "purpose", "subject", "text"}, *path, required=("text",))
    channels = data.get("channels", "preferred")
    if channels != "preferred":
        channels = channels if isinstance(channels, list) else [channels]
        if not channels or any(c not in NOTIFY_CHANNELS for c in channels):
            raise load.fail(*path, "channels", reason="expected preferred, or some of "
                                                      f"{', '.join(NOTIFY_CHANNELS)}")
    purpose = data.get("purpose", "service")
    if purpose not in PURPOSES:
        raise load.fail(*path, "purpose", reason=f"expected one of {', '.join(PURPOSES)}")
    out = {"channels": channels, "purpose": purpose,
           "text": load.text(data["text"], *path, "text")}
    if "subject" in data:
        out["subject"] = load.text(data["subject"], *path, "subject")
    return out


WEBHOOK_METHODS = ("POST", "PUT", "PATCH")
_HEADER = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")
_ENV = re.compile(r"env:[A-Z_][A-Z0-9_]*")


def _webhook(load: _Loader, params: Any, path: tuple[Any, ...]) -> dict[str, Any]:
    data = load.mapping(params, *path)
    load.fields(data, {"url", "body", "method", "headers"}, *path, required=("url",))
    url = data["url"]
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise load.fail(*path, "url", reason="expected an http(s) URL")
    method = str(data.get("method") or "POST").upper()
    if method not in WEBHOOK_METHODS:
        raise load.fail(*path, "method", reason=f"expected one of {', '.join(WEBHOOK_METHODS)}")
    headers = load.mapping(data.get("headers"), *path, "headers")
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER.fullmatch(name) or \
                name.lower().startswith("webhook-") or name.lower() == "content-type":
            raise load.fail(*path, "headers", name, reason="not a header a journey may set")
        if not isinstance(value, str) or (value.startswith("env:")
                                          and not _ENV.fullmatch(value)):
            raise load.fail(*path, "headers", name,
                            reason="expected text, or env:NAME to read the server's environment")
    body = load.mapping(data.get("body"), *path, "body")
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


def _emit(load: _Loader, params: Any, path: tuple[Any, ...]) -> dict[str, Any]:
    data = load.mapping(params, *path)
    load.fields(data, {"type", "properties"}, *path, required=("type",))
    event_type = data["type"]
    if not isinstance(event_type, str) or not _TYPE.match(event_type) or "*" in event_type \
            or "." not in event_type:
        raise load.fail(*path, "type", reason="expected an event type such as "
                                              "dispute.auto_refunded")
    properties = load.mapping(data.get("properties"), *path, "properties")
    _templates(load, properties, (*path, "properties"))
    return {"type": event_type, "properties": properties}


def _connector(load: _Loader, params: Any, path: tuple[Any, ...]) -> dict[str, Any]:
    data = load.mapping(params, *path)
    load.fields(data, {"name", "action", "params"}, *path, required=("name", "action"))
    values = load.mapping(data.get("params"), *path, "params")
    _templates(load, values, (*path, "params"))
    return {"name": str(data["name"]), "action": str(data["action"]), "params": values}


def _suggest(load: _Loader, params: Any, path: tuple[Any, ...]) -> dict[str, Any]:
    data = load.mapping(params, *path)
    load.fields(data, {"code", "text", "for"}, *path, required=("code", "text"))
    return {"code": _words(load, data["code"], (*path, "code"))[0],
            "text": load.text(data["text"], *path, "text"),
            "for": load.duration(data.get("for", "1d"), *path, "for")}


ACTIONS = {
    "set_trait": _set_trait, "tag": _tag, "add_to_list": _list_action,
    "remove_from_list": _list_action, "task": _task, "alert": _alert, "callback": _callback,
    "routing_override": _routing, "notify": _notify, "webhook": _webhook, "emit": _emit,
    "connector": _connector, "suggest": _suggest,
}
