"""Outbox benchmarks (issue 3): throughput to a fast local receiver, event → webhook latency
at 200 events/s, and recovery after the receiver was down with 10,000 pending deliveries.

    python bench/outbox_bench.py [--messages 20000] [--rate 200] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, free_port, machine, median, percentile

from circulo.config import Settings
from circulo.connectors import service as outbox
from circulo.connectors.worker import OutboxWorker
from circulo.context import AppContext
from circulo.ingest import service as ingest
from circulo.migrate import upgrade
from circulo.wiring import build_context


def start_receiver() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.receiver_app:app", "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        cwd=Path(__file__).resolve().parent.parent)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.post(f"{url}/reset", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("receiver did not start")


def fresh_context() -> AppContext:
    ctx = build_context(Settings(data_dir=Path(tempfile.mkdtemp(prefix="circulo-outbox-"))))
    upgrade(ctx.db.engine)
    return ctx


def subscribe(ctx: AppContext, url: str) -> None:
    with ctx.db.unit_of_work() as session:
        outbox.create_subscription(session, url=f"{url}/hook", event_types=["*"],
                                   description="bench", max_in_flight=256,
                                   now=ctx.clock.now())


def enqueue(ctx: AppContext, count: int, customers: int) -> None:
    now = ctx.clock.now()
    for start in range(0, count, 1000):
        views = [{"id": f"e{i}", "type": "call.wrapped_up", "occurred_at": now.isoformat(),
                  "customer_id": f"c{i % customers}", "properties": {"disposition": "ok"}}
                 for i in range(start, min(count, start + 1000))]
        with ctx.db.unit_of_work() as session:
            outbox.enqueue_events(session, views, now)


async def drain(ctx: AppContext, expected: int) -> float:
    started = time.perf_counter()
    async with OutboxWorker(ctx, batch=500) as worker:
        while True:
            if await worker.run_once() == 0:
                if count_status(ctx, "delivered") >= expected:
                    break
                await asyncio.sleep(0.01)
    return time.perf_counter() - started


def count_status(ctx: AppContext, status: str) -> int:
    with ctx.db.unit_of_work(write=False) as session:
        return outbox.repo.counts_by_status(session, next(
            outbox.destination_of(s.id) for s in outbox.list_subscriptions(session))
        ).get(status, 0)


def stats(url: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{url}/stats", timeout=30).json()
    return body


def throughput(url: str, messages: int) -> dict[str, float]:
    ctx = fresh_context()
    subscribe(ctx, url)
    enqueue(ctx, messages, customers=max(1, messages // 10))
    httpx.post(f"{url}/reset")
    elapsed = asyncio.run(drain(ctx, messages))
    got = stats(url)["ids"]
    assert len(set(got)) == messages, (len(set(got)), messages)
    return {"deliveries_per_s": messages / elapsed, "duplicates": len(got) - len(set(got))}


def latency(url: str, rate: int, seconds: int) -> dict[str, float]:
    """Events ingested at ``rate``/s through the real pipeline; the worker runs beside it."""
    ctx = fresh_context()
    subscribe(ctx, url)
    httpx.post(f"{url}/reset")
    stop = threading.Event()

    async def work() -> None:
        async with OutboxWorker(ctx, batch=500) as worker:
            await worker.run_forever(stop, idle_seconds=0.01)

    thread = threading.Thread(target=lambda: asyncio.run(work()))
    thread.start()
    committed: dict[str, float] = {}
    per_tick = max(1, rate // 20)  # 20 small batches a second, like live telephony
    total = rate * seconds
    started = time.perf_counter()
    sent = 0
    while sent < total:
        target = started + sent / rate
        delay = target - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        batch = [{"type": "call.wrapped_up", "source": "pbx", "id": f"l{sent + k}",
                  "identifiers": {"phone": f"+3460{(sent + k) % 5000:07d}"},
                  "properties": {"disposition": "ok"}} for k in range(per_tick)]
        with ctx.db.unit_of_work() as session:
            result = ingest.ingest(session, {"events": batch}, settings=ctx.settings,
                                   policies=ctx.policies, now=datetime.now(UTC), actor="bench")
        at = time.time()
        for item in result.results:
            committed[item.event_id] = at
        sent += per_tick
    deadline = time.time() + 30
    while count_status(ctx, "delivered") < total and time.time() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join()
    with ctx.db.unit_of_work(write=False) as session:
        rows = session.execute(outbox.repo.select(
            outbox.repo.OutboxMessage.id, outbox.repo.OutboxMessage.payload)).all()
    event_of = {msg_id: payload["data"]["id"] for msg_id, payload in rows}
    received = stats(url)
    latencies = [arrival - committed[event_of[msg_id]]
                 for msg_id, arrival in zip(received["ids"], received["arrivals"], strict=True)]
    return {"p50_ms": median(latencies) * 1000, "p95_ms": percentile(latencies, 95) * 1000,
            "delivered": len(set(received["ids"])), "sent": total}


def recovery(url: str, pending: int) -> dict[str, float]:
    ctx = fresh_context()
    subscribe(ctx, url)
    httpx.post(f"{url}/reset")
    httpx.post(f"{url}/down")
    enqueue(ctx, pending, customers=pending // 5)

    async def fail_once() -> None:  # every delivery tried and refused while it is down
        async with OutboxWorker(ctx, batch=1000) as worker:
            while count_status(ctx, "pending") < pending or await worker.run_once():
                pass

    asyncio.run(fail_once())
    # An hour later: every retry is due.
    with ctx.db.unit_of_work() as session:
        session.execute(outbox.repo.update(outbox.repo.OutboxMessage)
                        .values(next_attempt_at=datetime.now(UTC)))
    httpx.post(f"{url}/up")
    elapsed = asyncio.run(drain(ctx, pending))
    got = stats(url)["ids"]
    return {"seconds_to_deliver_all": elapsed, "delivered": len(set(got)),
            "lost": pending - len(set(got)), "duplicates": len(got) - len(set(got))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    proc, url = start_receiver()
    report: dict[str, Any] = {"machine": machine()}
    print(f"Machine: {report['machine']}")
    try:
        runs = [throughput(url, args.messages)["deliveries_per_s"] for _ in range(args.repeat)]
        report["throughput"] = {"median": median(runs), "runs": runs}
        print(f"Throughput to a local receiver: {median(runs):,.0f} deliveries/s "
              f"(median of {[round(r) for r in runs]})")
        lat = [latency(url, args.rate, args.seconds) for _ in range(args.repeat)]
        report["latency"] = lat
        print(f"Event → webhook at {args.rate} events/s for {args.seconds} s: p50 "
              f"{median([r['p50_ms'] for r in lat]):.0f} ms, p95 "
              f"{median([r['p95_ms'] for r in lat]):.0f} ms (median of {args.repeat} runs; "
              f"delivered {[r['delivered'] for r in lat]} of {args.rate * args.seconds})")
        rec = recovery(url, args.pending)
        report["recovery"] = rec
        print(f"Recovery: {args.pending:,} pending after the receiver was down → all delivered "
              f"in {rec['seconds_to_deliver_all']:.1f} s; lost {rec['lost']}, "
              f"duplicates {rec['duplicates']}")
    finally:
        proc.terminate()
        proc.wait()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "outbox.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
