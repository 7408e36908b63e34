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
from typing import Any

from circulo import yaml_files
from circulo.documents import Where
from circulo.routing.policy import (
    DEFAULT_CAPACITY,
    PolicyError,
    RoutingConfig,
    build,
    duration,
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


class _Reader:
    def __init__(self, where: Where, lines: dict[tuple[Any, ...], int], prefix: str,
                 base: Path) -> None:
        self.where = where
        self.lines = lines
        self.prefix = prefix
        self.base = base

    def fail(self, path: tuple[Any, ...], reason: str) -> ScenarioError:
        return ScenarioError(f"{self.where(*path)}: {reason}")

    def mapping(self, value: Any, path: tuple[Any, ...], allowed: set[str] | None = None
                ) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(path, "expected a mapping")
        data = {str(k): v for k, v in value.items()}
        unknown = sorted(set(data) - allowed) if allowed is not None else []
        if unknown:
            raise self.fail((*path, unknown[0]),
                            f"unknown field (expected one of {', '.join(sorted(allowed or ()))})")
        return data

    def items(self, value: Any, path: tuple[Any, ...]) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(path, "expected a list")
        return value

    def number(self, value: Any, path: tuple[Any, ...], *, positive: bool = False) -> float:
        if value is None and isinstance(path[-1], str):
            raise self.fail(path[:-1], f"needs '{path[-1]}'")
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise self.fail(path, f"expected a number, got {value!r}")
        if value < 0 or (positive and value == 0):
            raise self.fail(path, "must be greater than zero" if positive
                            else "cannot be negative")
        return float(value)

    def whole(self, value: Any, path: tuple[Any, ...], low: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.fail(path, f"expected a whole number of at least {low}")
        return value

    def seconds(self, value: Any, path: tuple[Any, ...], *, positive: bool = False) -> float:
        seconds = duration(value, self.where(*path))
        if positive and seconds <= 0:
            raise self.fail(path, "must be longer than zero")
        return seconds

    def clock(self, value: Any, path: tuple[Any, ...]) -> float:
        match = _CLOCK.match(str(value)) if isinstance(value, str) else None
        if match is None or int(match.group(2)) > 59 or int(match.group(1)) > 47:
            raise self.fail(path, f"expected a clock time such as \"08:30\", got {value!r}")
        return int(match.group(1)) * 3600.0 + int(match.group(2)) * 60.0

    def shares(self, values: list[float], path: tuple[Any, ...], what: str) -> None:
        total = sum(values)
        if abs(total - 1.0) > _SHARE_TOLERANCE:
            raise self.fail(path, f"the shares of {what} add up to {total:g}, expected 1")

    # -- sections ---------------------------------------------------------------------------

    def scenario(self, data: Any) -> Scenario:
        top = self.mapping(data, (), {"name", "seed", "days", "routing", "day", "reasons",
                                      "customers", "languages", "agents"})
        if not top:
            raise self.fail((), "expected a mapping with 'routing', 'day', 'reasons' and "
                                "'agents'")
        for required in ("routing", "day", "reasons", "agents"):
            if top.get(required) is None:
                raise self.fail((), f"missing '{required}'")
        routing = self.routing(top["routing"])
        opens, interval, rates = self.day(top["day"])
        reasons = self.reasons(top["reasons"], routing)
        profiles = self.profiles(top.get("customers"))
        languages = self.languages(top.get("languages"))
        groups = self.groups(top["agents"], routing, languages, opens,
                             opens + interval * len(rates))
        self.coverage(reasons, languages, groups, routing)
        return Scenario(
            name=str(top.get("name") or "scenario"), routing=routing, opens=opens,
            interval=interval, calls_per_hour=rates, reasons=reasons, profiles=profiles,
            languages=languages, groups=groups,
            seed=self.whole(top.get("seed", 1), ("seed",), 0),
            days=self.whole(top.get("days", 1), ("days",), 1),
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

    def day(self, value: Any) -> tuple[float, float, tuple[float, ...]]:
        day = self.mapping(value, ("day",), {"opens", "closes", "interval", "calls_per_hour"})
        opens = self.clock(day.get("opens", "00:00"), ("day", "opens"))
        interval = self.seconds(day.get("interval", "30m"), ("day", "interval"), positive=True)
        raw = day.get("calls_per_hour")
        if raw is None:
            raise self.fail(("day",), "missing 'calls_per_hour' (one rate, or one per interval)")
        closes = self.clock(day["closes"], ("day", "closes")) if "closes" in day else None
        if closes is not None and closes <= opens:
            raise self.fail(("day", "closes"), "the day closes before it opens")
        if isinstance(raw, list):
            if not raw:
                raise self.fail(("day", "calls_per_hour"), "needs at least one rate")
            rates = tuple(self.number(r, ("day", "calls_per_hour", i))
                          for i, r in enumerate(raw))
            if closes is not None and abs(opens + interval * len(rates) - closes) > 1e-6:
                raise self.fail(("day", "closes"), f"{len(rates)} intervals of "
                                f"{interval / 60:g} min do not end at {day['closes']}")
        else:
            if closes is None:
                raise self.fail(("day",), "a single 'calls_per_hour' needs 'closes'")
            count = (closes - opens) / interval
            if abs(count - round(count)) > 1e-6:
                raise self.fail(("day", "interval"), "the day is not a whole number of "
                                                     "intervals")
            rates = (self.number(raw, ("day", "calls_per_hour")),) * round(count)
        if not any(rates):
            raise self.fail(("day", "calls_per_hour"), "no calls at all in the day")
        return opens, interval, rates

    def distribution(self, value: Any, path: tuple[Any, ...]) -> Distribution:
        data = self.mapping(value, path, {"distribution", "mean", "sd"})
        kind = data.get("distribution")
        if kind not in DISTRIBUTIONS:
            raise self.fail((*path, "distribution"),
                            f"expected one of {', '.join(DISTRIBUTIONS)}, got {kind!r}")
        if "mean" not in data:
            raise self.fail(path, "needs 'mean'")
        mean = self.seconds(data["mean"], (*path, "mean"))
        sd = 0.0
        if kind == "lognormal":
            if "sd" not in data:
                raise self.fail(path, "a lognormal needs 'sd' (its standard deviation)")
            sd = self.seconds(data["sd"], (*path, "sd"))
            if mean <= 0:
                raise self.fail((*path, "mean"), "a lognormal needs a mean above zero")
        elif "sd" in data:
            raise self.fail((*path, "sd"), f"an {kind} distribution takes only 'mean'"
                            if kind == "exponential" else "a fixed value takes only 'mean'")
        if kind == "exponential" and mean <= 0:
            raise self.fail((*path, "mean"), "an exponential needs a mean above zero")
        return Distribution(kind, mean, sd)

    def skills(self, value: Any, path: tuple[Any, ...], routing: RoutingConfig
               ) -> dict[str, int]:
        out = {}
        for name, level in self.mapping(value, path).items():
            if name not in routing.skills:
                raise self.fail((*path, name), f"unknown skill '{name}' (the policy declares "
                                f"{', '.join(sorted(routing.skills)) or 'none'})")
            if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 5:
                raise self.fail((*path, name), "a proficiency between 1 and 5")
            out[name] = level
        return out

    def reasons(self, value: Any, routing: RoutingConfig) -> tuple[Reason, ...]:
        raw = self.items(value, ("reasons",))
        if not raw:
            raise self.fail(("reasons",), "needs at least one reason for calling")
        reasons = []
        for i, item in enumerate(raw):
            path: tuple[Any, ...] = ("reasons", i)
            data = self.mapping(item, path, {"name", "queue", "channel", "share", "skills",
                                             "handle", "patience"})
            if data.get("queue") is None:
                raise self.fail(path, "needs 'queue'")
            queue = str(data["queue"])
            if queue not in routing.queues:
                raise self.fail((*path, "queue"), f"unknown queue {data.get('queue')!r} "
                                f"(the policy has {', '.join(routing.queues)})")
            channels = routing.queues[queue].channels
            channel = str(data.get("channel", channels[0]))
            if channel not in channels:
                raise self.fail((*path, "channel"), f"queue '{queue}' takes "
                                f"{', '.join(channels)}, not {channel}")
            if "handle" not in data:
                raise self.fail(path, "needs 'handle' (the handle time distribution)")
            patience = data.get("patience")
            reasons.append(Reason(
                name=str(data.get("name") or queue), queue=queue, channel=channel,
                share=self.number(data.get("share", 1.0 if len(raw) == 1 else None),
                                  (*path, "share"), positive=True),
                skills=self.skills(data.get("skills"), (*path, "skills"), routing),
                handle=self.distribution(data["handle"], (*path, "handle")),
                patience=None if patience in (None, "none") else
                self.distribution(patience, (*path, "patience")),
            ))
        self.shares([r.share for r in reasons], ("reasons",), "the reasons")
        return tuple(reasons)

    def profiles(self, value: Any) -> tuple[Profile, ...]:
        raw = self.items(value, ("customers",))
        if not raw:
            return (Profile("standard", 1.0, "standard", {"tier": "standard"}),)
        profiles = []
        for i, item in enumerate(raw):
            path: tuple[Any, ...] = ("customers", i)
            data = self.mapping(item, path, {"name", "share", "tier", "attributes"})
            if not data.get("name"):
                raise self.fail(path, "needs 'name'")
            name = str(data["name"])
            tier = str(data.get("tier") or name)
            attributes = self.mapping(data.get("attributes"), (*path, "attributes"))
            profiles.append(Profile(
                name=name, tier=tier, customer={**attributes, "tier": tier},
                share=self.number(data.get("share", 1.0 if len(raw) == 1 else None),
                                  (*path, "share"), positive=True),
            ))
        names = [p.name for p in profiles]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise self.fail(("customers", i, "name"), f"'{name}' appears twice")
        self.shares([p.share for p in profiles], ("customers",), "the customers")
        return tuple(profiles)

    def languages(self, value: Any) -> dict[str, float]:
        data = self.mapping(value, ("languages",))
        languages = {name.lower(): self.number(share, ("languages", name), positive=True)
                     for name, share in data.items()}
        if languages:
            self.shares(list(languages.values()), ("languages",), "the languages")
        return languages

    def groups(self, value: Any, routing: RoutingConfig, languages: Mapping[str, float],
               opens: float, closes: float) -> tuple[AgentGroup, ...]:
        raw = self.items(value, ("agents",))
        if not raw:
            raise self.fail(("agents",), "needs at least one group of agents")
        groups: list[AgentGroup] = []
        for i, item in enumerate(raw):
            path: tuple[Any, ...] = ("agents", i)
            data = self.mapping(item, path, {"group", "count", "skills", "languages", "queues",
                                             "teams", "capacity", "wrap_up", "shift"})
            name = data.get("group")
            if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", name):
                raise self.fail((*path, "group"), "a name of 1-40 letters, digits or _.-")
            if any(g.name == name for g in groups):
                raise self.fail((*path, "group"), f"group '{name}' appears twice")
            queues = [str(q) for q in self.items(data.get("queues"), (*path, "queues"))]
            for j, queue in enumerate(queues):
                if queue not in routing.queues:
                    raise self.fail((*path, "queues", j), f"unknown queue '{queue}'")
            queues = queues or list(routing.queues)
            spoken = frozenset(str(x).lower() for x in
                               self.items(data.get("languages"), (*path, "languages")))
            capacity = {c: DEFAULT_CAPACITY[c] for q in queues for c in routing.queues[q].channels}
            for channel, count in self.mapping(data.get("capacity"),
                                               (*path, "capacity")).items():
                if channel not in DEFAULT_CAPACITY:
                    raise self.fail((*path, "capacity", channel), "unknown channel")
                capacity[channel] = self.whole(count, (*path, "capacity", channel), 0)
            start, end = self.shift(data.get("shift"), (*path, "shift"), opens, closes)
            groups.append(AgentGroup(
                name=name, count=self.whole(data.get("count"), (*path, "count"), 1),
                skills=self.skills(data.get("skills"), (*path, "skills"), routing),
                # a monolingual center need not repeat its one language on every group
                languages=spoken or frozenset(languages),
                queues=frozenset(queues),
                teams=frozenset(str(t) for t in self.items(data.get("teams"), (*path, "teams"))),
                capacity=capacity,
                wrap_up=self.seconds(data["wrap_up"], (*path, "wrap_up"))
                if data.get("wrap_up") is not None else None,
                start=start, end=end,
            ))
        return tuple(groups)

    def shift(self, value: Any, path: tuple[Any, ...], opens: float, closes: float
              ) -> tuple[float, float]:
        if value is None:
            return 0.0, closes - opens
        data = self.mapping(value, path, {"start", "end"})
        if "start" not in data or "end" not in data:
            raise self.fail(path, "needs 'start' and 'end', e.g. \"08:00\" and \"16:00\"")
        start = self.clock(data["start"], (*path, "start"))
        end = self.clock(data["end"], (*path, "end"))
        if end <= start:
            raise self.fail((*path, "end"), f"the shift ends ({data['end']}) before it starts "
                                            f"({data['start']})")
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
