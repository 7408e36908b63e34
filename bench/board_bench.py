"""The supervisor's live board with 500 agents and 2,000 waiting contacts (issue 16 target:
measure the server's cost per board update and the browser's update rate), against the naive
way (the whole board in every update) in the same run.

    python bench/board_bench.py [--agents 500] [--waiting 2000] [--updates 60]
                                [--seconds 20] [--no-browser]

1. In process, on SQLite: the contact center changes a little between two updates (a few
   agents change presence, a few contacts arrive and a few are answered); per update it
   times computing the board (routing's live statistics, the waiting contacts by priority
   class, the alerts' inputs) and cutting the batch of changed rows, and reports the bytes of
   the batched update against the whole board serialised every time (and against
   ``/v1/routing/stats``' JSON of the same moment). Median and p95 of ``--updates`` updates.
2. In Chromium (Playwright) on a live server of the same database, while a client keeps
   changing agents' presence through the HTTP API (about 20 changes a second): updates the
   page applied per second and the time to apply one (the console's own measurement,
   ``window.circuloBoard.times``), for the batched stream and for ``?full=1``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, median, percentile, server

from circulo.auth import service as auth
from circulo.auth import users
from circulo.config import Settings
from circulo.console import board as console
from circulo.context import AppContext
from circulo.ingest import service as ingest
from circulo.migrate import upgrade
from circulo.routing import intake, service, stats
from circulo.routing.policy import agent_spec
from circulo.web.console import compute, update
from circulo.web.texts import texts
from circulo.wiring import build_context

POLICY = """\
skills: [billing, tech]
queues:
  billing:
    channels: [voice, chat]
    service_level: {seconds: 20, target: 80}
    reservation_timeout: 30m
    priority:
      - {when: "customer.tier == 'vip'", add: 100}
      - {when: 'has(customer.churn_risk) && customer.churn_risk >= 0.6', add: 60}
    steps: [{name: everyone, skills: {billing: 1}}]
  tech:
    channels: [voice, chat]
    reservation_timeout: 30m
    steps: [{name: everyone, skills: {tech: 1}}]
  sales: {channels: [voice], steps: [{name: sellers, skills: {tech: 5}}]}
  retention: {channels: [voice], steps: [{name: rescue, skills: {billing: 5}}]}
