"""CRM connector benchmark (issue 3): wrap-ups delivered to HubSpot through the outbox with
the official ``hubspot-api-client``, against the local HubSpot stand-in of the tests (another
process, real HTTP). Two paths: customers already linked to a HubSpot contact (one API call:
log the call) and first contacts (search, create the contact, log the call, write the id back).
Baseline in the same run: the same client calling the same server in a plain loop from one
thread, i.e. what the outbox worker adds on top of the vendor client.

    python bench/crm_bench.py [--linked 3000] [--first 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, machine, median

from circulo.config import Settings
from circulo.connectors.crm import CrmActivity
from circulo.connectors.registry import connectors_for
from circulo.connectors.worker import OutboxWorker
from circulo.context import AppContext
from circulo.ingest import service as ingest
from circulo.migrate import upgrade
from circulo.wiring import build_context

TOKEN = "pat-eu1-test-token"  # noqa: S105 - the stand-in's token


def start_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "bench/crm_server.py"], stdout=subprocess.PIPE,
                            text=True, cwd=Path(__file__).resolve().parent.parent)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def context(url: str) -> AppContext:
    folder = Path(tempfile.mkdtemp(prefix="circulo-crm-"))
    config = folder / "crm.yaml"
    config.write_text(yaml.safe_dump({"connectors": {"hubspot": {
        "type": "hubspot", "event_types": ["call.wrapped_up"], "max_in_flight": 8,
        "config": {"access_token": TOKEN, "host": url}}}}))
    ctx = build_context(Settings(data_dir=folder, crm_connectors=config))
    upgrade(ctx.db.engine)
    return ctx


def send(ctx: AppContext, events: list[dict[str, Any]]) -> None:
    for start in range(0, len(events), 1000):
        with ctx.db.unit_of_work() as session:
            ingest.ingest(session, {"events": events[start:start + 1000]},
                          settings=ctx.settings, policies=ctx.policies, now=ctx.clock.now(),
                          actor="bench")


def prepare(ctx: AppContext, customers: int, wrap_ups: int, linked: bool, tag: str) -> None:
    people = []
    for i in range(customers):
        identifiers: dict[str, Any] = {"phone": f"+346{tag}{i:06d}",
                                       "email": f"c{tag}{i}@example.es"}
        if linked:
            identifiers["external_ids"] = {"hubspot": f"{tag}{i}"}
        people.append({"type": "customer.updated", "source": "crm", "id": f"{tag}-p{i}",
                       "identifiers": identifiers, "traits": {"name": f"Cliente {i}"}})
    send(ctx, people)
    send(ctx, [{"type": "call.wrapped_up", "source": "pbx", "id": f"{tag}-w{i}",
                "channel": "voice", "identifiers": {"phone": f"+346{tag}{i % customers:06d}"},
                "properties": {"disposition": "resolved", "duration": 120,
                               "notes": "Consulta resuelta"}} for i in range(wrap_ups)])


async def drain(ctx: AppContext) -> float:
    started = time.perf_counter()
    async with OutboxWorker(ctx, batch=200) as worker:
        while await worker.run_once():
            pass
    return time.perf_counter() - started


def delivered(ctx: AppContext) -> dict[str, int]:
    from sqlalchemy import text

    with ctx.db.unit_of_work(write=False) as session:
        return dict(session.execute(text("SELECT status, count(*) FROM outbox "
                                         "GROUP BY status")).all())  # type: ignore[arg-type]


def run(url: str, count: int, linked: bool, tag: str) -> float:
    ctx = context(url)
    prepare(ctx, count if not linked else max(1, count // 3), count, linked, tag)
    elapsed = asyncio.run(drain(ctx))
    counts = delivered(ctx)
    assert counts == {"delivered": count}, counts
    return count / elapsed


def baseline(url: str, count: int) -> float:
    """The vendor client alone: ``count`` call engagements, one after another."""
    ctx = context(url)
    connector = connectors_for(ctx.settings)["hubspot"].connector
    activity = CrmActivity("e", "call", "2026-11-24T10:00:00+00:00", "voice", "resolved", 120,
                           "Consulta resuelta")
    started = time.perf_counter()
    for _ in range(count):
        connector.log_activity("512", activity)
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--linked", type=int, default=3000)
    parser.add_argument("--first", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    proc, url = start_server()
    report: dict[str, Any] = {"machine": machine()}
    print(f"Machine: {report['machine']}")
    try:
        base = [baseline(url, 1000) for _ in range(args.repeat)]
        linked = [run(url, args.linked, True, f"{n}1") for n in range(args.repeat)]
        first = [run(url, args.first, False, f"{n}2") for n in range(args.repeat)]
    finally:
        proc.terminate()
        proc.wait()
    report.update(baseline=base, linked=linked, first=first)
    print(f"Baseline, hubspot-api-client in a loop (1 thread): {median(base):,.0f} calls/s "
          f"(runs {[round(r) for r in base]})")
    print(f"Outbox → HubSpot, linked customers (1 call each): {median(linked):,.0f} "
          f"deliveries/s (runs {[round(r) for r in linked]}); ratio to baseline "
          f"{median(linked) / median(base):.2f}")
    print(f"Outbox → HubSpot, first contacts (search + create + call + write-back): "
          f"{median(first):,.0f} deliveries/s (runs {[round(r) for r in first]})")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "crm.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
