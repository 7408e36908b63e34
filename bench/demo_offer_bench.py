"""The living demo's promise, measured: with the default traffic (a contact every 5–20 s) and
the five simulated agents, how long a person who goes available waits for their first offer,
and what share of the contacts the simulated agents finish. Simulated time (a fixed clock
advanced a second per tick) on a fresh SQLite database with the demo company loaded.

    python bench/demo_offer_bench.py [--seeds 8] [--warm-up 600] [--customers 200]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, median

from circulo.clock import FixedClock
from circulo.config import Settings
from circulo.demo.accounts import HUMAN_AGENT, ensure_users
from circulo.demo.loader import DEMO_ROUTING, load_demo
from circulo.demo.traffic import DemoTraffic
from circulo.migrate import upgrade
from circulo.routing import service as routing
from circulo.routing.policy import parse_yaml
from circulo.wiring import build_context


def one_run(seed: int, warm_up: int, customers: int) -> tuple[int | None, float, int]:
    """Seconds until the person's first offer (None: not within 120 s), the share of the
    demo's contacts completed after the warm-up and how many were waiting then."""
    with tempfile.TemporaryDirectory() as folder:
        clock = FixedClock(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
        ctx = build_context(Settings(data_dir=Path(folder)), clock)
        upgrade(ctx.db.engine)
        load_demo(ctx, customers=customers, console=Console(quiet=True))
        text = DEMO_ROUTING.read_text("utf-8")
        with ctx.db.unit_of_work() as session:
            routing.apply_policy(session, parse_yaml(text), text, actor="bench",
                                 now=clock.now(), cache=routing.PolicyCache())
            ensure_users(session, Path(folder), clock.now())
        traffic = DemoTraffic(ctx, random.Random(seed))
        for _ in range(warm_up):
            clock.advance(timedelta(seconds=1))
            traffic.tick()
        with ctx.db.unit_of_work(write=False) as session:
            tasks = [t for t in routing.find_tasks(session, states=None, queue=None,
                                                   customer_id=None, agent_id=None,
                                                   limit=10_000) if t.source == "demo"]
        states = Counter(t.state for t in tasks)
        with ctx.db.unit_of_work() as session:
            routing.set_presence(session, HUMAN_AGENT, "available", None, clock.now())
        waited = None
        for second in range(1, 121):
            clock.advance(timedelta(seconds=1))
            with ctx.db.unit_of_work() as session:
                routing.heartbeat(session, HUMAN_AGENT, clock.now())
            traffic.tick()
            with ctx.db.unit_of_work(write=False) as session:
                if routing.tasks_in_hand(session, HUMAN_AGENT):
                    waited = second
                    break
        ctx.db.dispose()
        return waited, states["completed"] / max(1, len(tasks)), states["pending"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--warm-up", type=int, default=600)
    parser.add_argument("--customers", type=int, default=200)
    args = parser.parse_args()
    waits: list[int | None] = []
    shares: list[float] = []
    for seed in range(args.seeds):
        waited, share, pending = one_run(seed, args.warm_up, args.customers)
        waits.append(waited)
        shares.append(share)
        print(f"seed {seed}: first offer after {waited} s, completed {share:.0%}, "
              f"{pending} waiting when the person went available")
    got = [w for w in waits if w is not None]
    print(f"{machine()}")
    print(f"first offer to a person: median {median([float(w) for w in got]) if got else '-'} s, "
          f"max {max(got) if got else '-'} s, within 60 s in {sum(w <= 60 for w in got)}"
          f"/{len(waits)} runs; simulated agents completed median {median(shares):.0%} of "
          f"the contacts after {args.warm_up} s")


if __name__ == "__main__":
    main()
