"""Routing decision latency, in process: 1,000 logged-in agents (most of them busy) and 10,000
waiting tasks under a realistic policy. Target: p99 under 5 ms per decision.

    python bench/routing_bench.py [--agents 1000] [--tasks 10000] [--samples 5000] [--profile]

Measured on the pure engine (no database), each with ``time.perf_counter``:
- a task arrives: ``admit`` + ``dispatch``;
- an agent frees up: ``add_load(-1)`` + ``dispatch``, which fills the agent from the queues;
- the worst case of the latter: an agent eligible for almost nothing (a language no waiting task
  has), who has to look at every waiting task of their queues and finds none.

The state is kept steady: an arrival is taken back after it is measured, and every task an
agent picks is replaced by a new one, so every sample sees about 10,000 tasks waiting.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, percentile

from circulo.routing.engine import Agent, Offer, Router, Task
from circulo.routing.policy import RoutingConfig, parse_yaml

BUDGET_MS = 5.0
CAPACITY = {"voice": 1, "chat": 3, "email": 5}
SITES = ("madrid", "bogota", "mexico")
# queue -> (channels, its skill, relative volume of tasks)
QUEUES: dict[str, tuple[tuple[str, ...], str, int]] = {
    "billing": (("voice", "chat", "email"), "billing", 30),
    "cards": (("voice", "chat"), "cards", 20),
    "loans": (("voice", "email"), "loans", 10),
    "fraud": (("voice",), "fraud", 5),
    "tech": (("chat", "email"), "tech", 15),
    "sales": (("voice", "chat", "email"), "sales", 15),
    "retention": (("voice", "chat"), "retention", 5),
}
VIP = "vip"  # a desk with no backlog: its agents stay idle and are in every pool


def policy_text() -> str:
    """Seven queues with the same shape: the owner of an open case, then the customer's last
    agents, then experts by proficiency, then everyone with the queue's skill."""
    lines = ["skills: [billing, cards, loans, fraud, tech, sales, retention]", "queues:"]
    for name, (channels, skill, _) in QUEUES.items():
        wide_order = "least_occupied" if "chat" in channels else "longest_idle"
        lines += [
            f"  {name}:",
            f"    channels: [{', '.join(channels)}]",
            "    service_level: {seconds: 20s, target: 80}",
            "    ageing: {points: 1, every: 10s}",
            "    priority:",
            "      - {when: \"customer.tier == 'platinum'\", add: 50}",
            "      - {when: \"customer.tier == 'gold'\", add: 30}",
            "      - {when: 'has(customer.churn_risk) && customer.churn_risk >= 0.7', add: 40}",
            "      - {when: 'has(customer.value) && customer.value >= 5000', add: 20}",
            "      - {when: \"task.kind == 'callback'\", add: 10}",
            "    steps:",
            "      - name: owner of the open case",
            "        when: has(customer.case_owner)",
            "        agents: agent.id == customer.case_owner",
            "        timeout: 30s",
            "      - name: last agents",
            "        when: has(customer.last_agents) && size(customer.last_agents) > 0",
            "        agents: agent.id in customer.last_agents",
            "        timeout: 20s",
            "      - name: experts",
            f"        skills: {{{skill}: 4}}",
            "        agents: agent.site in ['madrid', 'bogota', 'mexico']",
            "        order: proficiency",
            "        timeout: 30s",
            "      - name: everyone",
            f"        skills: {{{skill}: 1}}",
            f"        order: {wide_order}",
        ]
    lines += [
        f"  {VIP}:",
        "    channels: [voice, chat]",
        "    steps: [{name: vip desk, skills: {retention: 3}}]",
        "abandoned:",
        "  rules:",
        "    - {when: \"customer.tier == 'platinum'\", action: winback, queue: retention, "
        "priority: 50}",
        "    - {when: 'has(customer.known) && customer.known', action: callback, queue: billing}",
        "    - {action: sms}",
    ]
    return "\n".join(lines) + "\n"


