"""A simulation scenario: one day of traffic (arrival rates per interval, what callers call
about, who they are, which language they speak) and the agents who answer it (groups by
skills, languages, queues and shift), with the routing policy to test.

Loaded and checked in one go, like the routing policy: every error names the file, the line and
the field, and says why. The format (examples/routing/*.yaml are complete examples)::

    name: text                    seed: 1    days: 1
    routing: policy.yaml          # relative to this file, or the policy itself inline
    day: {opens: "08:00", interval: 30m, calls_per_hour: [240, 320, ...]}
         # or one rate for the whole day: calls_per_hour: 720 with closes: "18:00"
    reasons:                      # what callers call about; shares add up to 1
      - {name: billing, queue: billing, share: 0.55, skills: {billing: 1},
         handle: {distribution: lognormal, mean: 240s, sd: 150s},
         patience: {distribution: exponential, mean: 180s}}   # no patience: never hangs up
    customers:                    # who calls; becomes ``customer`` in the policy's CEL
      - {name: vip, tier: vip, share: 0.12, attributes: {churn_risk: 0.1}}
    languages: {es: 0.7, en: 0.3}
    agents:                       # groups; languages default to every language of the mix
      - {group: morning-es, count: 8, skills: {billing: 3}, languages: [es],
         queues: [billing], teams: [vip], shift: {start: "08:00", end: "14:00"},
         wrap_up: 20s, capacity: {voice: 1}}   # wrap_up: the queue's unless given

Distributions are ``exponential`` (mean), ``lognormal`` (mean and sd) or ``fixed`` (mean).
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from circulo import docmodels, yaml_files
from circulo.docmodels import Doc, Duration, PositiveDuration, between, check, one_of
from circulo.documents import Where
from circulo.routing.policy import (
    DEFAULT_CAPACITY,
    PolicyError,
    RoutingConfig,
    build,
    parse_yaml,
)

DISTRIBUTIONS = ("exponential", "lognormal", "fixed")
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_SHARE_TOLERANCE = 1e-6


class ScenarioError(ValueError):
    """A scenario that cannot be simulated; the message names where and why."""


@dataclass(frozen=True, slots=True)
class Distribution:
    """A duration drawn per call: ``exponential`` (mean), ``lognormal`` (mean and sd, the usual
    shape of handle times) or ``fixed``. Seconds."""

    kind: str
    mean: float
    sd: float = 0.0

    def sampler(self, rng: random.Random) -> Callable[[], float]:
        if self.kind == "fixed" or self.mean == 0:
            value = self.mean
            return lambda: value
        if self.kind == "exponential":
            rate = 1.0 / self.mean
            return lambda: rng.expovariate(rate)
        # lognormal given by its own mean and sd, not by the underlying normal's
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        mu, sigma = math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2)
        return lambda: rng.lognormvariate(mu, sigma)


@dataclass(frozen=True, slots=True)
class Reason:
    """What a share of the callers call about: the queue it lands in, the skills it needs, how
    long it takes and how long those callers wait before hanging up (None: never)."""

    name: str
    queue: str
    channel: str
    share: float
    skills: Mapping[str, int]
    handle: Distribution
    patience: Distribution | None


@dataclass(frozen=True, slots=True)
class Profile:
    """A kind of customer: the share of callers and what the routing policy sees of them
    (``customer`` in CEL: the tier plus free attributes such as ``churn_risk``)."""

    name: str
    share: float
    tier: str
    customer: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class AgentGroup:
    name: str
    count: int
    skills: Mapping[str, int]
    languages: frozenset[str]
    queues: frozenset[str]
    teams: frozenset[str]
    capacity: Mapping[str, int]
    wrap_up: float | None  # None: the queue's
    start: float  # seconds after the day opens
    end: float


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    routing: RoutingConfig
    opens: float  # clock time of the day's start, seconds after midnight (labels only)
    interval: float
    calls_per_hour: tuple[float, ...]  # one rate per interval
    reasons: tuple[Reason, ...]
    profiles: tuple[Profile, ...]
    languages: Mapping[str, float]  # empty: callers carry no language
    groups: tuple[AgentGroup, ...]
    seed: int = 1
    days: int = 1

    @property
    def length(self) -> float:
        return self.interval * len(self.calls_per_hour)

    def clock(self, offset: float) -> str:
        """``HH:MM`` of a moment given in seconds after the day opens."""
        minutes = round((self.opens + offset) / 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    def expected_calls(self) -> float:
        return sum(rate * self.interval / 3600 for rate in self.calls_per_hour)


# -- loading -----------------------------------------------------------------------------

def load_scenario(path: Path) -> Scenario:
    """Read a scenario file; a ``routing:`` given as a file name is read relative to it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the scenario: {exc.strerror}") from exc
    return parse_scenario(text, str(path), path.parent)


