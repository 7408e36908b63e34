"""New tasks per second through the whole routing path, on a real server and database:
``POST /v1/tasks`` (identity resolution, the contact on the customer's timeline, the customer
card snapshot, the task row, statistics) while ``circulo serve``'s routing loop picks each new
task up, decides and writes the offer. Target: at least 500 new tasks/s sustained.

    python bench/routing_db_bench.py [--agents 1000] [--backlog 10000] [--tasks 6000]
                                     [--clients 8] [--runs 3]
    CIRCULO_DATABASE_URL=postgresql+psycopg://... python bench/routing_db_bench.py  # empty db

The server holds 1,000 logged-in agents with room (chat 3, email 5 each) and 10,000 tasks
already waiting (in an overflow queue nobody serves, so they stay waiting and in the
dispatcher's picture). Clients send chats and emails from 20,000 customers (half known).
Reported per run: tasks/s accepted (client side), request latency, how many of them got an
offer, and the time from a task's creation to its offer (from the database rows).

Baseline, in the same run: ``POST /v1/events`` with one contact event per request for the
same customers, the ingest a task creation includes; the ratio shows what routing adds.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, median, percentile, post_all, server
from sqlalchemy import func, select

from circulo.auth import service as auth
from circulo.config import Settings
from circulo.context import AppContext
from circulo.migrate import upgrade
from circulo.routing import service
from circulo.routing.models import AgentRow, TaskOffer, TaskRow
from circulo.routing.policy import agent_spec

POLICY = """\
skills: [billing, tech, sales]
queues:
  billing:
    channels: [chat, email]
    reservation_timeout: 30m
    ageing: {points: 1, every: 10s}
    priority:
      - {when: "customer.tier == 'gold'", add: 30}
      - {when: 'has(customer.churn_risk) && customer.churn_risk >= 0.7', add: 40}
    steps:
      - name: owner of the open case
        when: has(customer.case_owner)
        agents: agent.id == customer.case_owner
        timeout: 30s
      - name: last agents
        when: has(customer.last_agents) && size(customer.last_agents) > 0
        agents: agent.id in customer.last_agents
        timeout: 20s
      - {name: everyone, skills: {billing: 1}, order: least_occupied}
  tech:
    channels: [chat, email]
    reservation_timeout: 30m
    steps:
      - {name: experts, skills: {tech: 4}, order: proficiency, timeout: 20s}
      - {name: everyone, skills: {tech: 1}, order: least_occupied}
  overflow:
    channels: [email]
    steps: [{name: nobody yet, skills: {sales: 5}}]