@dataclass
class World:
    """The router in its steady state, and what the measurements need to keep it there."""

    router: Router
    rng: random.Random
    now: float
    agent_ids: list[str]
    made: int = 0  # tasks created so far (ids)

    def new_task(self, entered: float) -> Task:
        self.made += 1
        return make_task(self.rng, f"t{self.made}", entered, self.agent_ids)


def customer_card(rng: random.Random, agent_ids: list[str]) -> dict[str, Any]:
    card: dict[str, Any] = {
        "known": rng.random() < 0.8,
        "tier": rng.choices(["bronze", "silver", "gold", "platinum"], [50, 30, 15, 5])[0],
        "value": rng.randrange(0, 10_000),
        "churn_risk": round(rng.random(), 2),
        "open_records": rng.randrange(0, 4),
    }
    if rng.random() < 0.10:
        card["case_owner"] = rng.choice(agent_ids)
    if rng.random() < 0.50:
        card["last_agents"] = rng.sample(agent_ids, rng.randrange(1, 4))
    return card


def make_task(rng: random.Random, task_id: str, entered: float, agent_ids: list[str]) -> Task:
    names = list(QUEUES)
    queue = rng.choices(names, [QUEUES[n][2] for n in names])[0]
    channels, skill, _ = QUEUES[queue]
    return Task(
        id=task_id, queue=queue, channel=rng.choice(channels), entered=entered,
        skills={skill: 3} if rng.random() < 0.1 else {},
        language="en" if rng.random() < 0.3 else "es",
        customer=customer_card(rng, agent_ids),
        kind="callback" if rng.random() < 0.05 else "contact",
    )


def make_agent(rng: random.Random, agent_id: str) -> Agent:
    if agent_id.startswith("vip"):
        queues = [VIP]
        skills = {"retention": 5}
    else:
        queues = rng.sample(list(QUEUES), rng.randrange(2, 4))
        skills = {QUEUES[q][1]: rng.randrange(1, 6) for q in queues}
    languages = {"es", "en"} if rng.random() < 0.4 else {"es"}
    return Agent(id=agent_id, site=rng.choice(SITES), skills=skills,
                 languages=frozenset(languages), queues=frozenset(queues),
                 capacity=dict(CAPACITY))