def parse_scenario(text: str, origin: str = "", base: Path | None = None) -> Scenario:
    prefix = f"{origin}: " if origin else ""
    try:
        document = yaml_files.load(text)
    except yaml_files.YamlError as exc:
        raise ScenarioError(f"{prefix}{exc}") from exc
    try:
        return _Reader(Where(document.lines, prefix), document.lines, prefix,
                       base or Path.cwd()).scenario(document.data)
    except PolicyError as exc:  # a duration, or the routing document itself
        raise ScenarioError(str(exc)) from exc


# -- the document's shape ----------------------------------------------------------------

def _clock_text(value: str) -> bool:
    match = _CLOCK.match(value)
    return match is not None and int(match.group(2)) <= 59 and int(match.group(1)) <= 47


Clock = Annotated[str, check(_clock_text, 'expected a clock time such as "08:30"')]
Rate = Annotated[float, check(lambda v: v >= 0, "cannot be negative")]
Share = Annotated[float, check(lambda v: v > 0, "must be greater than zero")]
Level = Annotated[int, between(1, 5)]


def _whole(low: int) -> Any:
    return check(lambda v: v >= low, f"expected a whole number of at least {low}")


class DayDoc(Doc):
    opens: Clock = "00:00"
    closes: Clock | None = None
    interval: PositiveDuration = 1800.0
    calls_per_hour: Rate | list[Rate] = Field(description="one rate, or one per interval")


class DistributionDoc(Doc):
    distribution: Annotated[str, one_of("distribution", DISTRIBUTIONS)]
    mean: Duration
    sd: Duration | None = None


class ReasonDoc(Doc):
    name: str | None = None
    queue: str
    channel: str | None = None
    share: Share | None = None
    skills: dict[str, Level] | None = None
    handle: DistributionDoc = Field(description="the handle time distribution")
    patience: Annotated[DistributionDoc | None,
                        BeforeValidator(lambda v: None if v == "none" else v)] = None


class ProfileDoc(Doc):
    name: Annotated[str, check(bool, "needs a name")]
    share: Share | None = None
    tier: str | None = None
    attributes: dict[str, Any] | None = None


class ShiftDoc(Doc):
    start: Clock = Field(description='e.g. "08:00"')
    end: Clock = Field(description='e.g. "16:00"')


class GroupDoc(Doc):
    group: Annotated[str, check(lambda v: re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", v)
                                is not None, "a name of 1-40 letters, digits or _.-")]
    count: Annotated[int, _whole(1)]
    skills: dict[str, Level] | None = None
    languages: list[str] | None = None
    queues: list[str] | None = None
    teams: list[str] | None = None
    capacity: dict[str, Annotated[int, _whole(0)]] | None = None
    wrap_up: Duration | None = None
    shift: ShiftDoc | None = None


class ScenarioDoc(Doc):
    name: str | None = None
    seed: Annotated[int, _whole(0)] = 1
    days: Annotated[int, _whole(1)] = 1
    routing: Any = Field(description="a policy file name or the policy itself")
    day: DayDoc
    reasons: list[ReasonDoc]
    customers: list[ProfileDoc] | None = None
    languages: dict[str, Share] | None = None
    agents: list[GroupDoc]


def _seconds_of(clock: str) -> float:
    hours, minutes = clock.strip().split(":")
    return int(hours) * 3600.0 + int(minutes) * 60.0


