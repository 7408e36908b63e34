"""The concurrency guarantees, with several real processes on the test database (SQLite file or
PostgreSQL): a task is never assigned twice, an agent never holds more than their capacity,
and the agents' counters always match their tasks, whatever the interleaving of reservations
(as several dispatchers would make), accepts, rejects, completions and agents going offline."""

from __future__ import annotations

import multiprocessing
import random
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from circulo.clock import SystemClock
from circulo.config import Settings
from circulo.context import AppContext
from circulo.db import Database
from circulo.errors import CirculoError
from circulo.routing import intake, service, wrapup
from circulo.routing.dispatcher import Dispatcher
from circulo.routing.models import AgentRow, TaskOffer, TaskRow
from circulo.routing.policy import parse_yaml
from circulo.wiring import build_context
from tests.routing.helpers import POLICY

AGENTS = [f"agent{i}" for i in range(6)]
CAPACITY = {"voice": 1, "chat": 2, "email": 3}


def _setup(ctx: AppContext, tasks: int) -> list[str]:
    config = parse_yaml(POLICY)
    now = ctx.clock.now()
    with ctx.db.unit_of_work() as session:
        service.apply_policy(session, config, POLICY, actor="test", now=now,
                             cache=service.PolicyCache())
        for agent_id in AGENTS:
            from circulo.routing.policy import agent_spec

            spec = agent_spec({"id": agent_id, "queues": ["general"], "capacity": CAPACITY},
                              "agent", config)
            service.define_agent(session, spec, now)
            service.set_presence(session, agent_id, "available", None, now)
    ids = []
    with ctx.db.unit_of_work() as session:
        for i in range(tasks):
            task, _ = intake.create_task(session, intake.NewTask(
                queue="general", channel=("voice", "chat", "email")[i % 3], identifiers={}),
                config, settings=ctx.settings, policies=ctx.policies, now=now)
            ids.append(task.id)
    return ids


def _worker(url: str, task_ids: list[str], seed: int, rounds: int) -> int:
    """One process doing what dispatchers and agent desktops do, at random."""
    rng = random.Random(seed)
    settings = Settings(database_url=url)
    ctx = build_context(settings, SystemClock(), db=Database(url))
    config = parse_yaml(POLICY)
    done = 0
    for _ in range(rounds):
        task_id, agent_id = rng.choice(task_ids), rng.choice(AGENTS)
        action = rng.random()
        now = ctx.clock.now()
        if 0.45 <= action < 0.9:
            # A desktop acts on its own offers and tasks: the agent the task is with now.
            with ctx.db.unit_of_work(write=False) as session:
                agent_id = service.get_task(session, task_id).agent_id or agent_id
        try:
            with ctx.db.unit_of_work() as session:
                if action < 0.45:
                    service.reserve(session, task_id, agent_id, "test", config, now)
                elif action < 0.65:
                    service.accept(session, task_id, agent_id, settings=settings,
                                   policies=ctx.policies, now=now)
                elif action < 0.75:
                    service.reject(session, task_id, agent_id, now)
                elif action < 0.9:
                    wrapup.complete(session, task_id, agent_id, disposition="ok", notes=None,
                                    data=None, outcome=None, config=config,
                                    settings=settings, policies=ctx.policies, now=now)
                elif action < 0.95:
                    service.set_presence(session, agent_id, "offline", None, now)
                else:
                    service.set_presence(session, agent_id, "available", None, now)
            done += 1
        except CirculoError:
            pass  # a refused transition (not offered to you, already taken): expected
    ctx.db.dispose()
    return done