"""


def prepare(data_dir: Path, database_url: str, agents: int, backlog: int
            ) -> tuple[AppContext, str]:
    settings = Settings(data_dir=data_dir, database_url=database_url)
    ctx = AppContext.build(settings)
    upgrade(ctx.db.engine)
    now = ctx.clock.now()
    rng = random.Random(3)
    with ctx.db.unit_of_work() as session:
        _, secret = auth.create_key(session, "bench", ["routing", "ingest", "read"], now)
        config = service.parse_policy(POLICY, None, "bench")
        service.apply_policy(session, config, POLICY, actor="bench", now=now,
                             cache=service.PolicyCache())
        for i in range(agents):
            spec = agent_spec({"id": f"a{i:04d}", "queues": ["billing", "tech"],
                               "skills": {"billing": rng.randint(1, 5),
                                          "tech": rng.randint(1, 5)},
                               "languages": ["es", "en"] if i % 3 else ["es"],
                               "capacity": {"voice": 0, "chat": 3, "email": 5}},
                              "agent", config)
            service.define_agent(session, spec, now)
            service.set_presence(session, spec.id, "available", None, now)
    made = 0
    while made < backlog:
        with ctx.db.unit_of_work() as session:
            for _ in range(min(500, backlog - made)):
                made += 1
                service.create_task(
                    session, service.NewTask(queue="overflow", channel="email",
                                             identifiers={"email": f"old{made}@example.com"}),
                    config, settings=ctx.settings, policies=ctx.policies, now=now)
    return ctx, secret


def customer(rng: random.Random) -> dict[str, Any]:
    n = rng.randrange(20_000)
    return {"phone": f"+3461{n:07d}"} if n % 2 else {"email": f"c{n}@example.com"}


def bodies_for_tasks(rng: random.Random, count: int, run: int) -> list[bytes]:
    out = []
    for i in range(count):
        out.append(orjson.dumps({
            "queue": rng.choice(["billing", "billing", "tech"]),
            "channel": rng.choice(["chat", "email"]), "identifiers": customer(rng),
            "language": rng.choice(["es", "es", "en"]), "source": "bench",
            "external_id": f"r{run}-{i}", "reason": "billing question"}))
    return out


def bodies_for_events(rng: random.Random, count: int, run: int) -> list[bytes]:
    out = []
    for i in range(count):
        out.append(orjson.dumps({"events": [{
            "type": "chat.queued", "source": "bench", "id": f"e{run}-{i}", "channel": "chat",
            "identifiers": customer(rng), "properties": {"reason": "billing question"}}]}))
    return out


def offers_of_run(ctx: AppContext, run: int, settle: float = 30.0
                  ) -> tuple[int, int, list[float]]:
    """(tasks of the run, offered, creation → offer in seconds), once the loop caught up."""
    deadline = time.monotonic() + settle
    while True:
        with ctx.db.unit_of_work(write=False) as session:
            rows = session.execute(
                select(TaskRow.created_at, func.min(TaskOffer.offered_at))
                .outerjoin(TaskOffer, TaskOffer.task_id == TaskRow.id)
                .where(TaskRow.source == "bench", TaskRow.external_id.like(f"r{run}-%"))
                .group_by(TaskRow.id, TaskRow.created_at)).all()
        offered = [(offer - created).total_seconds() for created, offer in rows if offer]
        if len(offered) == len(rows) or time.monotonic() > deadline:
            return len(rows), len(offered), offered
        time.sleep(0.5)


def free_everyone(ctx: AppContext) -> None:
    """Between runs: the run's offers are withdrawn, so each run starts with the same room."""
    now = ctx.clock.now()
    with ctx.db.unit_of_work() as session:
        ids = session.scalars(select(TaskRow.id).where(TaskRow.state == "reserved")).all()
        for task_id in ids:
            service.cancel(session, task_id, "bench reset", now)
        session.flush()
        count = session.scalar(select(func.count()).select_from(AgentRow)
                               .where(AgentRow.reserved > 0))
    assert not count, "agents still hold offers after the reset"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--backlog", type=int, default=10_000)
    parser.add_argument("--tasks", type=int, default=6000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    args = parser.parse_args()

    database_url = os.environ.get("CIRCULO_DATABASE_URL", "")
    print(f"Machine: {machine()}")
    print(f"Database: {'PostgreSQL' if database_url else 'SQLite'}, {args.workers} server "
          f"process(es), {args.clients} client threads")
    data_dir = Path(tempfile.mkdtemp(prefix="circulo-routing-bench-"))
    try:
        started = time.perf_counter()
        ctx, key = prepare(data_dir, database_url, args.agents, args.backlog)
        print(f"Prepared in {time.perf_counter() - started:.0f} s: {args.agents:,} agents "
              f"available, {args.backlog:,} tasks waiting")
        env = {"CIRCULO_DATA_DIR": str(data_dir), "CIRCULO_DATABASE_URL": database_url,
               "CIRCULO_ROUTING_BACKGROUND": "true",
               "CIRCULO_AGENT_HEARTBEAT_TIMEOUT": "2h"}
        rates, base_rates = [], []
        with server(env, workers=args.workers) as url:
            time.sleep(3)  # the routing loop loads the picture
            for run in range(args.runs):
                rng = random.Random(run)
                seconds, latencies, errors = post_all(
                    url, "/v1/events", key, bodies_for_events(rng, args.tasks, run),
                    args.clients)
                base_rates.append(args.tasks / seconds)
                print(f"run {run + 1} baseline  POST /v1/events (1 event): "
                      f"{args.tasks / seconds:6,.0f}/s  p50 "
                      f"{percentile(latencies, 50) * 1e3:5.1f} ms  p99 "
                      f"{percentile(latencies, 99) * 1e3:6.1f} ms  errors {errors}")
                seconds, latencies, errors = post_all(
                    url, "/v1/tasks", key, bodies_for_tasks(rng, args.tasks, run),
                    args.clients)
                rates.append(args.tasks / seconds)
                total, offered, waits = offers_of_run(ctx, run)
                print(f"run {run + 1} routing   POST /v1/tasks:            "
                      f"{args.tasks / seconds:6,.0f}/s  p50 "
                      f"{percentile(latencies, 50) * 1e3:5.1f} ms  p99 "
                      f"{percentile(latencies, 99) * 1e3:6.1f} ms  errors {errors}; "
                      f"offered {offered:,} of {total:,}, creation → offer p50 "
                      f"{percentile(waits, 50) * 1e3:.0f} ms, p95 "
                      f"{percentile(waits, 95) * 1e3:.0f} ms, max {max(waits) * 1e3:.0f} ms")
                free_everyone(ctx)
        print(f"\nmedian: {median(rates):,.0f} new tasks/s (target ≥ 500); baseline "
              f"{median(base_rates):,.0f} events/s; ratio {median(rates) / median(base_rates):.2f}")
        ctx.db.dispose()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