class _Reader:
    def __init__(self, where: Where, lines: dict[tuple[Any, ...], int], prefix: str,
                 base: Path) -> None:
        self.where = where
        self.lines = lines
        self.prefix = prefix
        self.base = base

    def fail(self, path: tuple[Any, ...], reason: str) -> ScenarioError:
        return ScenarioError(f"{self.where(*path)}: {reason}")

    def shares(self, values: list[float], path: tuple[Any, ...], what: str) -> None:
        total = sum(values)
        if abs(total - 1.0) > _SHARE_TOLERANCE:
            raise self.fail(path, f"the shares of {what} add up to {total:g}, expected 1")

    def share(self, value: float | None, count: int, path: tuple[Any, ...]) -> float:
        if value is None and count > 1:
            raise self.fail(path, "needs 'share'")
        return 1.0 if value is None else value

    # -- sections ---------------------------------------------------------------------------

    def scenario(self, data: Any) -> Scenario:
        if not isinstance(data, dict) or not data:
            raise self.fail((), "expected a mapping with 'routing', 'day', 'reasons' and "
                                "'agents'")
        doc = docmodels.validate(ScenarioDoc, data, self.where, ScenarioError)
        routing = self.routing(doc.routing)
        opens, interval, rates = self.day(doc.day)
        reasons = self.reasons(doc.reasons, routing)
        profiles = self.profiles(doc.customers)
        languages = self.languages(doc.languages)
        groups = self.groups(doc.agents, routing, languages, opens,
                             opens + interval * len(rates))
        self.coverage(reasons, languages, groups, routing)
        return Scenario(
            name=doc.name or "scenario", routing=routing, opens=opens, interval=interval,
            calls_per_hour=rates, reasons=reasons, profiles=profiles, languages=languages,
            groups=groups, seed=doc.seed, days=doc.days,
        )

    def routing(self, value: Any) -> RoutingConfig:
        if isinstance(value, str):
            path = self.base / value
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise self.fail(("routing",), f"cannot read the routing policy {path}: "
                                              f"{exc.strerror}") from exc
            return parse_yaml(text, str(path))
        if not isinstance(value, dict):
            raise self.fail(("routing",), "expected a policy file name or an inline mapping")
        # inline: the routing loader's own checks, with this file's line numbers
        inner = {path[1:]: line for path, line in self.lines.items()
                 if path and path[0] == "routing"}
        return build(value, Where(inner, self.prefix))

    def day(self, day: DayDoc) -> tuple[float, float, tuple[float, ...]]:
        opens, interval = _seconds_of(day.opens), day.interval
        closes = _seconds_of(day.closes) if day.closes is not None else None
        if closes is not None and closes <= opens:
            raise self.fail(("day", "closes"), "the day closes before it opens")
        if isinstance(day.calls_per_hour, list):
            if not day.calls_per_hour:
                raise self.fail(("day", "calls_per_hour"), "needs at least one rate")
            rates = tuple(day.calls_per_hour)
            if closes is not None and abs(opens + interval * len(rates) - closes) > 1e-6:
                raise self.fail(("day", "closes"), f"{len(rates)} intervals of "
                                f"{interval / 60:g} min do not end at {day.closes}")
        else:
            if closes is None:
                raise self.fail(("day",), "a single 'calls_per_hour' needs 'closes'")
            count = (closes - opens) / interval
            if abs(count - round(count)) > 1e-6:
                raise self.fail(("day", "interval"), "the day is not a whole number of "
                                                     "intervals")
            rates = (day.calls_per_hour,) * round(count)
        if not any(rates):
            raise self.fail(("day", "calls_per_hour"), "no calls at all in the day")
        return opens, interval, rates

    def distribution(self, doc: DistributionDoc, path: tuple[Any, ...]) -> Distribution:
        kind, mean = doc.distribution, doc.mean
        sd = 0.0
        if kind == "lognormal":
            if doc.sd is None:
                raise self.fail(path, "a lognormal needs 'sd' (its standard deviation)")
            sd = doc.sd
            if mean <= 0:
                raise self.fail((*path, "mean"), "a lognormal needs a mean above zero")
        elif doc.sd is not None:
            raise self.fail((*path, "sd"), f"an {kind} distribution takes only 'mean'"
                            if kind == "exponential" else "a fixed value takes only 'mean'")
        if kind == "exponential" and mean <= 0:
            raise self.fail((*path, "mean"), "an exponential needs a mean above zero")
        return Distribution(kind, mean, sd)

    def skills(self, levels: Mapping[str, int] | None, path: tuple[Any, ...],
               routing: RoutingConfig) -> dict[str, int]:
        for name in levels or {}:
            if name not in routing.skills:
                raise self.fail((*path, name), f"unknown skill '{name}' (the policy declares "
                                f"{', '.join(sorted(routing.skills)) or 'none'})")
        return dict(levels or {})

    def reasons(self, docs: list[ReasonDoc], routing: RoutingConfig) -> tuple[Reason, ...]:
        if not docs:
            raise self.fail(("reasons",), "needs at least one reason for calling")
        reasons = []
        for i, doc in enumerate(docs):
            path: tuple[Any, ...] = ("reasons", i)
            if doc.queue not in routing.queues:
                raise self.fail((*path, "queue"), f"unknown queue {doc.queue!r} "
                                f"(the policy has {', '.join(routing.queues)})")
            channels = routing.queues[doc.queue].channels
            channel = doc.channel or channels[0]
            if channel not in channels:
                raise self.fail((*path, "channel"), f"queue '{doc.queue}' takes "
                                f"{', '.join(channels)}, not {channel}")
            reasons.append(Reason(
                name=doc.name or doc.queue, queue=doc.queue, channel=channel,
                share=self.share(doc.share, len(docs), path),
                skills=self.skills(doc.skills, (*path, "skills"), routing),
                handle=self.distribution(doc.handle, (*path, "handle")),
                patience=None if doc.patience is None else
                self.distribution(doc.patience, (*path, "patience")),
            ))
        self.shares([r.share for r in reasons], ("reasons",), "the reasons")
        return tuple(reasons)

    def profiles(self, docs: list[ProfileDoc] | None) -> tuple[Profile, ...]:
        if not docs:
            return (Profile("standard", 1.0, "standard", {"tier": "standard"}),)
        profiles = []
        for i, doc in enumerate(docs):
            tier = doc.tier or doc.name
            profiles.append(Profile(
                name=doc.name, tier=tier, customer={**(doc.attributes or {}), "tier": tier},
                share=self.share(doc.share, len(docs), ("customers", i)),
            ))
        names = [p.name for p in profiles]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise self.fail(("customers", i, "name"), f"'{name}' appears twice")
        self.shares([p.share for p in profiles], ("customers",), "the customers")
        return tuple(profiles)

    def languages(self, shares: Mapping[str, float] | None) -> dict[str, float]:
        languages = {name.lower(): share for name, share in (shares or {}).items()}
        if languages:
            self.shares(list(languages.values()), ("languages",), "the languages")
        return languages

    def groups(self, docs: list[GroupDoc], routing: RoutingConfig,
               languages: Mapping[str, float], opens: float, closes: float
               ) -> tuple[AgentGroup, ...]:
        if not docs:
            raise self.fail(("agents",), "needs at least one group of agents")
        groups: list[AgentGroup] = []
        for i, doc in enumerate(docs):
            path: tuple[Any, ...] = ("agents", i)
            if any(g.name == doc.group for g in groups):
                raise self.fail((*path, "group"), f"group '{doc.group}' appears twice")
            for j, queue in enumerate(doc.queues or ()):
                if queue not in routing.queues:
                    raise self.fail((*path, "queues", j), f"unknown queue '{queue}'")
            queues = list(doc.queues or ()) or list(routing.queues)
            spoken = frozenset(x.lower() for x in doc.languages or ())
            capacity = {c: DEFAULT_CAPACITY[c] for q in queues for c in routing.queues[q].channels}
            for channel, count in (doc.capacity or {}).items():
                if channel not in DEFAULT_CAPACITY:
                    raise self.fail((*path, "capacity", channel), "unknown channel")
                capacity[channel] = count
            start, end = self.shift(doc.shift, (*path, "shift"), opens, closes)
            groups.append(AgentGroup(
                name=doc.group, count=doc.count,
                skills=self.skills(doc.skills, (*path, "skills"), routing),
                # a monolingual center need not repeat its one language on every group
                languages=spoken or frozenset(languages),
                queues=frozenset(queues), teams=frozenset(doc.teams or ()),
                capacity=capacity, wrap_up=doc.wrap_up, start=start, end=end,
            ))
        return tuple(groups)

    def shift(self, doc: ShiftDoc | None, path: tuple[Any, ...], opens: float, closes: float
              ) -> tuple[float, float]:
        if doc is None:
            return 0.0, closes - opens
        start, end = _seconds_of(doc.start), _seconds_of(doc.end)
        if end <= start:
            raise self.fail((*path, "end"), f"the shift ends ({doc.end}) before it starts "
                                            f"({doc.start})")
        if start < opens:
            raise self.fail((*path, "start"), "the shift starts before the day opens")
        if start >= closes:
            raise self.fail((*path, "start"), "the shift starts after the day closes")
        return start - opens, end - opens

    def coverage(self, reasons: tuple[Reason, ...], languages: Mapping[str, float],
                 groups: tuple[AgentGroup, ...], routing: RoutingConfig) -> None:
        """Calls nobody could ever answer are a typo far more often than a plan."""
        for language in languages:
            if not any(language in g.languages for g in groups):
                raise self.fail(("languages", language),
                                f"no agent group speaks '{language}'")
        for i, reason in enumerate(reasons):
            last = routing.queues[reason.queue].steps[-1]
            needs = {**reason.skills}
            for skill, level in last.skills.items():
                needs[skill] = max(level, needs.get(skill, 0))
            able = [g for g in groups if reason.queue in g.queues
                    and g.capacity.get(reason.channel, 0) > 0
                    and all(g.skills.get(s, 0) >= lv for s, lv in needs.items())]
            if not able:
                wanted = ", ".join(f"{s} {lv}" for s, lv in sorted(needs.items())) or "none"
                raise self.fail(("reasons", i), f"no agent group takes queue '{reason.queue}' "
                                f"with the skills it needs ({wanted})")
            for language in languages if last.language else ():
                if not any(language in g.languages for g in able):
                    raise self.fail(("reasons", i), f"no agent group able to take queue "
                                    f"'{reason.queue}' speaks '{language}'")
