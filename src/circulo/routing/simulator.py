"""A discrete-event simulation of contact-center days, driven through the real routing engine
(``Router``) with a simulated clock.

The calls of a day (arrival, reason, customer, language, handle time, patience) are drawn first
from a seeded ``random.Random``; the configured policy and its plain-FIFO version then answer
the very same calls. Common random numbers: the difference between the two runs is the policy,
not the luck of the draw. Answering is immediate (the agent accepts the offer at once), the
agent stays busy for the handle time plus the wrap-up, and a caller whose patience runs out
while still waiting hangs up. Agents log in at the start of their shift and log out at its end
once their current contact is over; those still on shift when the day closes answer the calls
already waiting (arrivals stop at closing time, answering does not).
"""

from __future__ import annotations

import heapq
import math
import random
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from circulo.routing.engine import Agent, Router, Task
from circulo.routing.erlang import Prediction, predict
from circulo.routing.policy import RoutingConfig
from circulo.routing.scenario import Scenario

# Event kinds; at the same instant an agent who frees up is counted before one who leaves.
_FREE, _SHIFT_END, _SHIFT_START, _ABANDON = range(4)
_WAITING, _ANSWERED, _ABANDONED = range(3)
_PROGRESS_EVERY = 2000  # calls between two progress reports

Progress = Callable[[int], None]  # called with the number of calls just simulated


@dataclass(frozen=True, slots=True)
class Call:
    arrival: float  # seconds after the day opens
    reason: int  # index in scenario.reasons
    profile: int  # index in scenario.profiles
    language: str | None
    handle: float
    patience: float  # math.inf: never hangs up
    interval: int


@dataclass(slots=True)
class Tally:
    """Counts of one segment; the figures are derived so that tallies add up across days."""

    offered: int = 0
    answered: int = 0
    within: int = 0  # answered within the queue's service-level threshold
    abandoned: int = 0
    waited: float = 0.0  # total wait of the answered calls, seconds

    @property
    def service_level(self) -> float | None:
        """Percent of the answered calls answered within the threshold (the spec's SL)."""
        return 100.0 * self.within / self.answered if self.answered else None

    @property
    def asa(self) -> float | None:
        return self.waited / self.answered if self.answered else None

    @property
    def abandon_rate(self) -> float | None:
        return 100.0 * self.abandoned / self.offered if self.offered else None

    def add(self, other: Tally) -> None:
        self.offered += other.offered
        self.answered += other.answered
        self.within += other.within
        self.abandoned += other.abandoned
        self.waited += other.waited


Segment = tuple[str, str]  # (dimension, value): ("all", ""), ("tier", "vip"), ...


@dataclass(slots=True)
class RunResult:
    label: str  # "policy" or "fifo"
    segments: dict[Segment, Tally] = field(default_factory=dict)
    intervals: list[Tally] = field(default_factory=list)
    busy: dict[str, float] = field(default_factory=dict)  # per agent group, seconds
    logged: dict[str, float] = field(default_factory=dict)
    calls: int = 0
    seconds: float = 0.0  # wall time spent simulating

    def occupancy(self, group: str | None = None) -> float | None:
        """Percent of logged-in time with at least one contact (handle or wrap-up)."""
        names = [group] if group else list(self.logged)
        logged = sum(self.logged.get(n, 0.0) for n in names)
        return 100.0 * sum(self.busy.get(n, 0.0) for n in names) / logged if logged else None

    def tally(self, dimension: str, value: str = "") -> Tally:
        return self.segments.get((dimension, value), Tally())


@dataclass(frozen=True, slots=True)
class Comparison:
    scenario: Scenario
    seed: int
    days: int
    policy: RunResult
    fifo: RunResult


# -- the day's calls ---------------------------------------------------------------------

def generate_day(scenario: Scenario, rng: random.Random) -> list[Call]:
    """Poisson arrivals at a constant rate within each interval (memoryless, so restarting the
    clock at every interval boundary is exact), each with its mix and durations drawn."""
    reason_cum = list(accumulate(r.share for r in scenario.reasons))
    profile_cum = list(accumulate(p.share for p in scenario.profiles))
    languages = list(scenario.languages)
    language_cum = list(accumulate(scenario.languages.values()))
    handles = [r.handle.sampler(rng) for r in scenario.reasons]
    patiences = [r.patience.sampler(rng) if r.patience else None for r in scenario.reasons]
    draw = rng.random
    calls: list[Call] = []
    for index, per_hour in enumerate(scenario.calls_per_hour):
        start = index * scenario.interval
        end = start + scenario.interval
        if per_hour <= 0:
            continue
        rate = per_hour / 3600.0
        now = start + rng.expovariate(rate)
        while now < end:
            # bisect on the running shares; min() guards the last share's rounding
            reason = min(bisect_right(reason_cum, draw() * reason_cum[-1]), len(reason_cum) - 1)
            profile = min(bisect_right(profile_cum, draw() * profile_cum[-1]),
                          len(profile_cum) - 1)
            language = languages[min(bisect_right(language_cum, draw() * language_cum[-1]),
                                     len(languages) - 1)] if languages else None
            patience = patiences[reason]
            calls.append(Call(now, reason, profile, language, handles[reason](),
                              patience() if patience else math.inf, index))
            now += rng.expovariate(rate)
    return calls


