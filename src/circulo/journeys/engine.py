"""Journey evaluation: an event or a due timer, with what is known of the customer, in;
decisions out. Pure: no database, no clock (``now`` is given), no side effects.

The service (``journeys.service``) loads the customer's state and waiting instances, calls
the engine, and applies what it decided in one transaction: new and changed instances, the
customer's counters, and the actions, each with a key (``instance:step:n``) that makes it
happen once. The same engine replays history for ``circulo journeys try``.

Counters: for each ``count(...)`` of an active journey, the customer's state keeps the times
of the matching events inside the window (trimmed as it goes), so a count is a list length,
never a scan of history. Counts start when a journey that needs them is switched on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import cel

from circulo.documents import Condition
from circulo.journeys.definition import Action, CountSpec, Journey, Step, Wait
from circulo.journeys.triggers import TriggerIndex, matches_any

MIDNIGHT_KEEP = 2 * 86400.0  # since-midnight counts keep two days: every time zone's today


def spec_id(spec: CountSpec) -> str:
    """Identical counts share one counter, across journeys and versions (the key the
    definition gives them, without its leading letter)."""
    return spec.key[1:]


@dataclass(slots=True)
class CustomerState:
    """What the journeys keep per customer: counter times, entries (for caps), the running
    instance of each journey, and how often each was entered (for ``reentry: never``)."""

    counts: dict[str, list[float]] = field(default_factory=dict)
    entries: dict[str, list[float]] = field(default_factory=dict)
    active: dict[str, str] = field(default_factory=dict)
    entered: dict[str, int] = field(default_factory=dict)
    offers: list[dict[str, Any]] = field(default_factory=list)  # callback slots offered

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> CustomerState:
        data = data or {}
        return cls({k: list(v) for k, v in (data.get("counts") or {}).items()},
                   {k: list(v) for k, v in (data.get("entries") or {}).items()},
                   dict(data.get("active") or {}), dict(data.get("entered") or {}),
                   list(data.get("offers") or []))

    def to_json(self) -> dict[str, Any]:
        return {"counts": {k: v for k, v in self.counts.items() if v},
                "entries": {k: v for k, v in self.entries.items() if v},
                "active": self.active, "entered": self.entered, "offers": self.offers}


@dataclass(slots=True)
class Instance:
    """One customer's way through one version of a journey."""

    id: str
    journey: str
    version: int
    customer_id: str | None
    step: str
    entered_at: float
    status: str = "running"  # running | waiting | done
    due_at: float | None = None  # when the current wait gives up or ends
    waiting_for: tuple[str, ...] = ()
    vars: dict[str, Any] = field(default_factory=dict)  # the trigger event, action outputs
    exit: str | None = None  # the step it ended on ("<step>:timeout" when a wait gave up)
    ended_at: float | None = None


@dataclass(frozen=True, slots=True)
class Effect:
    """An action to apply for an instance; ``key`` makes it happen once."""

    instance_id: str
    journey: str
    version: int
    customer_id: str | None
    step: str
    index: int
    action: Action

    @property
    def key(self) -> str:
        return f"{self.instance_id}:{self.step}:{self.index}"


@dataclass(frozen=True, slots=True)
class RuleFailure:
    journey: str
    rule: str  # where it is in the journey: ``steps[0].branch[0].when``
    condition: str
    reason: str


def _holds(condition: Condition, context: Any, journey: str, decisions: Decisions) -> bool:
    """The condition's answer; a failure other than missing data is also a decision's
    error, so the journey's rule errors show it."""
    held, reason = condition.evaluate(context)
    if reason is not None:
        decisions.errors.append(RuleFailure(journey, condition.where, condition.source, reason))
    return held


@dataclass(slots=True)
class Decisions:
    started: list[Instance] = field(default_factory=list)
    changed: list[Instance] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    stats: Counter[tuple[str, str]] = field(default_factory=Counter)  # (journey, what)
    # rules that could not be evaluated: (journey, the rule's place, the condition, reason)
    errors: list[RuleFailure] = field(default_factory=list)

    def extend(self, other: Decisions) -> None:
        self.started += other.started
        self.changed += other.changed
        self.effects += other.effects
        self.stats.update(other.stats)
        self.errors += other.errors


def local_midnight(now: float, tz: ZoneInfo) -> float:
    local = datetime.fromtimestamp(now, tz)
    return datetime.combine(local.date(), time(0), tz).timestamp()


def next_clock(now: float, hhmm: str, tz: ZoneInfo) -> float:
    """The next moment (after ``now``) the customer's clock reads ``hh:mm``."""
    hours, minutes = (int(p) for p in hhmm.split(":"))
    local = datetime.fromtimestamp(now, tz)
    target = datetime.combine(local.date(), time(hours, minutes), tz)
    if target.timestamp() <= now:
        target = datetime.combine(local.date() + timedelta(days=1), time(hours, minutes), tz)
    return target.timestamp()