def _check_invariants(db: Database) -> Counter[str]:
    with db.unit_of_work(write=False) as session:
        agents = {a.id: a for a in session.scalars(select(AgentRow))}
        tasks = list(session.scalars(select(TaskRow)))
        offers = list(session.scalars(select(TaskOffer)))
    held: dict[str, Counter[str]] = {a: Counter() for a in agents}
    states: dict[str, Counter[str]] = {a: Counter() for a in agents}
    for task in tasks:
        if task.state in ("reserved", "assigned", "wrapping"):
            assert task.agent_id is not None, task.id
            held[task.agent_id][task.channel] += 1
            states[task.agent_id][task.state] += 1
        elif task.state == "pending":
            assert task.agent_id is None
    for agent_id, agent in agents.items():
        load = {k: v for k, v in agent.load.items() if v}
        assert load == dict(held[agent_id]), (agent_id, load, held[agent_id])
        for channel, count in load.items():
            assert count <= CAPACITY[channel], (agent_id, load)
        if load.get("voice"):
            assert sum(load.values()) == 1, (agent_id, load)  # voice is exclusive
        assert (agent.reserved, agent.assigned, agent.wrapping) == (
            states[agent_id]["reserved"], states[agent_id]["assigned"],
            states[agent_id]["wrapping"]), agent_id
    accepted = Counter(o.task_id for o in offers if o.outcome == "accepted")
    assert all(n == 1 for n in accepted.values()), "a task was assigned twice"
    completed = {t.id for t in tasks if t.state == "completed"}
    assert completed <= set(accepted)
    return Counter(t.state for t in tasks)


def test_several_processes_never_double_assign_or_overfill(ctx: AppContext,
                                                           database: Database) -> None:
    task_ids = _setup(ctx, 60)
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(4) as pool:
        results = pool.starmap(_worker, [(database.url, task_ids, seed, 250)
                                         for seed in range(4)])
    assert sum(results) > 300  # the processes really did work concurrently
    states = _check_invariants(database)
    assert states["completed"] > 0 and states["assigned"] + states["reserved"] > 0


def test_only_one_dispatcher_holds_the_lease_and_another_takes_over(ctx: AppContext) -> None:
    _setup(ctx, 3)
    first, second = Dispatcher(ctx), Dispatcher(ctx)
    offers = first.run_once()
    assert len(offers) == 3
    assert second.run_once() == [] and second._lease_until is None
    second.after_change(created=["t1", "t2"])  # a standby keeps no hints: the holder polls
    assert second._hints == set()
    first.release()  # the holder stops (or its lease runs out)
    second.run_once()
    assert second._lease_until is not None
    _check_invariants(ctx.db)


def test_restart_loses_no_waiting_task_and_leaves_no_agent_stuck(ctx: AppContext) -> None:
    """A dispatcher built from scratch (a restarted process) finds every waiting task and
    scheduled callback, and offers that were out when it died time out back to the queue."""
    ids = _setup(ctx, 10)
    Dispatcher(ctx).run_once()  # offers out to every agent that has room, then "crash"
    with ctx.db.unit_of_work(write=False) as session:
        reserved = session.scalars(select(TaskRow.id).where(TaskRow.state == "reserved")).all()
    assert reserved
    ctx.clock.advance(timedelta(seconds=11))  # the old holder's lease lapses
    restarted = Dispatcher(ctx)
    restarted.run_once()
    waiting = {t for t in ids if t in restarted.router.tasks}
    assert waiting == set(ids) - set(reserved)
    ctx.clock.advance(timedelta(seconds=16))  # nobody answered the old offers
    for agent_id in AGENTS:
        with ctx.db.unit_of_work() as session:
            service.heartbeat(session, agent_id, ctx.clock.now())
    restarted.run_once()
    with ctx.db.unit_of_work(write=False) as session:
        timeouts = session.scalars(select(TaskOffer).where(TaskOffer.outcome == "timeout")).all()
        agents = list(session.scalars(select(AgentRow)))
    assert {o.task_id for o in timeouts} == set(reserved)
    # the returned tasks were offered again (to other agents first: the old one declined)
    assert all(a.reserved <= sum(CAPACITY.values()) for a in agents)
    _check_invariants(ctx.db)