def build_world(agents: int, tasks: int, seed: int = 7) -> World:
    """1,000 agents (30 on an idle VIP desk, 8% on a break) and tasks that arrived during the
    last hour; dispatched until the agents are full and ``tasks`` are still waiting."""
    rng = random.Random(seed)
    config: RoutingConfig = parse_yaml(policy_text(), "bench-policy.yaml")
    router = Router(config)
    vip = min(30, agents // 20)
    agent_ids = [f"a{i:04d}" for i in range(agents - vip)]
    now = 10_000.0
    for agent_id in agent_ids + [f"vip{i:02d}" for i in range(vip)]:
        router.upsert_agent(make_agent(rng, agent_id))
        router.set_available(agent_id, rng.random() >= 0.08, now - rng.uniform(0, 3600))
    world = World(router, rng, now, agent_ids)
    while waiting(router) < tasks:
        missing = tasks - waiting(router)
        for _ in range(missing):
            router.admit(world.new_task(now - rng.uniform(0, 3600)), now)
        for offer in router.dispatch(now):
            router.accept(offer.task_id)
    return world


# -- measurements ------------------------------------------------------------------------------

def with_room(agent: Agent, router: Router) -> bool:
    exclusive = router.config.exclusive_channels
    return any(agent.can_take(channel, exclusive) for channel in agent.capacity)


def waiting(router: Router, queue: str | None = None) -> int:
    return sum(1 for _ in router.waiting_tasks(queue))


def summary(samples: list[float]) -> dict[str, float]:
    """Milliseconds."""
    return {"n": len(samples), "p50": percentile(samples, 50) * 1e3,
            "p95": percentile(samples, 95) * 1e3, "p99": percentile(samples, 99) * 1e3,
            "max": max(samples) * 1e3}


def task_arrives(world: World, samples: int) -> tuple[list[float], int]:
    """admit + dispatch of a new task; taken back afterwards so the backlog stays put.
    Returns the timings and how many arrivals found an agent at once."""
    router, timings, matched = world.router, [], 0
    for _ in range(samples):
        world.now += 0.05
        task = world.new_task(world.now)
        start = time.perf_counter()
        router.admit(task, world.now)
        offers = router.dispatch(world.now)
        timings.append(time.perf_counter() - start)
        matched += _settle(world, offers, keep=task.id)
        router.remove(task.id)
    return timings, matched


def agent_frees_up(world: World, samples: int) -> tuple[list[float], list[int]]:
    """One unit of a busy agent's load ends (add_load -1) + dispatch: the agent takes the best
    tasks they may, as many as fit. The tasks taken are replaced by new arrivals."""
    router, rng, timings, picked = world.router, world.rng, [], []
    busy = [a for a in router.agents.values() if a.available and a.total_load]
    for _ in range(samples):
        world.now += 0.05
        agent = rng.choice(busy)
        channel = rng.choice([c for c, n in agent.load.items() if n])
        start = time.perf_counter()
        router.add_load(agent.id, channel, -1, world.now)
        offers = router.dispatch(world.now)
        timings.append(time.perf_counter() - start)
        picked.append(sum(1 for o in offers if o.agent_id == agent.id))
        _settle(world, offers)
        if not agent.total_load:  # nothing fitted: keep them busy for the next samples
            router.add_load(agent.id, channel, 1, world.now)
    return timings, picked


def agent_eligible_for_nothing(world: World, samples: int, queues: list[str], *,
                               language: str = "de", skilled: bool = True) -> list[float]:
    """The worst case of an agent freeing up: a call ends for an agent of ``queues`` who is
    eligible for nothing waiting there: they speak only ``language``, which no task has, or
    (``skilled=False``) lack the queues' skills. Each waiting task of those queues may be
    looked at, and none fits."""
    router, timings = world.router, []
    skills = {s: 5 for _, s, _ in QUEUES.values()} if skilled else {}
    lonely = Agent(id="lonely", site="madrid", skills=skills,
                   languages=frozenset({language}), queues=frozenset(queues),
                   capacity=dict(CAPACITY), load={"voice": 1})
    router.upsert_agent(lonely)
    router.set_available("lonely", True, world.now)
    _settle(world, router.dispatch(world.now))
    for _ in range(samples):
        world.now += 0.05
        start = time.perf_counter()
        router.add_load("lonely", "voice", -1, world.now)
        offers = router.dispatch(world.now)
        timings.append(time.perf_counter() - start)
        _settle(world, offers)
        router.add_load("lonely", "voice", 1, world.now)
    router.remove_agent("lonely")
    return timings


BASELINE: list[float] = []


def arrival_with_everyone_idle(agents: int, samples: int, seed: int) -> list[float]:
    """The other end: no backlog and every agent idle (the start of a quiet morning). Each
    arrival is matched at once, choosing among all the agents of its queue; the offer is then
    taken back so every sample meets the same idle floor."""
    rng = random.Random(seed)
    router = Router(parse_yaml(policy_text(), "bench-policy.yaml"))
    agent_ids = [f"a{i:04d}" for i in range(agents)]
    for agent_id in agent_ids:
        router.upsert_agent(make_agent(rng, agent_id))
        router.set_available(agent_id, True, 10_000.0 - rng.uniform(0, 3600))
    world = World(router, rng, 10_000.0, agent_ids)
    router.dispatch(world.now)
    timings, matched = [], 0
    for _ in range(samples):
        world.now += 0.05
        task = world.new_task(world.now)
        start = time.perf_counter()
        router.admit(task, world.now)
        offers = router.dispatch(world.now)
        timings.append(time.perf_counter() - start)
        for offer in offers:
            matched += 1
            router.undo(offer, world.now, still_waiting=False)
        router.remove(task.id)
        router.dispatch(world.now)  # the undone agents look at an empty queue
    assert matched > samples // 2, f"only {matched} of {samples} arrivals found an agent"
    return timings


def plain_scan(router: Router, agent: Agent, now: float) -> Task | None:
    """The baseline: the best task for ``agent`` by checking every waiting task of their
    queues in priority order, as an engine without indexes would."""
    exclusive = router.config.exclusive_channels
    best: tuple[float, float, Task] | None = None
    for queue in agent.queues:
        for task in router.waiting_tasks(queue):
            if not agent.can_take(task.channel, exclusive):
                continue
            _, step, needs = task.step_at(now)
            if router.eligible(agent, task, step, needs, now):
                rank = (router.effective_priority(task, now), -task.entered)
                if best is None or rank > best[:2]:
                    best = (*rank, task)
    return best[2] if best else None


def burst_of_targeted_tasks(world: World, samples: int, tasks: int, baseline: int = 0
                            ) -> list[float]:
    """A surge: the backlog is replaced by ``tasks`` that all arrived in the last 20 s, each
    with an open case, so all are in the "owner of the open case" step (30 s), which only
    their owner may take. An agent who owns none of them frees up: a scan would evaluate
    the step's condition for every task; the engine looks only at the tasks naming them.
    Leaves the world with that backlog."""
    router, rng = world.router, world.rng
    for task in list(router.waiting_tasks()):
        router.remove(task.id)
    for _ in range(tasks):
        task = world.new_task(world.now - rng.uniform(0, 20))
        task.customer["case_owner"] = rng.choice(world.agent_ids)
        router.admit(task, world.now)
    _settle(world, router.dispatch(world.now))
    lonely = Agent(id="lonely", site="madrid", skills={s: 5 for _, s, _ in QUEUES.values()},
                   languages=frozenset({"es", "en"}), queues=frozenset(QUEUES),
                   capacity=dict(CAPACITY), load={"voice": 1})
    router.upsert_agent(lonely)
    router.set_available("lonely", True, world.now)
    timings = []
    lonely.load = {}  # free, as in the measurement below
    for _ in range(baseline):  # the same decision by a plain scan, for comparison
        start = time.perf_counter()
        assert plain_scan(router, lonely, world.now) is None
        BASELINE.append(time.perf_counter() - start)
    lonely.load = {"voice": 1}
    for _ in range(samples):
        start = time.perf_counter()
        router.add_load("lonely", "voice", -1, world.now)
        offers = router.dispatch(world.now)
        timings.append(time.perf_counter() - start)
        assert not offers, "the lonely agent owns no case"
        router.add_load("lonely", "voice", 1, world.now)
    router.remove_agent("lonely")
    return timings


def _settle(world: World, offers: list[Offer], keep: str | None = None) -> int:
    """Outside the timing: offers are accepted (the agents stay busy) and each task taken is
    replaced by a new arrival, settled at once, so the next sample meets the same backlog.
    The measured arrival itself (``keep``) is undone instead. Returns offers of ``keep``."""
    router, mine = world.router, 0
    for offer in offers:
        if offer.task_id == keep:
            router.undo(offer, world.now, still_waiting=False)
            mine += 1
        else:
            router.accept(offer.task_id)
            router.admit(world.new_task(world.now), world.now)
    if len(offers) > mine:
        _settle(world, router.dispatch(world.now))
    return mine


def profile(label: str, run: Callable[[], object], top: int = 12) -> str:
    """Where the time of ``run`` goes, by own time (tottime)."""
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(top)
    return f"--- profile: {label}\n" + "\n".join(
        line for line in out.getvalue().splitlines() if line.strip())


# -- report ------------------------------------------------------------------------------------

def line(label: str, stats: dict[str, float]) -> str:
    verdict = "ok" if stats["p99"] < BUDGET_MS else "OVER BUDGET"
    return (f"{label:<52} n={stats['n']:>5,.0f}  p50 {stats['p50']:6.3f}  p95 {stats['p95']:6.3f}"
            f"  p99 {stats['p99']:6.3f}  max {stats['max']:7.3f} ms  [{verdict}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true",
                        help="profile every measurement, not only those over budget")
    args = parser.parse_args()

    print(f"Machine: {machine()}")
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    world = build_world(args.agents, args.tasks, args.seed)
    router = world.router
    agents = router.agents.values()
    backlog = waiting(router)
    by_channel: dict[str, int] = {}
    for task in router.waiting_tasks():
        by_channel[task.channel] = by_channel.get(task.channel, 0) + 1
    print(f"Built in {time.perf_counter() - started:.1f} s: {len(agents):,} agents "
          f"({sum(a.available for a in agents):,} available, "
          f"{sum(1 for a in agents if a.available and a.total_load):,} of them busy, "
          f"{sum(1 for a in agents if with_room(a, router)):,} with room), "
          f"{backlog:,} tasks waiting ({', '.join(f'{n:,} {c}' for c, n in by_channel.items())}"
          f"), {len(router.config.queues)} queues, {len(router.config.skills)} skills")

    arrivals, matched = task_arrives(world, args.samples)
    freed, picked = agent_frees_up(world, args.samples)
    worst_samples = max(200, args.samples // 10)
    biggest = sorted(QUEUES, key=lambda q: -waiting(router, q))
    worst_3 = agent_eligible_for_nothing(world, worst_samples, biggest[:3])
    worst_all = agent_eligible_for_nothing(world, worst_samples, list(QUEUES))
    worst_skill = agent_eligible_for_nothing(world, worst_samples, list(QUEUES),
                                             language="es", skilled=False)
    scanned_3 = sum(waiting(router, q) for q in biggest[:3])
    burst = burst_of_targeted_tasks(world, worst_samples, args.tasks, baseline=10)
    idle_floor = arrival_with_everyone_idle(args.agents, worst_samples * 2, args.seed)

    results = [
        ("task arrives (admit + dispatch)", summary(arrivals), lambda: task_arrives(world, 500)),
        (f"task arrives, all {args.agents:,} agents idle, no backlog", summary(idle_floor),
         lambda: arrival_with_everyone_idle(args.agents, 200, args.seed)),
        ("agent frees up (add_load -1 + dispatch)", summary(freed),
         lambda: agent_frees_up(world, 500)),
        (f"worst: speaks 'de' only, 3 queues ({scanned_3:,} tasks)", summary(worst_3),
         lambda: agent_eligible_for_nothing(world, 100, biggest[:3])),
        (f"worst: speaks 'de' only, all queues ({backlog:,})", summary(worst_all),
         lambda: agent_eligible_for_nothing(world, 100, list(QUEUES))),
        (f"worst: no queue skill, all queues ({backlog:,})", summary(worst_skill),
         lambda: agent_eligible_for_nothing(world, 100, list(QUEUES), language="es",
                                            skilled=False)),
        (f"worst: surge, {args.tasks:,} in the case-owner step", summary(burst),
         lambda: burst_of_targeted_tasks(world, 100, args.tasks)),
    ]
    print(f"\nDecision latency, budget p99 < {BUDGET_MS:.0f} ms:")
    for label, stats, _ in results:
        print(line(label, stats))
    base = summary(BASELINE)
    print(line("baseline: the surge by a plain scan, no indexes", base))
    ratio = base["p50"] / results[-1][1]["p50"]
    print(f"  surge, median plain scan / median engine: {ratio:,.0f}x")
    print(f"  arrivals matched at once: {matched} of {len(arrivals)}; a freed agent took "
          f"{sum(picked) / len(picked):.2f} tasks on average (max {max(picked)}, "
          f"none {picked.count(0)} times)")
    print(f"  still waiting at the end: {waiting(router):,}; load average at the start "
          f"{load_before:.2f}, now {os.getloadavg()[0]:.2f} (other work on the machine "
          f"shows in the tails)")
    for label, stats, run in results:
        if args.profile or stats["p99"] >= BUDGET_MS:
            print()
            print(profile(label, run))


if __name__ == "__main__":
    main()