class Engine:
    """The journeys in force (``active``: their triggers start instances) and every version
    an instance may still run on (``versions``)."""

    def __init__(self, active: Sequence[Journey], versions: Mapping[tuple[str, int], Journey],
                 active_versions: Mapping[str, int]) -> None:
        self.active = {j.key: j for j in active}
        self.versions = dict(versions)
        self.active_versions = dict(active_versions)
        self.triggers: TriggerIndex[Journey] = TriggerIndex()
        self.audiences: TriggerIndex[Journey] = TriggerIndex()  # events of no one, fanned out
        self.specs: TriggerIndex[tuple[str, CountSpec]] = TriggerIndex()
        self.waits: TriggerIndex[str] = TriggerIndex()
        # how long each counter keeps its times: the longest window any active journey needs
        self.keep: dict[str, float] = {}
        self.counted_by: dict[str, list[str]] = {}  # counter -> the journeys that read it
        for journey in active:
            (self.audiences if journey.audience else self.triggers).add(journey.triggers,
                                                                         journey)
            for spec in journey.counts:
                ident = spec_id(spec)
                span = MIDNIGHT_KEEP if spec.since_midnight else float(spec.within or 0)
                if ident not in self.keep:
                    self.specs.add(spec.types, (ident, spec))
                self.keep[ident] = max(self.keep.get(ident, 0.0), span)
                self.counted_by.setdefault(ident, []).append(journey.key)
        for (key, _), journey in self.versions.items():
            for step in journey.steps:
                if step.wait is not None and step.wait.for_types:
                    self.waits.add(step.wait.for_types, key)

    # -- what an event concerns ---------------------------------------------------------------
    def watches(self, event_type: str) -> bool:
        """Whether any journey could start, count or wake on this type (the ingest filter)."""
        return bool(self.triggers.matching(event_type) or self.specs.matching(event_type)
                    or self.waits.matching(event_type) or self.audiences.matching(event_type))

    # -- counters -----------------------------------------------------------------------------
    def count(self, state: CustomerState, event: Mapping[str, Any], at: float,
              decisions: Decisions) -> None:
        """Add the event to the customer's counters it belongs to."""
        for ident, spec in self.specs.matching(str(event["type"])):
            if spec.where is not None:
                held, reason = spec.where.evaluate({"event": event})
                if reason is not None:  # an error of each journey that counts this way
                    decisions.errors += [
                        RuleFailure(key, f"{spec.where.where}: count() where",
                                    spec.where.source, reason)
                        for key in self.counted_by.get(ident, [])]
                if not held:
                    continue
            times = state.counts.setdefault(ident, [])
            times.append(at)
            times.sort()

    def trim(self, state: CustomerState, now: float) -> None:
        """Forget counter times no window still needs, and counters of journeys switched off.
        Costs the customer's counters, not the number of journeys."""
        for ident in list(state.counts):
            if ident not in self.keep:
                del state.counts[ident]
                continue
            floor = now - self.keep[ident]
            state.counts[ident] = [t for t in state.counts[ident] if t > floor]

    def counts(self, journey: Journey, state: CustomerState, now: float, tz: ZoneInfo
               ) -> dict[str, int]:
        values = {}
        for spec in journey.counts:
            times = state.counts.get(spec_id(spec), [])
            floor = local_midnight(now, tz) if spec.since_midnight \
                else now - float(spec.within or 0)
            values[spec.key] = sum(1 for t in times if floor <= t <= now + 1e-6)
        return values

    # -- an event -----------------------------------------------------------------------------
    def on_event(self, event: Mapping[str, Any], customer: Mapping[str, Any],
                 state: CustomerState, waiting: Iterable[Instance], *, now: float,
                 tz: ZoneInfo, new_id: Any) -> Decisions:
        """The customer's event: count it, wake the instances waiting for it, and start the
        journeys it triggers whose conditions hold."""
        decisions = Decisions()
        occurred = _timestamp(event.get("occurred_at"), now)
        self.count(state, event, occurred, decisions)
        self.trim(state, now)
        for instance in waiting:
            self._wake(instance, event, customer, state, now, tz, decisions)
        journeys = self.triggers.matching(str(event["type"]))
        shared: list[Any] = []

        def context() -> Any:
            """One CEL context for every journey this event may start: the event and the
            customer are converted for CEL once, not once per journey."""
            if not shared:
                counts: dict[str, int] = {}
                for journey in journeys:
                    counts.update(self.counts(journey, state, now, tz))
                shared.append(cel.Context(variables={"event": event, "customer": customer,
                                                     "counts": counts}))
            return shared[0]

        for journey in journeys:
            self.enter(journey, event, customer, state, now=now, tz=tz, new_id=new_id,
                       decisions=decisions, context=context)
        return decisions

    @staticmethod
    def audience(journey: Journey, event: Mapping[str, Any],
                 records: Iterable[tuple[str, Mapping[str, Any]]], decisions: Decisions
                 ) -> dict[str, Mapping[str, Any]]:
        """Whom an event of no one concerns for an audience journey: each customer with an
        open record where the audience's condition holds, with the first such record (the
        caller gives them newest first)."""
        assert journey.audience is not None  # noqa: S101
        where = journey.audience.where
        chosen: dict[str, Mapping[str, Any]] = {}
        for customer_id, record in records:
            if customer_id in chosen:
                continue
            if where is None or _holds(where, {"record": record, "event": event},
                                       journey.key, decisions):
                chosen[customer_id] = record
        return chosen

    def enter(self, journey: Journey, event: Mapping[str, Any], customer: Mapping[str, Any],
              state: CustomerState, *, now: float, tz: ZoneInfo, new_id: Any,
              extra: Mapping[str, Any] | None = None,
              decisions: Decisions | None = None,
              context: Callable[[], Any] | None = None) -> Decisions:
        """Start ``journey`` for this customer if its limits and condition allow."""
        decisions = decisions if decisions is not None else Decisions()
        key = journey.key
        if (event.get("properties") or {}).get("journey") == key:
            return decisions  # never re-enter on what this journey itself did
        if key in state.active and journey.reentry != "always":
            decisions.stats[(key, "skipped:already_in")] += 1
            return decisions
        if journey.reentry == "never" and state.entered.get(key):
            decisions.stats[(key, "skipped:reentry")] += 1
            return decisions
        if journey.cap is not None:
            most, per = journey.cap
            recent = [t for t in state.entries.get(key, []) if t > now - per]
            state.entries[key] = recent
            if len(recent) >= most:
                decisions.stats[(key, "skipped:cap")] += 1
                return decisions
        if journey.when is not None:
            variables = context() if context is not None and not extra else {
                "event": event, "customer": customer,
                "counts": self.counts(journey, state, now, tz), **(extra or {})}
            if not _holds(journey.when, variables, key, decisions):
                return decisions
        instance = Instance(new_id(), key, self.active_versions.get(key, 0),
                            customer.get("id"), journey.steps[0].name, now,
                            vars={"event": dict(event), **(extra or {})})
        state.active[key] = instance.id
        state.entered[key] = state.entered.get(key, 0) + 1
        if journey.cap is not None:
            state.entries.setdefault(key, []).append(now)
        decisions.started.append(instance)
        decisions.stats[(key, "entered")] += 1
        self._advance(journey, instance, journey.steps[0], event, customer, state, now, tz,
                      decisions)
        return decisions

    def _wake(self, instance: Instance, event: Mapping[str, Any], customer: Mapping[str, Any],
              state: CustomerState, now: float, tz: ZoneInfo, decisions: Decisions) -> None:
        journey = self.versions.get((instance.journey, instance.version))
        if journey is None or instance.status != "waiting":
            return
        step = journey.step(instance.step)
        wait = step.wait
        if wait is None or not wait.for_types or not matches_any(wait.for_types,
                                                                 str(event["type"])):
            return
        if wait.where is not None:
            context = {"event": event, "customer": customer, "journey": instance.vars,
                       "counts": self.counts(journey, state, now, tz)}
            if not _holds(wait.where, context, journey.key, decisions):
                return
        instance.vars.setdefault("events", {})[step.name] = dict(event)
        target = step.on_event or self._after(journey, step, event, customer, instance,
                                              state, now, tz, decisions)
        self._resume(journey, instance, target, event, customer, state, now, tz, decisions)

    # -- a timer ------------------------------------------------------------------------------
    def on_timer(self, instance: Instance, customer: Mapping[str, Any], state: CustomerState,
                 *, now: float, tz: ZoneInfo) -> Decisions:
        """The instance's wait is over: a wait for an event gave up (``on_timeout``), a
        pause or a wait until a time of day ended (the next step)."""
        decisions = Decisions()
        journey = self.versions.get((instance.journey, instance.version))
        if journey is None or instance.status != "waiting":
            return decisions
        self.trim(state, now)
        step = journey.step(instance.step)
        event = instance.vars.get("event") or {}
        if step.wait is not None and step.wait.for_types:
            if step.on_timeout is None:
                self._finish(instance, f"{step.name}:timeout", state, now, decisions)
                return decisions
            target: str | None = step.on_timeout
        else:
            target = self._after(journey, step, event, customer, instance, state, now, tz,
                                 decisions)
        self._resume(journey, instance, target, event, customer, state, now, tz, decisions)
        return decisions

    # -- walking the steps --------------------------------------------------------------------
    def _resume(self, journey: Journey, instance: Instance, target: str | None,
                event: Mapping[str, Any], customer: Mapping[str, Any], state: CustomerState,
                now: float, tz: ZoneInfo, decisions: Decisions) -> None:
        instance.due_at, instance.waiting_for = None, ()
        instance.status = "running"
        if instance not in decisions.started and instance not in decisions.changed:
            decisions.changed.append(instance)
        if target is None:
            self._finish(instance, instance.step, state, now, decisions)
            return
        self._advance(journey, instance, journey.step(target), event, customer, state, now,
                      tz, decisions)

    def _advance(self, journey: Journey, instance: Instance, step: Step,
                 event: Mapping[str, Any], customer: Mapping[str, Any], state: CustomerState,
                 now: float, tz: ZoneInfo, decisions: Decisions) -> None:
        """Do steps until one waits or the journey ends (no cycles: this always stops)."""
        while True:
            instance.step = step.name
            for index, action in enumerate(step.actions):
                decisions.effects.append(Effect(instance.id, journey.key, instance.version,
                                                instance.customer_id, step.name, index,
                                                action))
            if step.wait is not None:
                wait = step.wait
                if wait.date is not None:
                    due = date_due(wait, {"event": event, "customer": customer,
                                          "journey": instance.vars}, now, tz)
                    if due is None:  # no such date, or it has passed
                        self._finish(instance, f"{step.name}:no_date", state, now, decisions)
                        return
                    instance.status, instance.due_at = "waiting", due
                    return
                instance.status = "waiting"
                instance.waiting_for = wait.for_types
                if wait.until is not None:
                    instance.due_at = next_clock(now, wait.until, tz)
                else:
                    span = wait.up_to if wait.for_types else wait.duration
                    instance.due_at = now + float(span or 0.0)
                return
            target = self._after(journey, step, event, customer, instance, state, now, tz,
                                 decisions)
            if target is None:
                self._finish(instance, step.name, state, now, decisions)
                return
            step = journey.step(target)

    def _after(self, journey: Journey, step: Step, event: Mapping[str, Any],
               customer: Mapping[str, Any], instance: Instance, state: CustomerState,
               now: float, tz: ZoneInfo, decisions: Decisions) -> str | None:
        """Where a step leads once done: its branches, its jump, or the following step."""
        if step.end:
            return None
        if step.branches:
            context = {"event": event, "customer": customer, "journey": instance.vars,
                       "counts": self.counts(journey, state, now, tz)}
            for branch in step.branches:
                if branch.when is None or _holds(branch.when, context, journey.key, decisions):
                    return branch.go
        if step.go is not None:
            return step.go
        names = [s.name for s in journey.steps]
        position = names.index(step.name)
        return names[position + 1] if position + 1 < len(names) else None

    def _finish(self, instance: Instance, exit_: str, state: CustomerState, now: float,
                decisions: Decisions) -> None:
        instance.status = "done"
        instance.exit = exit_
        instance.ended_at = now
        instance.due_at, instance.waiting_for = None, ()
        if state.active.get(instance.journey) == instance.id:
            del state.active[instance.journey]
        if instance not in decisions.started and instance not in decisions.changed:
            decisions.changed.append(instance)
        decisions.stats[(instance.journey, f"exit:{exit_}")] += 1


def date_due(wait: Wait, context: Mapping[str, Any], now: float, tz: ZoneInfo
             ) -> float | None:
    """When a wait for a date ends: ``before`` ahead of the date (or of its next yearly
    return), at ``at`` local time; None when there is no date or it has passed."""
    value: Any = context
    for part in str(wait.date).split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    try:
        day = date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
    hours, minutes = (int(p) for p in wait.at.split(":"))
    local_now = datetime.fromtimestamp(now, tz)

    def moment(occasion: date) -> float:
        remind = occasion - timedelta(seconds=wait.before)
        return datetime.combine(remind, time(hours, minutes), tz).timestamp()

    if not wait.yearly:
        if day < local_now.date():
            return None
        return max(moment(day), now)  # a reminder already late goes out now
    for year in range(local_now.year, local_now.year + 3):
        try:
            occasion = day.replace(year=year)
        except ValueError:  # 29 February in a common year
            occasion = date(year, 2, 28)
        if moment(occasion) > now:
            return moment(occasion)
    return None


def _timestamp(value: Any, default: float) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return default
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    return default