def day_rng(seed: int, day: int) -> random.Random:
    """One independent, reproducible stream per (seed, day); string seeds hash with SHA-512,
    the same on every run and platform."""
    return random.Random(f"circulo-sim:{seed}:{day}")  # noqa: S311 - simulation, not secrets


# -- one run -----------------------------------------------------------------------------

@dataclass(slots=True)
class _Staff:
    agent: Agent
    group: str
    start: float
    end: float
    wrap_up: float | None
    load: int = 0
    busy_since: float = 0.0
    busy: float = 0.0
    last_free: float = 0.0


def _staff(scenario: Scenario) -> list[_Staff]:
    return [_Staff(Agent(id=f"{group.name}-{n + 1:03d}", skills=dict(group.skills),
                         languages=group.languages, queues=group.queues, teams=group.teams,
                         capacity=dict(group.capacity)),
                   group.name, group.start, group.end, group.wrap_up)
            for group in scenario.groups for n in range(group.count)]


def run_day(scenario: Scenario, config: RoutingConfig, calls: Sequence[Call], result: RunResult,
            progress: Progress | None = None) -> None:
    """Answer one day of calls under ``config`` and add the outcome to ``result``."""
    started = time.perf_counter()
    router = Router(config)
    staff = _staff(scenario)
    by_id = {s.agent.id: n for n, s in enumerate(staff)}
    reasons = scenario.reasons
    queues = [config.queues[r.queue] for r in reasons]
    # one dict per profile, shared by its calls: the engine only reads them
    customers = [dict(p.customer) for p in scenario.profiles]
    status = [_WAITING] * len(calls)
    waits = [0.0] * len(calls)
    served_by = [0] * len(calls)
    # (time, kind, sequence, reference): the sequence keeps equal-time events in push order
    events: list[tuple[float, int, int, int]] = []
    seq = 0
    for n, member in enumerate(staff):
        events.append((member.start, _SHIFT_START, seq, n))
        # the center stops taking calls when the day closes, not answering them: whoever is
        # on shift then stays until nobody waits
        if member.end < scenario.length:
            events.append((member.end, _SHIFT_END, seq + 1, n))
        seq += 2
    heapq.heapify(events)
    push, pop = heapq.heappush, heapq.heappop
    dispatch, wakeup = router.dispatch, router.next_wakeup

    def answer(now: float) -> None:
        nonlocal seq
        for offer in dispatch(now):
            router.accept(offer.task_id)
            i = int(offer.task_id)
            call = calls[i]
            status[i] = _ANSWERED
            waits[i] = now - call.arrival
            n = by_id[offer.agent_id]
            member = staff[n]
            if member.load == 0:
                member.busy_since = now
            member.load += 1
            served_by[i] = n
            wrap = member.wrap_up if member.wrap_up is not None else queues[call.reason].wrap_up
            seq += 1
            push(events, (now + call.handle + wrap, _FREE, seq, i))

    next_call, total = 0, len(calls)
    inf = math.inf
    while True:
        t_call = calls[next_call].arrival if next_call < total else inf
        t_event = events[0][0] if events else inf
        now = t_call if t_call < t_event else t_event
        if now == inf:
            break
        # the engine's own timers (a step widening) that fall before the next event
        wake = wakeup()
        while wake is not None and wake < now:
            answer(wake)
            wake = wakeup()
        if t_call < t_event:
            call = calls[next_call]
            i = next_call
            next_call += 1
            reason = reasons[call.reason]
            router.admit(Task(id=str(i), queue=reason.queue, channel=reason.channel,
                              entered=now, skills=reason.skills, language=call.language,
                              customer=customers[call.profile]), now)
            if call.patience != inf:
                seq += 1
                push(events, (now + call.patience, _ABANDON, seq, i))
            if progress is not None and next_call % _PROGRESS_EVERY == 0:
                progress(_PROGRESS_EVERY)
        else:
            _, kind, _, ref = pop(events)
            if kind == _FREE:
                member = staff[served_by[ref]]
                member.load -= 1
                if member.load == 0:
                    member.busy += now - member.busy_since
                    member.last_free = now
                router.add_load(member.agent.id, reasons[calls[ref].reason].channel, -1, now)
            elif kind == _ABANDON:
                if status[ref] == _WAITING:
                    router.remove(str(ref))
                    status[ref] = _ABANDONED
            elif kind == _SHIFT_START:
                # agents join the engine when they log in, as in the live center
                router.upsert_agent(staff[ref].agent)
                router.set_available(staff[ref].agent.id, True, now)
            else:  # the agent leaves once their current contact is over (_FREE keeps count)
                router.set_available(staff[ref].agent.id, False, now)
        answer(now)
    if progress is not None:
        progress(total % _PROGRESS_EVERY)
    # callers nobody left on shift could take, and who would never hang up: unanswered
    for i, state in enumerate(status):
        if state == _WAITING:
            status[i] = _ABANDONED
    _tally(scenario, config, calls, status, waits, result)
    for member in staff:
        result.busy[member.group] = result.busy.get(member.group, 0.0) + member.busy
        logged = max(member.end, member.last_free) - member.start
        result.logged[member.group] = result.logged.get(member.group, 0.0) + logged
    result.calls += total
    result.seconds += time.perf_counter() - started


