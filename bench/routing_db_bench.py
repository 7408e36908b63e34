"""New tasks per second through the whole routing path, on a real server and database:
``POST /v1/tasks`` and ``POST /v1/tasks/batch`` (identity resolution, the contact on the
customer's timeline, the customer card snapshot, the task row, statistics) while
``circulo serve``'s routing loop picks each new task up, decides and writes the offer.
Target: at least 500 new tasks/s sustained.

    python bench/routing_db_bench.py [--agents 1000] [--backlog 10000] [--tasks 6000]
                                     [--clients 8] [--runs 3] [--batch 100]
    CIRCULO_DATABASE_URL=postgresql+psycopg://... python bench/routing_db_bench.py  # empty db

The server holds 1,000 logged-in agents with room (chat 6, email 10 each) and 10,000 tasks
already waiting (in an overflow queue nobody serves, so they stay waiting and in the
dispatcher's picture). Clients send chats and emails from 20,000 customers (half known).
Reported per run, for one task per request and for batches (``--batch``, 100): tasks/s
accepted (client side), tasks/s routed (from the first task's creation to the last one's
offer, from the database rows), request latency, how many got an offer, and the time from a
task's creation to its offer. The figure against the target is the lower of the two rates.

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
from circulo.routing import intake, service
from circulo.routing.models import AgentRow, TaskOffer, TaskRow
from circulo.routing.policy import agent_spec
from circulo.wiring import build_context

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
    ctx = build_context(settings)
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
                               "capacity": {"voice": 0, "chat": 6, "email": 10}},
                              "agent", config)
            service.define_agent(session, spec, now)
            service.set_presence(session, spec.id, "available", None, now)
    made = 0
    while made < backlog:
        with ctx.db.unit_of_work() as session:
            for _ in range(min(500, backlog - made)):
                made += 1
                intake.create_task(
                    session, intake.NewTask(queue="overflow", channel="email",
                                             identifiers={"email": f"old{made}@example.com"}),
                    config, settings=ctx.settings, policies=ctx.policies, now=now)
    return ctx, secret


def customer(rng: random.Random) -> dict[str, Any]:
    n = rng.randrange(20_000)
    return {"phone": f"+3461{n:07d}"} if n % 2 else {"email": f"c{n}@example.com"}


def task_items(rng: random.Random, count: int, tag: str) -> list[dict[str, Any]]:
    return [{"queue": rng.choice(["billing", "billing", "tech"]),
             "channel": rng.choice(["chat", "email"]), "identifiers": customer(rng),
             "language": rng.choice(["es", "es", "en"]), "source": "bench",
             "external_id": f"{tag}-{i}", "reason": "billing question"} for i in range(count)]


def bodies_for_tasks(rng: random.Random, count: int, tag: str) -> list[bytes]:
    return [orjson.dumps(item) for item in task_items(rng, count, tag)]


def bodies_for_batches(rng: random.Random, count: int, tag: str, size: int) -> list[bytes]:
    items = task_items(rng, count, tag)
    return [orjson.dumps({"tasks": items[start:start + size]})
            for start in range(0, count, size)]


def bodies_for_events(rng: random.Random, count: int, run: int) -> list[bytes]:
    out = []
    for i in range(count):
        out.append(orjson.dumps({"events": [{
            "type": "chat.queued", "source": "bench", "id": f"e{run}-{i}", "channel": "chat",
            "identifiers": customer(rng), "properties": {"reason": "billing question"}}]}))
    return out


def offers_of_run(ctx: AppContext, tag: str, settle: float = 30.0
                  ) -> tuple[int, int, list[float], float]:
    """(tasks of the run, offered, creation → offer in seconds, routed per second: tasks
    from the first one's creation to the last one's offer), once the loop caught up."""
    deadline = time.monotonic() + settle
    while True:
        with ctx.db.unit_of_work(write=False) as session:
            rows = session.execute(
                select(TaskRow.created_at, func.min(TaskOffer.offered_at))
                .outerjoin(TaskOffer, TaskOffer.task_id == TaskRow.id)
                .where(TaskRow.source == "bench", TaskRow.external_id.like(f"{tag}-%"))
                .group_by(TaskRow.id, TaskRow.created_at)).all()
        offered = [(offer - created).total_seconds() for created, offer in rows if offer]
        if len(offered) == len(rows) or time.monotonic() > deadline:
            span = (max(offer for _, offer in rows if offer)
                    - min(created for created, _ in rows)).total_seconds() if offered else 0
            return len(rows), len(offered), offered, len(offered) / span if span else 0.0
        time.sleep(0.5)


def report(label: str, count: int, seconds: float, latencies: list[float], errors: int,
           routed: tuple[int, int, list[float], float]) -> None:
    total, offered, waits, per_second = routed
    print(f"  {label}: accepted {count / seconds:6,.0f}/s, routed {per_second:6,.0f}/s "
          f"(offered {offered:,} of {total:,}); request p50 "
          f"{percentile(latencies, 50) * 1e3:5.1f} ms, p99 "
          f"{percentile(latencies, 99) * 1e3:6.1f} ms, errors {errors}; creation → offer "
          f"p50 {percentile(waits, 50) * 1e3:.0f} ms, p95 {percentile(waits, 95) * 1e3:.0f} "
          f"ms, max {max(waits) * 1e3:.0f} ms")


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
    parser.add_argument("--batch", type=int, default=100, help="tasks per batch request")
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
        rates: dict[str, list[float]] = {"single": [], "batch": []}
        base_rates = []
        with server(env, workers=args.workers) as url:
            time.sleep(3)  # the routing loop loads the picture
            for run in range(args.runs):
                rng = random.Random(run)
                print(f"run {run + 1}")
                seconds, latencies, errors = post_all(
                    url, "/v1/events", key, bodies_for_events(rng, args.tasks, run),
                    args.clients)
                base_rates.append(args.tasks / seconds)
                print(f"  baseline, POST /v1/events (1 event per request): "
                      f"{args.tasks / seconds:6,.0f}/s  p50 "
                      f"{percentile(latencies, 50) * 1e3:5.1f} ms  p99 "
                      f"{percentile(latencies, 99) * 1e3:6.1f} ms  errors {errors}")
                seconds, latencies, errors = post_all(
                    url, "/v1/tasks", key, bodies_for_tasks(rng, args.tasks, f"r{run}"),
                    args.clients)
                routed = offers_of_run(ctx, f"r{run}")
                rates["single"].append(min(args.tasks / seconds, routed[3]))
                report("POST /v1/tasks, 1 per request     ", args.tasks, seconds, latencies,
                       errors, routed)
                free_everyone(ctx)
                seconds, latencies, errors = post_all(
                    url, "/v1/tasks/batch", key,
                    bodies_for_batches(rng, args.tasks, f"b{run}", args.batch), args.clients)
                routed = offers_of_run(ctx, f"b{run}")
                rates["batch"].append(min(args.tasks / seconds, routed[3]))
                report(f"POST /v1/tasks/batch, {args.batch} per request", args.tasks, seconds,
                       latencies, errors, routed)
                free_everyone(ctx)
        base = median(base_rates)
        print(f"\nmedian new tasks/s, routed (the lower of accepted and routed; target ≥ 500):"
              f"\n  one per request: {median(rates['single']):,.0f} (ratio to the baseline "
              f"{median(rates['single']) / base:.2f})\n  batches of {args.batch}: "
              f"{median(rates['batch']):,.0f} (ratio {median(rates['batch']) / base:.2f})\n"
              f"  baseline (1 event per request): {base:,.0f} events/s")
        ctx.db.dispose()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
