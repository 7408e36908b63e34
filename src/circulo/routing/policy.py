"""The routing configuration: skills, queues with their policy steps, the abandoned-call policy,
and optionally the agents. Pure: text or data in, a checked ``RoutingConfig`` out.

Everything is checked when loaded, so a running contact center never meets a broken policy:
CEL that does not compile or names an unknown variable, unknown skills, queues, channels or
orderings, and impossible numbers are refused with the line (from a YAML file) or the path
(from the API) and the reason (docs/routing.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from circulo import documents
from circulo.documents import Condition, Where

CHANNELS = ("voice", "email", "chat", "sms", "whatsapp", "social", "backoffice")
ORDERS = ("longest_idle", "proficiency", "least_occupied")
ABANDON_ACTIONS = ("ignore", "callback", "winback", "sms")
DEFAULT_CAPACITY = {"voice": 1, "chat": 3, "email": 5, "sms": 3, "whatsapp": 3, "social": 3,
                    "backoffice": 1}
_SKILL_REFS = (re.compile(r"\bskills\.([A-Za-z_][\w-]*)"),
               re.compile(r"\bskills\[\s*[\"']([^\"']+)[\"']\s*\]"),
               re.compile(r"[\"']([^\"']+)[\"']\s+in\s+agent\.skills\b"))
_TARGETS = re.compile(r"^\s*agent\.id\s*(==|in)\s*(customer|task)((?:\.[A-Za-z_]\w*)+)"
                      r"\s*(?:&&(.*))?$", re.S)
TASK_VARS = frozenset({"task", "customer"})
ALL_VARS = frozenset({"task", "customer", "agent"})


class PolicyError(ValueError):
    """A routing configuration that cannot be used; the message names where and why."""


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    when: Condition | None = None  # does the step apply to this task (task/customer only)
    agents: Condition | None = None  # which agents it accepts
    skills: Mapping[str, int] = field(default_factory=dict)
    language: bool = True
    timeout: float | None = None
    order: str = "longest_idle"

    @property
    def agent_only(self) -> bool:
        """Its agent condition reads only the agent, so one answer per agent holds for
        every task (the engine caches it)."""
        return self.agents is not None and self.agents.variables <= {"agent"}

    @property
    def targets(self) -> tuple[str, tuple[str, ...], bool] | None:
        """For a condition that names its agents (``agent.id == customer.case_owner``,
        ``agent.id in customer.last_agents``, optionally ``&& ...``): where the task keeps
        their ids (``customer`` or ``task``, the path, whether it is a list). The engine
        indexes such tasks by those agents instead of asking every agent."""
        return _targets(self.agents.source) if self.agents is not None else None


def _targets(source: str) -> tuple[str, tuple[str, ...], bool] | None:
    match = _TARGETS.match(source)
    if match is None or (match.group(4) is not None and any(
            sign in match.group(4) for sign in ("||", "?"))):  # an `or` would widen it
        return None
    return match.group(2), tuple(match.group(3).split(".")[1:]), match.group(1) == "in"


@dataclass(frozen=True, slots=True)
class PriorityRule:
    when: Condition | None
    add: int


@dataclass(frozen=True, slots=True)
class Queue:
    name: str
    channels: tuple[str, ...]
    sl_seconds: float = 20.0
    sl_target: float = 80.0
    ageing_points: float = 1.0  # priority points gained ...
    ageing_every: float = 10.0  # ... per this many seconds of waiting
    reservation_timeout: float = 20.0
    wrap_up: float = 30.0
    priority: tuple[PriorityRule, ...] = ()
    steps: tuple[Step, ...] = (Step("all"),)

    @property
    def ageing_rate(self) -> float:
        return self.ageing_points / self.ageing_every if self.ageing_every > 0 else 0.0


@dataclass(frozen=True, slots=True)
class AbandonRule:
    when: Condition | None
    action: str
    queue: str | None = None
    priority: int = 0
    delay: float = 0.0


@dataclass(frozen=True, slots=True)
class AbandonPolicy:
    short_abandon: float = 5.0
    recontact_window: float = 4 * 3600.0
    callback_attempts: int = 3
    retry_after: float = 900.0
    rules: tuple[AbandonRule, ...] = ()


@dataclass(frozen=True, slots=True)
class AgentSpec:
    id: str
    name: str | None
    site: str
    skills: Mapping[str, int]
    languages: tuple[str, ...]
    queues: tuple[str, ...]
    teams: tuple[str, ...]
    capacity: Mapping[str, int]
    wrap_up: float | None


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    skills: frozenset[str]
    queues: Mapping[str, Queue]
    abandoned: AbandonPolicy = AbandonPolicy()
    exclusive_channels: frozenset[str] = frozenset({"voice"})
    agents: tuple[AgentSpec, ...] = ()
    source: Any = None  # the document as loaded, to store and show back

    def queue(self, name: str) -> Queue:
        return self.queues[name]

    def conditions(self) -> Iterator[Condition]:
        """Every rule of the policy, for their error counts."""
        for queue in self.queues.values():
            yield from (rule.when for rule in queue.priority if rule.when is not None)
            for step in queue.steps:
                yield from (c for c in (step.when, step.agents) if c is not None)
        yield from (rule.when for rule in self.abandoned.rules if rule.when is not None)

    def as_fifo(self) -> RoutingConfig:
        """The same queues and hard requirements in plain arrival order: no priority rules,
        no ageing, no conditional steps. The simulator's baseline."""
        fifo = {}
        for name, queue in self.queues.items():
            last = queue.steps[-1]
            step = Step("fifo", skills=last.skills, language=last.language)
            fifo[name] = replace(queue, priority=(), ageing_points=0.0, steps=(step,))
        return replace(self, queues=fifo)