def segments_of(scenario: Scenario) -> list[Segment]:
    """The rows of the report, in a stable order: all, queues, tiers, customers, languages,
    reasons. A dimension with a single value would only repeat the first row, and customer
    profiles appear only when they say more than the tiers."""
    dimensions: list[tuple[str, list[str]]] = [
        ("queue", list(dict.fromkeys(r.queue for r in scenario.reasons))),
        ("tier", list(dict.fromkeys(p.tier for p in scenario.profiles))),
        ("customer", [p.name for p in scenario.profiles]
         if any(p.name != p.tier for p in scenario.profiles) else []),
        ("language", list(scenario.languages)),
        ("reason", [r.name for r in scenario.reasons]
         if len({r.name for r in scenario.reasons}) > len({r.queue for r in scenario.reasons})
         else []),
    ]
    rows: list[Segment] = [("all", "")]
    for dimension, values in dimensions:
        if len(values) > 1:
            rows += [(dimension, value) for value in values]
    return rows


def _keys(scenario: Scenario, call: Call) -> Iterator[Segment]:
    reason = scenario.reasons[call.reason]
    profile = scenario.profiles[call.profile]
    yield "all", ""
    yield "queue", reason.queue
    yield "tier", profile.tier
    yield "customer", profile.name
    if call.language is not None:
        yield "language", call.language
    yield "reason", reason.name


def _tally(scenario: Scenario, config: RoutingConfig, calls: Sequence[Call], status: list[int],
           waits: list[float], result: RunResult) -> None:
    wanted = set(segments_of(scenario))
    for key in segments_of(scenario):
        result.segments.setdefault(key, Tally())
    while len(result.intervals) < len(scenario.calls_per_hour):
        result.intervals.append(Tally())
    thresholds = [config.queues[r.queue].sl_seconds for r in scenario.reasons]
    # every call of one (reason, profile, language) lands in the same rows
    rows: dict[tuple[int, int, str | None], list[Tally]] = {}
    for i, call in enumerate(calls):
        combo = (call.reason, call.profile, call.language)
        targets = rows.get(combo)
        if targets is None:
            targets = rows[combo] = [result.segments[k] for k in _keys(scenario, call)
                                     if k in wanted]
        targets = [*targets, result.intervals[call.interval]]
        state = status[i]
        for tally in targets:
            tally.offered += 1
            if state == _ANSWERED:
                tally.answered += 1
                tally.waited += waits[i]
                if waits[i] <= thresholds[call.reason]:
                    tally.within += 1
            else:
                tally.abandoned += 1


# -- the comparison ----------------------------------------------------------------------

def compare(scenario: Scenario, *, seed: int | None = None, days: int | None = None,
            progress: Progress | None = None) -> Comparison:
    """The configured policy and its plain-FIFO version over the same calls, day by day."""
    seed = scenario.seed if seed is None else seed
    days = scenario.days if days is None else days
    fifo_config = scenario.routing.as_fifo()
    policy, fifo = RunResult("policy"), RunResult("fifo")
    for day in range(days):
        calls = generate_day(scenario, day_rng(seed, day))
        run_day(scenario, scenario.routing, calls, policy, progress)
        run_day(scenario, fifo_config, calls, fifo, progress)
    return Comparison(scenario, seed, days, policy, fifo)


def erlang_reference(scenario: Scenario) -> Prediction | None:
    """What Erlang C predicts, when the scenario is the case it describes: one queue, one
    constant arrival rate, exponential handle times, no wrap-up, callers who never hang up,
    every agent able to take every call for the whole day."""
    rates = set(scenario.calls_per_hour)
    if len(scenario.reasons) != 1 or len(rates) != 1:
        return None
    reason = scenario.reasons[0]
    queue = scenario.routing.queues[reason.queue]
    if reason.handle.kind != "exponential" or reason.patience is not None \
            or queue.wrap_up or len(scenario.languages) > 1:
        return None
    for group in scenario.groups:
        if group.start > 0 or group.end < scenario.length \
                or group.capacity.get(reason.channel, 0) != 1 \
                or (group.wrap_up or 0) > 0 or reason.queue not in group.queues:
            return None
        needs = {**queue.steps[-1].skills, **reason.skills}  # the FIFO run's only step
        if any(group.skills.get(s, 0) < lv for s, lv in needs.items()):
            return None
    agents = sum(g.count for g in scenario.groups)
    return predict(rates.pop(), reason.handle.mean, agents, queue.sl_seconds)
