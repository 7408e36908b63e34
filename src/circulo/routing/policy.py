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
from typing import Annotated, Any

from pydantic import Field

from circulo import docmodels, documents
from circulo.docmodels import CelText, Doc, Duration, PositiveDuration, between, check, one_of
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
class WrapupCode:
    """A disposition an agent may pick when wrapping up a task of the queue, with its labels."""

    code: str
    es: str
    en: str

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.es


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
    wrapup_codes: tuple[WrapupCode, ...] = ()  # none: any disposition (or none) is taken

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


# -- the document's shape ----------------------------------------------------------------

Level = Annotated[int, between(1, 5)]
Priority = Annotated[int, between(-1000, 1000)]
Channel = Annotated[str, one_of("channel", CHANNELS)]


class StepDoc(Doc):
    name: str | None = None
    when: CelText | None = None
    agents: CelText | None = None
    skills: dict[str, Level] | None = None
    language: bool = True
    timeout: PositiveDuration | None = None
    order: Annotated[str, one_of("ordering", ORDERS)] = "longest_idle"


class ServiceLevelDoc(Doc):
    seconds: Duration = 20.0
    target: Annotated[float, check(lambda v: 0 < v <= 100, "a percentage between 0 and 100")
                      ] = 80.0


class AgeingDoc(Doc):
    points: Annotated[float, check(lambda v: v >= 0, "a number of at least 0")] = 1.0
    every: PositiveDuration = 10.0


class PriorityRuleDoc(Doc):
    when: CelText | None = None
    add: Priority = Field(description="priority points")


class WrapupCodeDoc(Doc):
    code: Annotated[str, check(lambda v: re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,39}", v)
                               is not None, "1-40 lower-case letters, digits or _.-")]
    es: Annotated[str, check(lambda v: 0 < len(v.strip()) <= 80, "1-80 characters")]
    en: Annotated[str, check(lambda v: 0 < len(v.strip()) <= 80, "1-80 characters")]


class QueueDoc(Doc):
    channels: list[Channel] = Field(default_factory=lambda: ["voice"])
    service_level: ServiceLevelDoc | None = None
    ageing: AgeingDoc | None = None
    reservation_timeout: PositiveDuration = 20.0
    wrap_up: Duration = 30.0
    priority: list[PriorityRuleDoc] | None = None
    steps: list[StepDoc] | None = None
    wrapup_codes: list[WrapupCodeDoc] | None = None


class AbandonRuleDoc(Doc):
    when: CelText | None = None
    action: Annotated[str, one_of("action", ABANDON_ACTIONS)]
    queue: str | None = None
    priority: Priority = 0
    delay: Duration = 0.0


class AbandonedDoc(Doc):
    short_abandon: Duration = 5.0
    recontact_window: Duration = 4 * 3600.0
    callback_attempts: Annotated[int, between(1, 20)] = 3
    retry_after: Duration = 900.0
    rules: list[AbandonRuleDoc] | None = None


class AgentDoc(Doc):
    id: Annotated[str, check(lambda v: re.fullmatch(r"[A-Za-z0-9_.@-]{1,64}", v) is not None,
                             "1-64 letters, digits or _.@-")]
    name: str | None = None
    site: str | None = None
    skills: dict[str, Level] | None = None
    languages: list[str] | None = None
    queues: list[str] | None = None
    teams: list[str] | None = None
    capacity: dict[str, Annotated[int, between(0, 100)]] | None = None
    wrap_up: Duration | None = None


class PolicyDoc(Doc):
    skills: list[str] | None = None
    queues: dict[str, QueueDoc] | None = None
    abandoned: AbandonedDoc | None = None
    exclusive_channels: list[Channel] = Field(default_factory=lambda: ["voice"])
    agents: list[AgentDoc] | None = None


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


def _condition(text: str | None, where: str, allowed: frozenset[str],
               skills: frozenset[str]) -> Condition | None:
    if text is None:
        return None
    condition = documents.condition(text, where, allowed, PolicyError)
    for pattern in _SKILL_REFS:
        for name in pattern.findall(condition.source):
            if name not in skills:
                raise PolicyError(f"{where}: unknown skill '{name}'")
    return condition


def _skills(levels: Mapping[str, int] | None, where: Callable[..., str],
            skills: frozenset[str], *path: Any) -> dict[str, int]:
    for name in levels or {}:
        if name not in skills:
            raise PolicyError(f"{where(*path, name)}: unknown skill '{name}' "
                              f"(declared: {', '.join(sorted(skills)) or 'none'})")
    return dict(levels or {})


def _step(doc: StepDoc, where: Where, skills: frozenset[str], path: tuple[Any, ...],
          last: bool) -> Step:
    if doc.timeout is None and not last:
        raise PolicyError(f"{where(*path)}: every step but the last needs a timeout")
    return Step(
        name=doc.name or f"step {path[-1] + 1}",
        when=_condition(doc.when, where(*path, "when"), TASK_VARS, skills),
        agents=_condition(doc.agents, where(*path, "agents"), ALL_VARS, skills),
        skills=_skills(doc.skills, where, skills, *path, "skills"),
        language=doc.language, timeout=doc.timeout, order=doc.order,
    )