"""
SITES = ("madrid", "sevilla", "bogota")
PASSWORD = "correct horse battery"  # noqa: S105 - the throwaway database's supervisor


def prepare(data_dir: Path, agents: int, waiting: int) -> tuple[AppContext, str]:
    settings = Settings(data_dir=data_dir)
    ctx = build_context(settings)
    upgrade(ctx.db.engine)
    now = ctx.clock.now()
    rng = random.Random(16)
    with ctx.db.unit_of_work() as session:
        _, key = auth.create_key(session, "bench", ["admin"], now)
        users.create_user(session, users.UserSpec(username="sara", name="Sara", role="supervisor",
                                                  language="en"), PASSWORD, now)
        config = service.parse_policy(POLICY, None, "bench")
        service.apply_policy(session, config, POLICY, actor="bench", now=now,
                             cache=service.PolicyCache())
        for i in range(agents):
            # capacity 0 for voice: nobody takes the waiting calls, the board stays at 2,000
            spec = agent_spec({"id": f"a{i:04d}", "name": f"Agent {i}",
                               "site": SITES[i % len(SITES)],
                               "queues": rng.sample(["billing", "tech", "sales", "retention"], 2),
                               "skills": {"billing": rng.randint(1, 4), "tech": rng.randint(1, 4)},
                               "capacity": {"voice": 0, "chat": 0}}, "agent", config)
            service.define_agent(session, spec, now)
            roll = rng.random()
            if roll < 0.7:
                service.set_presence(session, spec.id, "available", None, now)
            elif roll < 0.85:
                service.set_presence(session, spec.id, "away", "break", now)
    for start in range(0, waiting, 500):
        with ctx.db.unit_of_work() as session:
            events = []
            for n in range(start, min(waiting, start + 500)):
                roll = rng.random()
                traits: dict[str, Any] = {"name": f"Customer {n}"}
                if roll < 0.05:
                    traits["tier"] = "vip"
                elif roll < 0.15:
                    traits["churn_risk"] = 0.8
                events.append({"type": "customer.updated", "source": "crm", "id": f"c{n}",
                               "identifiers": {"phone": f"+3460{n:07d}"}, "traits": traits})
            ingest.ingest(session, {"events": events}, settings=ctx.settings,
                          policies=ctx.policies, now=now, actor="bench")
            for n in range(start, min(waiting, start + 500)):
                intake.create_task(session, intake.NewTask(
                    queue=rng.choice(["billing", "tech", "sales", "retention"]),
                    channel="voice", identifiers={"phone": f"+3460{n:07d}"}),
                    config, settings=ctx.settings, policies=ctx.policies,
                    now=now - timedelta(seconds=rng.randint(0, 900)))
    return ctx, key


def churn(ctx: AppContext, rng: random.Random, agents: int, step: int) -> None:
    """Between two updates: 5 agents change presence, 3 calls arrive, 3 are abandoned."""
    now = ctx.clock.now()
    with ctx.db.unit_of_work() as session:
        config = service.parse_policy(POLICY, None, "bench")
        for _ in range(5):
            service.set_presence(session, f"a{rng.randrange(agents):04d}",
                                 rng.choice(["available", "away", "offline"]), None, now)
        for n in range(3):
            intake.create_task(session, intake.NewTask(
                queue="billing", channel="voice",
                identifiers={"phone": f"+3461{step:05d}{n:02d}"}),
                config, settings=ctx.settings, policies=ctx.policies, now=now)
        for task in service.find_tasks(session, states=["pending"], queue="tech",
                                       customer_id=None, agent_id=None, limit=3):
            service.finish(task, "abandoned", "abandoned", now)
            stats.abandoned(session, task.queue, 30.0, False, now)


def server_cost(ctx: AppContext, agents: int, updates: int) -> None:
    rng = random.Random(7)
    t = texts("en")
    zone = "Europe/Madrid"
    compute_ms, batch_ms, full_ms, batch_bytes, full_bytes = [], [], [], [], []
    rows_sent: list[float] = []
    before: dict[str, Any] | None = None
    alerts: list[dict[str, str]] | None = None
    board = compute(ctx)
    before = board.rows
    for step in range(updates):
        churn(ctx, rng, agents, step)
        started = time.perf_counter()
        board = compute(ctx)
        computed = time.perf_counter()
        data, alerts = update(before, alerts, board, t, zone)
        batched = time.perf_counter()
        rows_sent.append(len(console.changes(before, board)[0]))
        whole, _ = update(None, None, board, t, zone)
        done = time.perf_counter()
        before = board.rows
        compute_ms.append(1000 * (computed - started))
        batch_ms.append(1000 * (batched - computed))
        full_ms.append(1000 * (done - batched))
        batch_bytes.append(len(data or b""))
        full_bytes.append(len(whole or b""))
    with ctx.db.unit_of_work(write=False) as session:
        pending = len(service.find_tasks(session, states=["pending"], queue=None,
                                         customer_id=None, agent_id=None, limit=100_000))
    from circulo.routing.api import _snapshot
    stats_bytes = len(orjson.dumps(_snapshot(ctx)))
    print(f"board: {len(board.rows)} rows, {pending} contacts waiting, "
          f"{len(board.alerts)} alerts")
    print(f"compute the board (stats + classes + alerts' inputs): median "
          f"{median(compute_ms):.1f} ms, p95 {percentile(compute_ms, 95):.1f} ms")
    print(f"cut the batch of changes + JSON: median {median(batch_ms):.2f} ms; "
          f"whole board JSON: median {median(full_ms):.2f} ms")
    print(f"update size: batched median {median(batch_bytes):.0f} B "
          f"(p95 {percentile(batch_bytes, 95):.0f} B); whole board "
          f"{median(full_bytes):.0f} B; /v1/routing/stats JSON {stats_bytes} B")
    print(f"rows per batched update: median {median(rows_sent):.0f}, p95 "
          f"{percentile(rows_sent, 95):.0f} of {len(board.rows)}")


def browser_rate(data_dir: Path, key: str, agents: int, seconds: float) -> None:
    from playwright.sync_api import sync_playwright
    env = {"CIRCULO_DATA_DIR": str(data_dir), "CIRCULO_CONSOLE_INTERVAL": "1.0"}
    with server(env, 1) as url, sync_playwright() as playwright:
        stop = threading.Event()
        changes = [0]

        def traffic() -> None:
            rng = random.Random(3)
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"},
                              timeout=30) as client:
                while not stop.is_set():
                    agent = f"a{rng.randrange(agents):04d}"
                    client.post(f"/v1/agents/{agent}/presence", json={
                        "presence": rng.choice(["available", "away", "offline"])})
                    changes[0] += 1
                    time.sleep(0.05)

        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        # bypass_csp: Playwright evaluates its waiting conditions as strings
        page = chromium.new_page(viewport={"width": 1366, "height": 768}, bypass_csp=True)
        page.goto(f"{url}/sign-in")
        page.get_by_label("User name").fill("sara")
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        for mode in ("", "?full=1"):
            page.goto(f"{url}/console{mode}")
            page.wait_for_function("window.circuloBoard && window.circuloBoard.applied() > 0",
                                   timeout=60_000)
            first = page.evaluate("window.circuloBoard.times[0]")
            rows = page.evaluate("document.querySelectorAll('tbody tr').length")
            worker = threading.Thread(target=traffic)
            stop.clear()
            changes[0] = 0
            start_applied = page.evaluate("window.circuloBoard.applied()")
            worker.start()
            started = time.monotonic()
            page.wait_for_timeout(seconds * 1000)
            elapsed = time.monotonic() - started
            stop.set()
            worker.join()
            applied = page.evaluate("window.circuloBoard.applied()") - start_applied
            times = page.evaluate("window.circuloBoard.times.slice(1)")
            label = "whole board every update (?full=1)" if mode else "batched changes"
            print(f"browser, {label}: {rows} rows on the page, first (full) render "
                  f"{first:.1f} ms; {applied} updates in {elapsed:.0f} s = "
                  f"{applied / elapsed:.2f}/s while {changes[0] / elapsed:.0f} presence "
                  f"changes/s; apply one update: median {median(times):.2f} ms, p95 "
                  f"{percentile(times, 95):.2f} ms")
        chromium.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--waiting", type=int, default=2000)
    parser.add_argument("--updates", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    print(machine())
    data_dir = Path(tempfile.mkdtemp(prefix="board-bench-"))
    try:
        started = time.perf_counter()
        ctx, key = prepare(data_dir, args.agents, args.waiting)
        print(f"prepared {args.agents} agents and {args.waiting} waiting contacts in "
              f"{time.perf_counter() - started:.0f} s (SQLite)")
        server_cost(ctx, args.agents, args.updates)
        ctx.db.dispose()
        if not args.no_browser and os.path.exists("/usr/bin/chromium"):
            browser_rate(data_dir, key, args.agents, args.seconds)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
