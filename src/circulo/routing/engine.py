"""The routing engine: waiting tasks, agents and their free capacity, and the decisions that
match them. Pure and in memory: no database, no wall clock (time is a float of seconds passed
in), so the server's dispatcher and the simulator drive the very same code (ADR 0008).

Decisions:
- a task that arrives (or whose step widens) goes to the best eligible free agent under its
  current step, in the step's ordering (longest idle, proficiency, least occupied);
- an agent who frees up takes the highest-priority waiting task they are eligible for, across
  their queues. Priority is the policy's base priority plus ageing (points per second waited),
  so a low priority is never starved.

Within a queue all tasks age at the same rate, so ``base - rate * entered`` orders them once and
for all: each queue is a sorted list that never needs re-sorting as time passes.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sortedcontainers import SortedList

from circulo.routing.policy import Queue, RoutingConfig, Step

# a settled index group: channel, language, team, skill minimums, step number
GroupKey = tuple[str, str | None, str | None, tuple[tuple[str, int], ...], int]

REOFFER_AFTER = 60.0  # an agent who declined a task is not offered it again for this long

# An order of agents: ("idle",), ("occupancy",), or ("proficiency", skill, ...) in the skills
# a step needs; each queue keeps its agents with room in these orders (at most this many
# proficiency ones: past that, a task's agents are filtered and sorted each time).
Ordering = tuple[str, ...]
IDLE: Ordering = ("idle",)
OCCUPANCY: Ordering = ("occupancy",)
MAX_ORDERINGS = 16


def has_room(load: Mapping[str, int], capacity: Mapping[str, int], channel: str,
             exclusive: frozenset[str]) -> bool:
    """Whether one more task of ``channel`` fits: under the channel's capacity, and an
    exclusive channel (voice) is neither added to other work nor joined by any."""
    if load.get(channel, 0) >= capacity.get(channel, 0):
        return False
    if not any(load.values()):
        return True
    if channel in exclusive:
        return False
    return not any(load.get(c, 0) for c in exclusive)


def _order_key(agent: Agent, ordering: Ordering) -> tuple[Any, ...]:
    """Where an agent stands in an order (best first; ties go to the lower id)."""
    if ordering[0] == "occupancy":
        return (agent.occupancy(), agent.free_since, agent.id)
    if ordering[0] == "proficiency":
        return (-sum(agent.skills.get(skill, 0) for skill in ordering[1:]),
                agent.total_load > 0, agent.free_since, agent.id)
    return (agent.total_load > 0, agent.free_since, agent.id)


def _needs(task: Mapping[str, int], step: Mapping[str, int]) -> dict[str, int]:
    """The skill minimums a step asks of a task: the higher of the task's and the step's."""
    needs = dict(task)
    for skill, level in step.items():
        needs[skill] = max(level, needs.get(skill, 0))
    return needs


@dataclass(slots=True, eq=False)
class Agent:
    id: str
    site: str = "main"
    skills: Mapping[str, int] = field(default_factory=dict)
    languages: frozenset[str] = frozenset()
    queues: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()
    capacity: Mapping[str, int] = field(default_factory=dict)
    load: dict[str, int] = field(default_factory=dict)
    available: bool = False
    free_since: float = 0.0
    cel: dict[str, Any] = field(default_factory=dict)
    _verdicts: dict[int, bool] = field(default_factory=dict)
    # the keys it is filed under in its queues' orderings while it has room (see Router)
    _filed: dict[Ordering, tuple[Any, ...]] | None = None

    def __post_init__(self) -> None:
        self.cel = {"id": self.id, "site": self.site, "skills": dict(self.skills),
                    "languages": sorted(self.languages), "teams": sorted(self.teams),
                    "queues": sorted(self.queues)}

    @property
    def total_load(self) -> int:
        return sum(self.load.values())

    def occupancy(self) -> float:
        total = sum(self.capacity.values()) or 1
        return self.total_load / total

    def can_take(self, channel: str, exclusive: frozenset[str]) -> bool:
        return self.available and has_room(self.load, self.capacity, channel, exclusive)


@dataclass(slots=True, eq=False)
class Task:
    id: str
    queue: str
    channel: str = "voice"
    entered: float = 0.0  # when it started waiting (a callback: when it became due)
    priority: int = 0  # requested by the source; the policy adds its rules
    skills: Mapping[str, int] = field(default_factory=dict)
    language: str | None = None
    customer: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    kind: str = "contact"
    not_before: float | None = None
    team: str | None = None  # a routing override's dedicated team: only they take it
    boost: int = 0  # a routing override's priority boost
    declined: dict[str, float] = field(default_factory=dict)
    # set when admitted
    base: float = 0.0
    steps: tuple[tuple[float, Step, Mapping[str, int]], ...] = ()
    key: tuple[float, float, int] = (0.0, 0.0, 0)
    cel: dict[str, Any] = field(default_factory=dict)
    groups: tuple[SortedList, ...] = field(default=(), repr=False)  # indexes it waits in
    indexed_step: int = -1  # the step it is indexed under

    def step_at(self, now: float) -> tuple[int, Step, Mapping[str, int]]:
        steps, waited = self.steps, now - self.entered
        index = len(steps) - 1  # most waiting tasks are in their last, widest step
        while index and steps[index][0] > waited:
            index -= 1
        _, step, needs = steps[index]
        return index, step, needs


@dataclass(frozen=True, slots=True)
class Offer:
    task_id: str
    agent_id: str
    step: str
    priority: float
    rules: tuple[str, ...] = ()  # the priority rules that held: why this task came first


def _named(task: Task, root: str, path: tuple[str, ...], many: bool) -> list[str]:
    """The agent ids a targeting step names for this task (see ``Step.targets``)."""
    value: Any = task.customer if root == "customer" else task.cel
    for part in path:
        value = value.get(part) if isinstance(value, Mapping) else None
    if many:
        return sorted({str(v) for v in value}) if isinstance(value, list | tuple) else []
    return [str(value)] if isinstance(value, str | int) and not isinstance(value, bool) else []


class Router:
    """Waiting tasks and agents, for one routing configuration."""

    def __init__(self, config: RoutingConfig, reoffer_after: float = REOFFER_AFTER) -> None:
        self.config = config
        self.reoffer_after = reoffer_after
        self.agents: dict[str, Agent] = {}
        self.tasks: dict[str, Task] = {}  # waiting or scheduled
        self.reserved: dict[str, tuple[Task, str]] = {}  # offered, not yet accepted
        self.handle_time: dict[str, float] = {}  # per queue, a moving average (seconds)
        self.waiting: dict[str, SortedList] = {name: SortedList() for name in config.queues}
        self._scheduled: list[tuple[float, str]] = []
        self._timers: list[tuple[float, str]] = []
        self._seq = itertools.count()
        self._dirty_tasks: set[str] = set()
        self._dirty_agents: set[str] = set()
        self._room: dict[str, None] = {}  # available agents with room for some channel
        self._room_in: dict[str, dict[str, None]] = {name: {} for name in config.queues}
        # The same agents in the orders steps ask for (longest idle, least occupied, most
        # proficient in some skills): an arriving task walks them best first and stops at the
        # first that fits, instead of filtering and sorting all of them. Proficiency orders
        # are made when a step first needs them.
        self._ordered: dict[str, dict[Ordering, SortedList]] = {
            name: {IDLE: SortedList(), OCCUPANCY: SortedList()} for name in config.queues}
        # The same waiting tasks again, for the agent who frees up, grouped by what decides
        # whether an agent may take them in their current step regardless of the task itself
        # (channel, language, team, skill minimums, step): a group the agent cannot serve is
        # skipped whole. A task moves to another group when its step widens.
        self._groups: dict[str, dict[GroupKey, SortedList]] = {
            name: {} for name in config.queues}
        # Tasks in a step that names its agents (the case owner, the last agents), under
        # each agent named: nobody else looks at them.
        self._targeted: dict[str, dict[str, SortedList]] = {name: {} for name in config.queues}
        # the skill levels every step of a queue asks for: an agent below them skips the queue
        self._floors = {name: {skill: min(s.skills.get(skill, 0) for s in q.steps)
                               for skill in q.steps[0].skills} if q.steps else {}
                        for name, q in config.queues.items()}
        steps = [s for q in config.queues.values() for s in q.steps]
        self._step_ids = {id(step): n for n, step in enumerate(steps)}
        self._steps = steps
        self._targets = [step.targets for step in steps]

    # -- state ------------------------------------------------------------------------------

    def priority_of(self, task: Task) -> float:
        """The policy's base priority: the task's own, its rules, a routing override's boost."""
        queue = self.config.queues[task.queue]
        context = {"task": task.cel, "customer": task.customer}
        base = task.priority + task.boost
        for rule in queue.priority:
            if rule.when is None or rule.when.holds(context):
                base += rule.add
        return float(base)

    def rules_of(self, task: Task) -> tuple[str, ...]:
        """The queue's priority rules that hold for the task, as ``condition (+points)``:
        the routing explanation an agent reads on the offer."""
        queue = self.config.queues[task.queue]
        context = {"task": task.cel, "customer": task.customer}
        return tuple(f"{rule.when.source if rule.when is not None else 'always'} "
                     f"({rule.add:+d})" for rule in queue.priority
                     if rule.when is None or rule.when.holds(context))

    def admit(self, task: Task, now: float) -> None:
        """Put a task in its queue (or on the schedule, when it has a future ``not_before``)."""
        queue = self.config.queues[task.queue]
        if task.id in self.tasks:
            self.remove(task.id)
        task.cel = {"id": task.id, "queue": task.queue, "channel": task.channel,
                    "kind": task.kind, "priority": task.priority, "language": task.language,
                    "skills": dict(task.skills), "attributes": task.attributes,
                    # what reading the customer's message found (routing/signals.py): always
                    # present, so a rule such as ``task.urgent`` never meets missing data
                    "urgent": task.attributes.get("urgent") is True,
                    "sentiment": str(task.attributes.get("sentiment") or "unknown"),
                    "intent": str(task.attributes.get("intent") or "")}
        task.base = self.priority_of(task)
        context = {"task": task.cel, "customer": task.customer}
        steps = []
        start = 0.0
        for step in queue.steps:
            if step.when is not None and not step.when.holds(context):
                continue
            steps.append((start, step, _needs(task.skills, step.skills)))
            if step.timeout is None:
                break
            start += step.timeout
        if not steps:  # every step was conditional and none applies: the last one does
            last = queue.steps[-1]
            steps.append((0.0, last, _needs(task.skills, last.skills)))
        task.steps = tuple(steps)
        self.tasks[task.id] = task
        if task.not_before is not None:
            if task.not_before > now:
                heapq.heappush(self._scheduled, (task.not_before, task.id))
                return
            task.entered = max(task.entered, task.not_before)  # already due: as due() does
            task.not_before = None
        self._enqueue(task, queue, now)

    def _enqueue(self, task: Task, queue: Queue, now: float) -> None:
        task.key = (queue.ageing_rate * task.entered - task.base, task.entered, next(self._seq))
        self.waiting[task.queue].add((task.key, task.id))
        self._index(task, now)
        for start, _, _ in task.steps[1:]:
            heapq.heappush(self._timers, (task.entered + start, task.id))
        self._dirty_tasks.add(task.id)

    def _index(self, task: Task, now: float) -> None:
        entry = (task.key, task.id)
        for group in task.groups:
            group.discard(entry)
        task.indexed_step, step, needs = task.step_at(now)
        step_id = self._step_ids[id(step)]
        target = self._targets[step_id]
        if target is not None:
            targeted = self._targeted[task.queue]
            for agent_id in _named(task, *target):
                targeted.setdefault(agent_id, SortedList()).add(entry)
            task.groups = tuple(targeted[a] for a in _named(task, *target))
            return
        groups = self._groups[task.queue]
        key = (task.channel, task.language, task.team, tuple(sorted(needs.items())), step_id)
        group = groups.get(key)
        if group is None:
            group = groups[key] = SortedList()
        group.add(entry)
        task.groups = (group,)

    def remove(self, task_id: str) -> Task | None:
        task = self.tasks.pop(task_id, None)
        if task is not None:
            self.waiting[task.queue].discard((task.key, task.id))
            for group in task.groups:
                group.discard((task.key, task.id))
            task.groups = ()
            self._dirty_tasks.discard(task_id)
        return task

    def remove_agent(self, agent_id: str) -> None:
        agent = self.agents.pop(agent_id, None)
        if agent is not None:
            self._no_room(agent)
        self._dirty_agents.discard(agent_id)

    def upsert_agent(self, agent: Agent) -> None:
        agent._verdicts.clear()
        previous = self.agents.get(agent.id)
        if previous is not None:
            self._no_room(previous)  # their queues may have changed
        self.agents[agent.id] = agent
        self._dirty_agents.add(agent.id)
        self._touch(agent)

    def _touch(self, agent: Agent) -> None:
        """Keep the agents with room (overall, per queue, and in each queue's orders) in step
        with this agent. Call it after every change to its load, availability or
        ``free_since``."""
        if not self._has_room(agent):
            self._no_room(agent)
            return
        self._room[agent.id] = None
        keys: dict[Ordering, tuple[Any, ...]] = {}
        for queue in agent.queues:
            for ordering in self._ordered.get(queue, ()):
                if ordering not in keys:
                    keys[ordering] = _order_key(agent, ordering)
        if agent._filed == keys:
            return
        self._unfile(agent)
        for queue in agent.queues:
            room = self._room_in.get(queue)
            if room is not None:
                room[agent.id] = None
                for ordering, ordered in self._ordered[queue].items():
                    ordered.add(keys[ordering])
        agent._filed = keys

    def _unfile(self, agent: Agent) -> None:
        if agent._filed is None:
            return
        for queue in agent.queues:
            for ordering, ordered in self._ordered.get(queue, {}).items():
                key = agent._filed.get(ordering)
                if key is not None:
                    ordered.discard(key)
        agent._filed = None

    def _ordering(self, queue: str, step: Step, needs: Mapping[str, int]
                  ) -> SortedList | None:
        """The queue's agents with room in the step's order (made the first time a
        proficiency order is needed; None past ``MAX_ORDERINGS`` of them)."""
        if step.order == "least_occupied":
            ordering = OCCUPANCY
        elif step.order == "proficiency":
            ordering = ("proficiency", *sorted(needs))
        else:
            ordering = IDLE
        orderings = self._ordered[queue]
        ordered = orderings.get(ordering)
        if ordered is None and len(orderings) < MAX_ORDERINGS + 2:
            ordered = orderings[ordering] = SortedList()
            for agent_id in self._room_in[queue]:
                agent = self.agents[agent_id]
                key = _order_key(agent, ordering)
                ordered.add(key)
                if agent._filed is not None:
                    agent._filed[ordering] = key
        return ordered

    def _no_room(self, agent: Agent) -> None:
        self._room.pop(agent.id, None)
        for queue in agent.queues:
            room = self._room_in.get(queue)
            if room is not None:
                room.pop(agent.id, None)
        self._unfile(agent)

    def set_available(self, agent_id: str, available: bool, now: float) -> None:
        agent = self.agents[agent_id]
        if available and not agent.available:
            agent.free_since = now
            self._dirty_agents.add(agent_id)
        agent.available = available
        self._touch(agent)

    def add_load(self, agent_id: str, channel: str, delta: int, now: float) -> None:
        agent = self.agents.get(agent_id)
        if agent is None:
            return
        agent.load[channel] = max(0, agent.load.get(channel, 0) + delta)
        if delta < 0:
            agent.free_since = now
            self._dirty_agents.add(agent_id)
        self._touch(agent)

    def decline(self, task: Task, agent_id: str, now: float) -> None:
        task.declined[agent_id] = now
        # wake up when the pause ends, or an idle agent who declined never gets it again
        heapq.heappush(self._timers, (now + self.reoffer_after, task.id))

    # -- decisions --------------------------------------------------------------------------

    def effective_priority(self, task: Task, now: float) -> float:
        rate = self.config.queues[task.queue].ageing_rate
        return task.base + rate * max(0.0, now - task.entered)

    def eligible(self, agent: Agent, task: Task, step: Step, needs: Mapping[str, int],
                 now: float) -> bool:
        if task.queue not in agent.queues:
            return False
        if task.team is not None and task.team not in agent.teams:
            return False
        declined = task.declined.get(agent.id)
        if declined is not None and now - declined < self.reoffer_after:
            return False
        if step.language and task.language and task.language not in agent.languages:
            return False
        skills = agent.skills
        for skill, level in needs.items():
            if skills.get(skill, 0) < level:
                return False
        condition = step.agents
        if condition is None:
            return True
        if step.agent_only:
            return self._verdict(agent, step)
        return condition.holds({"agent": agent.cel, "task": task.cel,
                                "customer": task.customer})

    def _verdict(self, agent: Agent, step: Step) -> bool:
        """An agent-only condition's answer, cached per agent until the agent changes."""
        key = self._step_ids[id(step)]
        verdict = agent._verdicts.get(key)
        if verdict is None and step.agents is not None:
            verdict = agent._verdicts[key] = step.agents.holds({"agent": agent.cel})
        return verdict is not False

    def _order_key(self, step: Step, needs: Mapping[str, int]) -> Any:
        if step.order == "proficiency":
            return lambda a: (-sum(a.skills.get(s, 0) for s in needs), a.total_load > 0,
                              a.free_since)
        if step.order == "least_occupied":
            return lambda a: (a.occupancy(), a.free_since)
        return lambda a: (a.total_load > 0, a.free_since)

    def _has_room(self, agent: Agent) -> bool:
        exclusive = self.config.exclusive_channels
        return agent.available and any(agent.can_take(c, exclusive) for c in agent.capacity)

    def agent_for(self, task: Task, now: float) -> tuple[Agent, Step] | None:
        """The best free agent for this task under its current step, or None. Only agents
        of the queue with room are looked at, walked in the step's order (kept as they
        change) until one fits; a step that names its agents looks at those only, filtered
        by the checks that cost little, then ordered."""
        _, step, needs = task.step_at(now)
        room = self._room_in.get(task.queue, {})
        target = self._targets[self._step_ids[id(step)]]
        ordered = self._ordering(task.queue, step, needs) if target is None else None
        if ordered is not None:
            # already in the step's order: the first that fits is the one
            for key in ordered:
                agent = self.agents[key[-1]]
                if self._fits(agent, task, step, needs) \
                        and self.eligible(agent, task, step, needs, now):
                    return agent, step
            return None
        ids: Iterable[str] = room if target is None else (
            agent_id for agent_id in _named(task, *target) if agent_id in room)
        free = [agent for agent in map(self.agents.__getitem__, ids)
                if self._fits(agent, task, step, needs)]
        free.sort(key=self._order_key(step, needs))
        for agent in free:
            if self.eligible(agent, task, step, needs, now):
                return agent, step
        return None

    def _fits(self, agent: Agent, task: Task, step: Step, needs: Mapping[str, int]) -> bool:
        """The checks that cost little: room for the channel, language, team, skills, and an
        agent-only condition's cached answer (``eligible`` does the rest)."""
        if not agent.can_take(task.channel, self.config.exclusive_channels) or (
                step.language and task.language and task.language not in agent.languages) or (
                task.team is not None and task.team not in agent.teams):
            return False
        skills = agent.skills
        for skill, level in needs.items():
            if skills.get(skill, 0) < level:
                return False
        return not step.agent_only or self._verdict(agent, step)

    def task_for(self, agent: Agent, now: float) -> tuple[Task, Step] | None:
        """The highest-priority waiting task this agent may take now, across their queues
        (``due(now)`` has run). A group the agent cannot serve is skipped without a look;
        each group is sorted by priority, so its scan ends at its first eligible task or
        where it ranks below the best found so far."""
        exclusive = self.config.exclusive_channels
        best: tuple[float, float, Task, Step] | None = None
        languages, skills = agent.languages, agent.skills
        for queue_name in agent.queues:
            if queue_name not in self.waiting or not self.waiting[queue_name]:
                continue
            channels = [c for c in self.config.queues[queue_name].channels
                        if agent.can_take(c, exclusive)]
            if not channels or any(skills.get(skill, 0) < level for skill, level
                                   in self._floors[queue_name].items()):
                continue
            mine = self._targeted[queue_name].get(agent.id)
            if mine:
                best = self._first(agent, mine, now, best)
            for (channel, language, team, needs, step_id), group in \
                    self._groups[queue_name].items():
                if not group or channel not in channels:
                    continue
                step = self._steps[step_id]
                if (step.language and language and language not in languages) or (
                        team is not None and team not in agent.teams) or any(
                        skills.get(skill, 0) < level for skill, level in needs):
                    continue
                if step.agent_only and step.agents is not None and not self._verdict(
                        agent, step):
                    continue
                best = self._first(agent, group, now, best)
        return (best[2], best[3]) if best else None

    def _first(self, agent: Agent, group: SortedList, now: float,
               best: tuple[float, float, Task, Step] | None
               ) -> tuple[float, float, Task, Step] | None:
        """``best``, or the group's first task this agent may take if it ranks higher."""
        for _, task_id in group:
            task = self.tasks[task_id]
            score = self.effective_priority(task, now)
            if best is not None and (score, -task.entered) <= (best[0], best[1]):
                return best  # the rest of the group ranks lower still
            _, step, needs = task.step_at(now)
            if self.eligible(agent, task, step, needs, now):
                return (score, -task.entered, task, step)
        return best

    def due(self, now: float) -> None:
        """Move callbacks that became due into their queues; flag tasks whose step widened."""
        while self._scheduled and self._scheduled[0][0] <= now:
            _, task_id = heapq.heappop(self._scheduled)
            task = self.tasks.get(task_id)
            if task is not None and task.not_before is not None and task.not_before <= now:
                task.entered = max(task.entered, task.not_before)
                task.not_before = None
                self._enqueue(task, self.config.queues[task.queue], now)
        while self._timers and self._timers[0][0] <= now:
            _, task_id = heapq.heappop(self._timers)
            task = self.tasks.get(task_id)
            if task is not None and task.not_before is None:
                self._dirty_tasks.add(task_id)
                if task.step_at(now)[0] != task.indexed_step:
                    self._index(task, now)  # its step widened

    def next_wakeup(self) -> float | None:
        times = [h[0][0] for h in (self._scheduled, self._timers) if h]
        return min(times) if times else None

    def dispatch(self, now: float) -> list[Offer]:
        """Every match possible now. Each offer is already applied here (the task leaves the
        queue, the agent's load grows); a caller that cannot record it calls ``undo``."""
        self.due(now)
        offers: list[Offer] = []
        # An agent who freed up brings the best task they may take, so a task that arrives in
        # the same pass cannot take them from an older, higher-priority one.
        idle = set()
        for agent_id in self._dirty_agents:
            agent = self.agents.get(agent_id)
            picked = self.task_for(agent, now) if agent is not None else None
            if picked is None:
                idle.add(agent_id)  # nothing for them now, nor after the tasks below
            else:
                self._dirty_tasks.add(picked[0].id)
        self._dirty_agents -= idle
        if self._dirty_tasks:
            # Tasks that arrived or widened, against the agents with room now. When nobody
            # has room, the tasks simply wait: an agent who frees up looks at the queue.
            dirty = [self.tasks[t] for t in self._dirty_tasks if t in self.tasks]
            self._dirty_tasks.clear()
            if self._room:
                dirty.sort(key=lambda t: (-self.effective_priority(t, now), t.entered, t.key))
            for task in dirty if self._room else ():
                if task.id not in self.tasks or task.not_before is not None:
                    continue
                found = self.agent_for(task, now)
                if found is not None:
                    offers.append(self._reserve(task, found[0], found[1], now))
                    if not self._room:
                        break
        while self._dirty_agents:
            agent = self.agents.get(self._dirty_agents.pop())
            while agent is not None and agent.available:
                picked = self.task_for(agent, now)
                if picked is None:
                    break
                offers.append(self._reserve(picked[0], agent, picked[1], now))
        return offers

    def _reserve(self, task: Task, agent: Agent, step: Step, now: float) -> Offer:
        priority = self.effective_priority(task, now)
        self.remove(task.id)
        self.reserved[task.id] = (task, agent.id)
        agent.load[task.channel] = agent.load.get(task.channel, 0) + 1
        self._touch(agent)
        return Offer(task.id, agent.id, step.name, priority, self.rules_of(task))

    def accept(self, task_id: str) -> Task | None:
        """The agent took the offer: the task is theirs (their load stays until it ends)."""
        found = self.reserved.pop(task_id, None)
        return found[0] if found else None

    def requeue(self, task_id: str, now: float, *, declined: bool = True) -> Task | None:
        """A rejected, timed-out or revoked offer: the agent's capacity comes back and the task
        waits again where it was (its waiting time and ageing continue)."""
        found = self.reserved.pop(task_id, None)
        if found is None:
            return None
        task, agent_id = found
        self.add_load(agent_id, task.channel, -1, now)
        if declined:
            self.decline(task, agent_id, now)
        self.admit(task, now)
        return task

    def undo(self, offer: Offer, now: float, *, still_waiting: bool) -> None:
        """An offer the record refused (another process changed the task or the agent first)."""
        found = self.reserved.pop(offer.task_id, None)
        if found is None:
            return
        task, agent_id = found
        agent = self.agents.get(agent_id)
        if agent is not None:
            agent.load[task.channel] = max(0, agent.load.get(task.channel, 0) - 1)
            self._touch(agent)
            self._dirty_agents.add(agent_id)
        if still_waiting:
            self.admit(task, now)

    def observe_handle(self, queue: str, seconds: float) -> None:
        previous = self.handle_time.get(queue)
        self.handle_time[queue] = seconds if previous is None else 0.9 * previous + 0.1 * seconds

    # -- what the IVR and the chat widget announce ---------------------------------------------

    def position(self, task_id: str) -> int | None:
        """1-based place in its queue by priority; None if not waiting."""
        task = self.tasks.get(task_id)
        if task is None or task.not_before is not None:
            return None
        return int(self.waiting[task.queue].index((task.key, task.id))) + 1

    def serving(self, queue: str) -> int:
        return sum(1 for a in self.agents.values() if a.available and queue in a.queues)

    def expected_wait(self, task_id: str, now: float, default_handle: float = 240.0
                      ) -> float | None:
        """A plain estimate: the contacts ahead, served by this queue's agents at the queue's
        recent handle time. None if the task is not waiting."""
        place = self.position(task_id)
        if place is None:
            return None
        agents = self.serving(self.tasks[task_id].queue)
        if agents == 0:
            return None
        handle = self.handle_time.get(self.tasks[task_id].queue, default_handle)
        return place * handle / agents

    def waiting_tasks(self, queue: str | None = None) -> Iterator[Task]:
        names: Iterable[str] = [queue] if queue else self.waiting.keys()
        for name in names:
            for _, task_id in self.waiting[name]:
                yield self.tasks[task_id]