def _queue(name: str, doc: QueueDoc, where: Where, skills: frozenset[str]) -> Queue:
    path: tuple[Any, ...] = ("queues", name)
    if not doc.channels:
        raise PolicyError(f"{where(*path, 'channels')}: a queue needs at least one channel")
    sl, ageing = doc.service_level or ServiceLevelDoc(), doc.ageing or AgeingDoc()
    rules = tuple(PriorityRule(_condition(rule.when, where(*path, "priority", i, "when"),
                                          TASK_VARS, skills), rule.add)
                  for i, rule in enumerate(doc.priority or ()))
    raw_steps = doc.steps or [StepDoc(name="all")]
    steps = tuple(_step(s, where, skills, (*path, "steps", i), i == len(raw_steps) - 1)
                  for i, s in enumerate(raw_steps))
    return Queue(
        name=name, channels=tuple(doc.channels), sl_seconds=sl.seconds,
        sl_target=sl.target, ageing_points=ageing.points, ageing_every=ageing.every,
        reservation_timeout=doc.reservation_timeout, wrap_up=doc.wrap_up, priority=rules,
        steps=steps, wrapup_codes=_wrapup_codes(doc.wrapup_codes or [], where, path),
    )


def _wrapup_codes(docs: list[WrapupCodeDoc], where: Where, path: tuple[Any, ...]
                  ) -> tuple[WrapupCode, ...]:
    seen: set[str] = set()
    for i, doc in enumerate(docs):
        if doc.code in seen:
            raise PolicyError(f"{where(*path, 'wrapup_codes', i, 'code')}: code "
                              f"'{doc.code}' appears twice")
        seen.add(doc.code)
    return tuple(WrapupCode(d.code, d.es.strip(), d.en.strip()) for d in docs)


def _abandoned(doc: AbandonedDoc, where: Where, skills: frozenset[str],
               queues: Mapping[str, Queue]) -> AbandonPolicy:
    rules = []
    for i, rule in enumerate(doc.rules or ()):
        path = ("abandoned", "rules", i)
        queue = rule.queue
        if queue is not None and queue not in queues:
            raise PolicyError(f"{where(*path, 'queue')}: unknown queue '{queue}'")
        if rule.action in ("callback", "winback") and queue is not None \
                and "voice" not in queues[queue].channels:
            raise PolicyError(f"{where(*path, 'queue')}: queue '{queue}' takes no voice "
                              "tasks, so it cannot hold callbacks")
        rules.append(AbandonRule(
            when=_condition(rule.when, where(*path, "when"), TASK_VARS, skills),
            action=rule.action, queue=queue, priority=rule.priority, delay=rule.delay,
        ))
    return AbandonPolicy(short_abandon=doc.short_abandon,
                         recontact_window=doc.recontact_window,
                         callback_attempts=doc.callback_attempts, retry_after=doc.retry_after,
                         rules=tuple(rules))


def agent_spec(raw: Any, where: str, config: RoutingConfig) -> AgentSpec:
    """One agent's definition from the API, checked against the config; errors name the
    field after ``where``."""
    here = Where({}, f"{where}.")
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: expected a mapping")
    return _agent(docmodels.validate(AgentDoc, raw, here, PolicyError), here, config)


def _agent(doc: AgentDoc, here: Callable[..., str], config: RoutingConfig) -> AgentSpec:
    """An agent's definition checked against the config; ``here`` names one of its fields."""
    skills = _skills(doc.skills, here, config.skills, "skills")
    for queue in doc.queues or ():
        if queue not in config.queues:
            raise PolicyError(f"{here('queues')}: unknown queue '{queue}'")
    capacity = dict(DEFAULT_CAPACITY)
    for channel, count in (doc.capacity or {}).items():
        if channel not in CHANNELS:
            raise PolicyError(f"{here('capacity', channel)}: unknown channel")
        capacity[channel] = count
    return AgentSpec(
        id=doc.id, name=doc.name or None, site=doc.site or "main", skills=skills,
        languages=tuple(x.lower() for x in doc.languages or ()),
        queues=tuple(doc.queues or ()), teams=tuple(doc.teams or ()), capacity=capacity,
        wrap_up=doc.wrap_up,
    )


def build(data: Any, where: Where) -> RoutingConfig:
    if not isinstance(data, dict):
        raise PolicyError(f"{where()}: expected a mapping with 'queues'")
    doc = docmodels.validate(PolicyDoc, data, where, PolicyError)
    skills = frozenset(doc.skills or ())
    if not doc.queues:
        raise PolicyError(f"{where('queues')}: define at least one queue")
    queues = {name: _queue(name, queue, where, skills) for name, queue in doc.queues.items()}
    config = RoutingConfig(skills=skills, queues=queues,
                           abandoned=_abandoned(doc.abandoned or AbandonedDoc(), where,
                                                skills, queues),
                           exclusive_channels=frozenset(doc.exclusive_channels), source=data)
    agents = []
    seen = set()
    for i, agent in enumerate(doc.agents or ()):
        spec = _agent(agent, partial(where, "agents", i), config)
        if spec.id in seen:
            raise PolicyError(f"{where('agents', i, 'id')}: agent '{spec.id}' appears twice")
        seen.add(spec.id)
        agents.append(spec)
    return replace(config, agents=tuple(agents))
