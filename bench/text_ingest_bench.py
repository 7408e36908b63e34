"""Text analysis on ingest (issue 17, ADR 0025): what it costs ingestion and how fast the
worker reads.

0. The pipeline in-process, batch by batch interleaved (the fairest A/B on a shared machine):
   two fresh SQLite databases get the same 1,000-event batches of the text-bearing workload
   in turn, one with analysis off, the other on; per-batch times summed (and the standard
   workload, without text, the same way: only the subscriber's scan differs).
1. Ingest rate with text-bearing events: the ingest benchmark's 60,000 events (bench/
   workload.py) with words in every e-mail, chat line and half the survey comments (~20% of
   the events), posted in batches of 1,000 by 2 clients to one server on a fresh SQLite
   database. Baseline in the same run: the same with ``CIRCULO_TEXT_ANALYSIS=false`` (no
   inbox row). Runs alternate (off, on, off, on...); medians.
2. The same posting to ``circulo serve``, whose worker analyses while ingest runs: the rate,
   and the lag after the last batch until every message is analysed.
3. The worker alone, in-process: N text events stored, then ``run_until_idle`` timed
   (messages/s, batches of ``CIRCULO_TEXT_BATCH_SIZE``); baseline in the same run: the
   analyser alone over the same texts.

    python bench/text_ingest_bench.py [--events 60000] [--repeat 3] [--messages 10000]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, machine, median, post_all, server
from bench.workload import make_events

from circulo.auth import service as auth
from circulo.config import Settings
from circulo.demo.engine import REASONS, UPSET
from circulo.ingest import service as ingest
from circulo.migrate import upgrade
from circulo.textan.analyzers import configured
from circulo.textan.extract import text_of
from circulo.textan.worker import Worker
from circulo.wiring import build_context

CALM = [said for lines in REASONS.values() for *_, said in lines]
ANGRY = [text for lines in UPSET.values() for *_, text in lines]


def words(rng: random.Random) -> str:
    """A customer's message: mostly calm, one in four upset, sometimes two sentences."""
    text = rng.choice(ANGRY if rng.random() < 0.25 else CALM)
    return f"{text} {rng.choice(CALM)}" if rng.random() < 0.3 else text