EMPTY = RoutingConfig(skills=frozenset(), queues={})


# -- loading -----------------------------------------------------------------------------

def parse_yaml(text: str, origin: str = "") -> RoutingConfig:
    """Load a routing file; errors say ``origin: line N: path: reason``."""
    data, where = documents.load_yaml(text, origin, PolicyError)
    return build(data, where)


def parse_data(data: Any) -> RoutingConfig:
    """Load a routing document already parsed (a JSON body); errors name the path."""
    return build(data, Where({}, ""))


def duration(value: Any, where: str) -> float:
    """Seconds from ``30``, ``"30s"``, ``"2m"``, ``"4h"``; negative or unreadable is refused."""
    return documents.duration(value, where, PolicyError)


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PolicyError(f"{where}: expected a mapping")
    return {str(k): v for k, v in value.items()}


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PolicyError(f"{where}: expected a list")
    return value


def _fields(data: dict[str, Any], allowed: set[str], where: Where, *path: Any) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise PolicyError(f"{where(*path, unknown[0])}: unknown field "
                          f"(expected one of {', '.join(sorted(allowed))})")


def _int(value: Any, where: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError(f"{where}: expected a whole number")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise PolicyError(f"{where}: must be {bound}")
    return value


def _condition(text: Any, where: str, allowed: frozenset[str],
               skills: frozenset[str]) -> Condition:
    if not isinstance(text, str | bool) or text == "":
        raise PolicyError(f"{where}: expected a CEL expression")
    condition = documents.condition(str(text).lower() if isinstance(text, bool) else text,
                                    where, allowed, PolicyError)
    source = condition.source
    for pattern in _SKILL_REFS:
        for name in pattern.findall(source):
            if name not in skills:
                raise PolicyError(f"{where}: unknown skill '{name}'")
    return condition


def _skills(value: Any, where: Callable[..., str], skills: frozenset[str], *path: Any
            ) -> dict[str, int]:
    out = {}
    for name, level in _mapping(value, where(*path)).items():
        if name not in skills:
            raise PolicyError(f"{where(*path, name)}: unknown skill '{name}' "
                              f"(declared: {', '.join(sorted(skills)) or 'none'})")
        out[name] = _int(level, where(*path, name), 1, 5)
    return out


def _step(raw: Any, where: Where, skills: frozenset[str], path: tuple[Any, ...],
          last: bool) -> Step:
    data = _mapping(raw, where(*path))
    _fields(data, {"name", "when", "agents", "skills", "language", "timeout", "order"},
            where, *path)
    order = data.get("order", "longest_idle")
    if order not in ORDERS:
        raise PolicyError(f"{where(*path, 'order')}: unknown ordering '{order}' "
                          f"(expected one of {', '.join(ORDERS)})")
    timeout = None
    if data.get("timeout") is not None:
        timeout = duration(data["timeout"], where(*path, "timeout"))
        if timeout <= 0:
            raise PolicyError(f"{where(*path, 'timeout')}: must be longer than zero")
    elif not last:
        raise PolicyError(f"{where(*path)}: every step but the last needs a timeout")
    language = data.get("language", True)
    if not isinstance(language, bool):
        raise PolicyError(f"{where(*path, 'language')}: expected true or false")
    return Step(
        name=str(data.get("name") or f"step {path[-1] + 1}"),
        when=_condition(data["when"], where(*path, "when"), TASK_VARS, skills)
        if "when" in data else None,
        agents=_condition(data["agents"], where(*path, "agents"), ALL_VARS, skills)
        if "agents" in data else None,
        skills=_skills(data.get("skills"), where, skills, *path, "skills"),
        language=language, timeout=timeout, order=order,
    )


def _queue(name: str, raw: Any, where: Where, skills: frozenset[str]) -> Queue:
    path: tuple[Any, ...] = ("queues", name)
    data = _mapping(raw, where(*path))
    _fields(data, {"channels", "service_level", "ageing", "reservation_timeout", "wrap_up",
                   "priority", "steps"}, where, *path)
    channels = tuple(str(c) for c in _list(data.get("channels", ["voice"]),
                                           where(*path, "channels")))
    for i, channel in enumerate(channels):
        if channel not in CHANNELS:
            raise PolicyError(f"{where(*path, 'channels', i)}: unknown channel '{channel}' "
                              f"(expected one of {', '.join(CHANNELS)})")
    if not channels:
        raise PolicyError(f"{where(*path, 'channels')}: a queue needs at least one channel")
    sl = _mapping(data.get("service_level"), where(*path, "service_level"))
    _fields(sl, {"seconds", "target"}, where, *path, "service_level")
    sl_seconds = duration(sl.get("seconds", 20), where(*path, "service_level", "seconds"))
    sl_target = sl.get("target", 80)
    if isinstance(sl_target, bool) or not isinstance(sl_target, int | float) \
            or not 0 < sl_target <= 100:
        raise PolicyError(f"{where(*path, 'service_level', 'target')}: "
                          "a percentage between 0 and 100")
    ageing = _mapping(data.get("ageing"), where(*path, "ageing"))
    _fields(ageing, {"points", "every"}, where, *path, "ageing")
    points = ageing.get("points", 1)
    if isinstance(points, bool) or not isinstance(points, int | float) or points < 0:
        raise PolicyError(f"{where(*path, 'ageing', 'points')}: a number of at least 0")
    every = duration(ageing.get("every", 10), where(*path, "ageing", "every"))
    if every <= 0:
        raise PolicyError(f"{where(*path, 'ageing', 'every')}: must be longer than zero")
    rules = []
    for i, rule in enumerate(_list(data.get("priority"), where(*path, "priority"))):
        rule_data = _mapping(rule, where(*path, "priority", i))
        _fields(rule_data, {"when", "add"}, where, *path, "priority", i)
        if "add" not in rule_data:
            raise PolicyError(f"{where(*path, 'priority', i)}: needs 'add' (priority points)")
        add = _int(rule_data["add"], where(*path, "priority", i, "add"), -1000, 1000)
        when = _condition(rule_data["when"], where(*path, "priority", i, "when"), TASK_VARS,
                          skills) if "when" in rule_data else None
        rules.append(PriorityRule(when, add))
    raw_steps = _list(data.get("steps"), where(*path, "steps")) or [{"name": "all"}]
    steps = tuple(_step(s, where, skills, (*path, "steps", i), i == len(raw_steps) - 1)
                  for i, s in enumerate(raw_steps))
    timeout = duration(data.get("reservation_timeout", 20),
                       where(*path, "reservation_timeout"))
    if timeout <= 0:
        raise PolicyError(f"{where(*path, 'reservation_timeout')}: must be longer than zero")
    return Queue(
        name=name, channels=channels, sl_seconds=sl_seconds, sl_target=float(sl_target),
        ageing_points=float(points), ageing_every=every, reservation_timeout=timeout,
        wrap_up=duration(data.get("wrap_up", 30), where(*path, "wrap_up")),
        priority=tuple(rules), steps=steps,
    )


def _abandoned(raw: Any, where: Where, skills: frozenset[str],
               queues: Mapping[str, Queue]) -> AbandonPolicy:
    data = _mapping(raw, where("abandoned"))
    _fields(data, {"short_abandon", "recontact_window", "callback_attempts", "retry_after",
                   "rules"}, where, "abandoned")
    rules = []
    for i, rule in enumerate(_list(data.get("rules"), where("abandoned", "rules"))):
        path = ("abandoned", "rules", i)
        rule_data = _mapping(rule, where(*path))
        _fields(rule_data, {"when", "action", "queue", "priority", "delay"}, where, *path)
        action = rule_data.get("action")
        if action not in ABANDON_ACTIONS:
            raise PolicyError(f"{where(*path, 'action')}: expected one of "
                              f"{', '.join(ABANDON_ACTIONS)}")
        queue = rule_data.get("queue")
        if queue is not None and queue not in queues:
            raise PolicyError(f"{where(*path, 'queue')}: unknown queue '{queue}'")
        if action in ("callback", "winback") and queue is not None \
                and "voice" not in queues[queue].channels:
            raise PolicyError(f"{where(*path, 'queue')}: queue '{queue}' takes no voice "
                              "tasks, so it cannot hold callbacks")
        rules.append(AbandonRule(
            when=_condition(rule_data["when"], where(*path, "when"), TASK_VARS, skills)
            if "when" in rule_data else None,
            action=action, queue=queue,
            priority=_int(rule_data.get("priority", 0), where(*path, "priority"), -1000, 1000),
            delay=duration(rule_data.get("delay", 0), where(*path, "delay")),
        ))
    return AbandonPolicy(
        short_abandon=duration(data.get("short_abandon", 5), where("abandoned",
                                                                    "short_abandon")),
        recontact_window=duration(data.get("recontact_window", "4h"),
                                  where("abandoned", "recontact_window")),
        callback_attempts=_int(data.get("callback_attempts", 3),
                               where("abandoned", "callback_attempts"), 1, 20),
        retry_after=duration(data.get("retry_after", "15m"), where("abandoned", "retry_after")),
        rules=tuple(rules),
    )


def agent_spec(raw: Any, where: str, config: RoutingConfig,
               at: Callable[..., str] | None = None) -> AgentSpec:
    """One agent's definition (from the file or the API), checked against the config. ``at``
    names one of its fields (from a file: with the field's own line)."""
    here = at or Where({}, f"{where}.")
    data = _mapping(raw, where)
    allowed = {"id", "name", "site", "skills", "languages", "queues", "teams", "capacity",
               "wrap_up"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise PolicyError(f"{here(unknown[0])}: unknown field")
    agent_id = data.get("id")
    if not isinstance(agent_id, str) or not re.fullmatch(r"[A-Za-z0-9_.@-]{1,64}", agent_id):
        raise PolicyError(f"{here('id')}: 1-64 letters, digits or _.@-")
    skills = _skills(data.get("skills"), here, config.skills, "skills")
    queues = tuple(str(q) for q in _list(data.get("queues"), here("queues")))
    for queue in queues:
        if queue not in config.queues:
            raise PolicyError(f"{here('queues')}: unknown queue '{queue}'")
    capacity = dict(DEFAULT_CAPACITY)
    for channel, count in _mapping(data.get("capacity"), here("capacity")).items():
        if channel not in CHANNELS:
            raise PolicyError(f"{here('capacity', channel)}: unknown channel")
        capacity[channel] = _int(count, here("capacity", channel), 0, 100)
    languages = tuple(str(x).lower() for x in _list(data.get("languages"),
                                                    here("languages")))
    wrap_up = (duration(data["wrap_up"], here("wrap_up"))
               if data.get("wrap_up") is not None else None)
    return AgentSpec(
        id=agent_id, name=str(data["name"]) if data.get("name") else None,
        site=str(data.get("site") or "main"), skills=skills, languages=languages,
        queues=queues, teams=tuple(str(x) for x in _list(data.get("teams"), here("teams"))),
        capacity=capacity, wrap_up=wrap_up,
    )


def build(data: Any, where: Where) -> RoutingConfig:
    if not isinstance(data, dict):
        raise PolicyError(f"{where()}: expected a mapping with 'queues'")
    _fields(data, {"skills", "queues", "abandoned", "exclusive_channels", "agents"}, where)
    skills = frozenset(str(s) for s in _list(data.get("skills"), where("skills")))
    raw_queues = _mapping(data.get("queues"), where("queues"))
    if not raw_queues:
        raise PolicyError(f"{where('queues')}: define at least one queue")
    queues = {name: _queue(name, raw, where, skills) for name, raw in raw_queues.items()}
    exclusive = frozenset(str(c) for c in _list(data.get("exclusive_channels", ["voice"]),
                                                where("exclusive_channels")))
    for channel in exclusive:
        if channel not in CHANNELS:
            raise PolicyError(f"{where('exclusive_channels')}: unknown channel '{channel}'")
    config = RoutingConfig(skills=skills, queues=queues,
                           abandoned=_abandoned(data.get("abandoned"), where, skills, queues),
                           exclusive_channels=exclusive, source=data)
    agents = []
    seen = set()
    for i, raw in enumerate(_list(data.get("agents"), where("agents"))):
        spec = agent_spec(raw, where("agents", i), config, partial(where, "agents", i))
        if spec.id in seen:
            raise PolicyError(f"{where('agents', i, 'id')}: agent '{spec.id}' appears twice")
        seen.add(spec.id)
        agents.append(spec)
    return replace(config, agents=tuple(agents))