def with_text(events: list[dict[str, Any]], seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    for event in events:
        props = event.setdefault("properties", {})
        if event["type"] == "email.received":
            props.update(subject=props.get("reason", "consulta"), text=words(rng))
        elif event["type"] == "chat.completed":
            event["type"] = "chat.message"
            props["text"] = words(rng)
        elif event["type"] == "survey.answered" and rng.random() < 0.5:
            props["comment"] = words(rng)
    return events


def prepare_db(data_dir: Path) -> str:
    ctx = build_context(Settings(data_dir=data_dir))
    upgrade(ctx.db.engine)
    with ctx.db.unit_of_work() as session:
        _, secret = auth.create_key(session, "bench", ["ingest", "read"], ctx.clock.now())
    ctx.db.dispose()
    return secret


def post(bodies: list[bytes], events: int, *, analysis: bool, cli: bool = False
         ) -> dict[str, float]:
    data_dir = Path(tempfile.mkdtemp(prefix="circulo-textbench-"))
    key = prepare_db(data_dir)
    env = {"CIRCULO_DATA_DIR": str(data_dir), "CIRCULO_TEXT_ANALYSIS": str(analysis).lower()}
    try:
        with server(env, 1, cli=cli) as url:
            elapsed, _, errors = post_all(url, "/v1/events", key, bodies, clients=2,
                                          expect=(200,))
            if errors:
                raise RuntimeError(f"{errors} batches were not accepted whole")
            out = {"events_per_s": events / elapsed}
            if cli:
                ended = time.perf_counter()
                with httpx.Client(base_url=url, timeout=30,
                                  headers={"Authorization": f"Bearer {key}"}) as client:
                    while True:
                        status = client.get("/v1/text/inbox").json()
                        if status["waiting"] == 0:
                            break
                        time.sleep(0.2)
                out["lag_after_last_batch_s"] = time.perf_counter() - ended
                out["failed"] = status["failed"]
            return out
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def interleaved(events: list[dict[str, Any]], batch: int) -> dict[str, float]:
    """Seconds of ingest for the same batches into two databases, off and on, in turn."""
    dirs = [Path(tempfile.mkdtemp(prefix="circulo-textab-")) for _ in range(2)]
    try:
        contexts = []
        for data_dir, on in zip(dirs, (False, True), strict=True):
            ctx = build_context(Settings(data_dir=data_dir, text_analysis=on))
            upgrade(ctx.db.engine)
            contexts.append(ctx)
        spent = [0.0, 0.0]
        for n, start in enumerate(range(0, len(events), batch)):
            chunk = events[start:start + batch]
            order = (0, 1) if n % 2 == 0 else (1, 0)  # neither always goes first
            for which in order:
                ctx = contexts[which]
                began = time.perf_counter()
                with ctx.db.unit_of_work() as session:
                    ingest.ingest(session, {"events": chunk}, settings=ctx.settings,
                                  policies=ctx.policies, now=ctx.clock.now(), actor="bench")
                spent[which] += time.perf_counter() - began
        for ctx in contexts:
            ctx.db.dispose()
        return {"off_per_s": len(events) / spent[0], "on_per_s": len(events) / spent[1]}
    finally:
        for data_dir in dirs:
            shutil.rmtree(data_dir, ignore_errors=True)


def worker_alone(messages: int) -> dict[str, float]:
    data_dir = Path(tempfile.mkdtemp(prefix="circulo-textworker-"))
    try:
        ctx = build_context(Settings(data_dir=data_dir))
        upgrade(ctx.db.engine)
        rng = random.Random(3)
        events = [{"type": "chat.message", "source": "chat", "id": f"m{n}", "channel": "chat",
                   "identifiers": {"email": f"c{rng.randrange(messages // 3)}@example.es"},
                   "properties": {"text": words(rng)}} for n in range(messages)]
        for start in range(0, messages, 1000):
            with ctx.db.unit_of_work() as session:
                ingest.ingest(session, {"events": events[start:start + 1000]},
                              settings=ctx.settings, policies=ctx.policies,
                              now=ctx.clock.now(), actor="bench")
        analyzer = configured(ctx.settings)
        texts = [text_of(e["properties"], ctx.settings.text_max_chars) or "" for e in events]
        started = time.perf_counter()
        for text in texts:
            analyzer.analyze(text)
        alone = messages / (time.perf_counter() - started)
        worker = Worker(ctx, analyzer)
        started = time.perf_counter()
        done = worker.run_until_idle(limit=100_000)
        elapsed = time.perf_counter() - started
        worker.release()
        if done.analysed != messages:
            raise RuntimeError(f"analysed {done.analysed} of {messages}")
        ctx.db.dispose()
        return {"worker_messages_per_s": messages / elapsed, "analyser_alone_per_s": alone,
                "derived": done.derived}
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--only-interleaved", action="store_true",
                        help="part 0 alone (a quick A/B of the ingest path)")
    args = parser.parse_args()
    report: dict[str, Any] = {"machine": machine(), "events": args.events}
    print(f"Machine: {report['machine']}")
    events = with_text(make_events(args.events, args.customers, datetime.now(UTC)))
    texts = sum(1 for e in events if text_of(e.get("properties"), 20_000))
    report["text_events"] = texts
    print(f"{texts:,} of {len(events):,} events carry text")
    plain = make_events(args.events, args.customers, datetime.now(UTC), prefix="p")
    for name, workload in (("interleaved_text", events), ("interleaved_plain", plain)):
        runs = [interleaved(workload, args.batch) for _ in range(args.repeat)]
        ratios = [r["on_per_s"] / r["off_per_s"] for r in runs]
        report[name] = {"off": [round(r["off_per_s"]) for r in runs],
                        "on": [round(r["on_per_s"]) for r in runs],
                        "ratio_median": round(median(ratios), 3)}
        print(f"in-process, batches interleaved, {name.split('_')[1]} workload: off "
              f"{report[name]['off']} events/s, on {report[name]['on']} events/s; ratio "
              f"on/off median {median(ratios):.3f} {[round(r, 3) for r in ratios]}")
    if args.only_interleaved:
        return
    bodies = [orjson.dumps({"events": events[i:i + args.batch]})
              for i in range(0, len(events), args.batch)]
    off: list[float] = []
    on: list[float] = []
    for _ in range(args.repeat):
        off.append(post(bodies, len(events), analysis=False)["events_per_s"])
        on.append(post(bodies, len(events), analysis=True)["events_per_s"])
    report["ingest"] = {"off": [round(r) for r in off], "on": [round(r) for r in on],
                        "off_median": round(median(off)), "on_median": round(median(on)),
                        "ratio": round(median(on) / median(off), 3)}
    print(f"ingest, text analysis off: {median(off):,.0f} events/s {report['ingest']['off']}; "
          f"on (inbox rows): {median(on):,.0f} events/s {report['ingest']['on']}; "
          f"ratio {median(on) / median(off):.2f}")
    served = [post(bodies, len(events), analysis=True, cli=True) for _ in range(args.repeat)]
    report["serve"] = {
        "events_per_s": [round(s["events_per_s"]) for s in served],
        "lag_after_last_batch_s": [round(s["lag_after_last_batch_s"], 1) for s in served],
        "failed": [s["failed"] for s in served]}
    print(f"circulo serve, worker analysing meanwhile: "
          f"{median([s['events_per_s'] for s in served]):,.0f} events/s "
          f"{report['serve']['events_per_s']}; every message analysed "
          f"{median([s['lag_after_last_batch_s'] for s in served]):.1f} s after the last "
          f"batch {report['serve']['lag_after_last_batch_s']}")
    alone = [worker_alone(args.messages) for _ in range(args.repeat)]
    report["worker"] = {
        "messages": args.messages,
        "messages_per_s": [round(a["worker_messages_per_s"]) for a in alone],
        "analyser_alone_per_s": [round(a["analyser_alone_per_s"]) for a in alone]}
    rate = median([a["worker_messages_per_s"] for a in alone])
    bare = median([a["analyser_alone_per_s"] for a in alone])
    print(f"worker: {args.messages:,} stored messages analysed at {rate:,.0f} messages/s "
          f"{report['worker']['messages_per_s']} (result stored, text.analyzed ingested, "
          f"indicators folded); the analyser alone: {bare:,.0f} messages/s "
          f"{report['worker']['analyser_alone_per_s']}; ratio {rate / bare:.2f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "text_ingest.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
