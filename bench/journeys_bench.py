"""Journeys under load, on the real ``circulo serve`` (API, journeys runner, routing loop and
outbox worker in one process) and a real database. Issue 5 targets:

- event → action applied (or handed to the outbox) p95 under 100 ms with 200 active journeys;
- ingest throughput with 200 active journeys at least 80% of ingest with none.

    python bench/journeys_bench.py [--journeys 200] [--events 60000] [--probes 150]
    CIRCULO_DATABASE_URL=postgresql+psycopg://... python bench/journeys_bench.py  # emptied

Per run, on a fresh database: the ingest workload of ``bench/ingest_bench.py`` (calls,
emails, chats, orders, shipments, surveys, CRM updates, page views about 20,000 customers),
posted in batches of 1,000 by 2 clients, once with no journey and once with 200 active ones;
events/s is measured client side, the baseline (no journey) in the same run. With the
journeys, the time the runner then needs to empty its inbox is reported too.

The 200 journeys are what a contact center writes: 120 listen to types in the workload
(abandoned calls per tier and window, low surveys counted over a month, big orders, frequent
callers, delivery follow-ups that wait two days, shipments waiting for their delivery, chat
wildcards) with conditions that let a few percent of events in; 79 listen to business events
not in the workload (card use, device alerts, disputes, delays, failed payments), so they must
cost ingest nothing; and the shipped S18 journey (card use → SMS, ``examples/journeys``).

Latency: after that ingest, probes are ``card.used`` events for a customer with a mobile,
posted one at a time (random gaps); each is timed from just before its POST until its S18
``notify`` action is committed (the SMS handed to the outbox, read from ``journey_actions``
by polling every 2 ms). Twice: idle, and while 200 workload events/s keep arriving.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, ROOT, machine, median, percentile, post_all, server
from bench.workload import TYPES, make_events
from sqlalchemy import create_engine, text

from circulo import yaml_files
from circulo.auth import service as auth
from circulo.config import Settings
from circulo.db import Base
from circulo.migrate import upgrade
from circulo.wiring import build_context

BUSINESS = ["card.used", "device.alert", "dispute.opened", "shipment.delayed",
            "payment.failed", "order.delivered", "order.placed", "shipment.created",
            "email.received", "page.viewed", "customer.updated", "chat.completed"]
PROBE_JOURNEY = "card-use-and-fraud"
PROBE_PHONE = "+34699000001"


def _alert(i: int) -> dict[str, Any]:
    return {"alert": {"to": "queue:alertas", "queue": "alertas", "urgency": "high",
                      "message": {"es": f"Revisar cliente ({i})", "en": f"Check customer ({i})"}}}


def journeys(count: int) -> list[dict[str, Any]]:
    """``count - 1`` generated journeys and the shipped S18 one."""
    tiers = ["standard", "gold", "vip"]
    made: list[dict[str, Any]] = []
    stream: list[Any] = [
        lambda i: {"trigger": "call.abandoned",
                   "when": f'customer.tier == "{tiers[i % 3]}" && count("call.abandoned", '
                           f'within="{2 + i % 6}h") >= {3 + i % 3}',
                   "limits": {"reentry": "after_exit", "cap": {"max": 1, "per": "1d"}},
                   "steps": [{"name": "alert", "do": [_alert(i), {"task": {
                       "queue": "vip", "channel": "voice", "priority": 60 + i % 30}}],
                              "end": True}]},
        lambda i: {"trigger": "survey.answered",
                   "when": f'event.properties.csat <= {1 + i % 2} && count("survey.answered", '
                           f'within="30d", where="event.properties.csat <= 2") >= {2 + i % 2}',
                   "steps": [{"name": "rescue", "do": [
                       {"add_to_list": f"rescate-{i % 7}"},
                       {"tag": f"unhappy-{i % 5}"}], "end": True}]},
        lambda i: {"trigger": "order.placed",
                   "when": f"event.properties.amount > {440 + i % 50}",
                   "limits": {"reentry": "always"},
                   "steps": [{"name": "mark", "do": [
                       {"set_trait": {"big_spender": True}},
                       {"suggest": {"code": f"thank-{i}", "text": {
                           "es": "Agradecer su último pedido", "en": "Thank them for the order"},
                           "for": "3d"}}], "end": True}]},
        lambda i: {"trigger": "call.completed",
                   "when": f'count("call.completed", within="{3 + i % 5}d") >= {4 + i % 3}',
                   "limits": {"cap": {"max": 1, "per": "7d"}},
                   "steps": [{"name": "suggest", "do": [{"suggest": {
                       "code": f"frequent-{i}", "text": {"es": "Cliente que llama a menudo",
                                                         "en": "Frequent caller"}}}],
                              "end": True}]},
        lambda i: {"trigger": "order.delivered",
                   "when": f"event.properties.amount > {400 + i % 90}",
                   "steps": [{"name": "wait", "wait": {"duration": "2d"}, "go": "ask"},
                             {"name": "ask", "do": [{"notify": {"channels": ["email", "sms"],
                                                                "text": {
                                 "es": "¿Qué tal su pedido, {{customer.traits.first_name}}?",
                                 "en": "How was your order, {{customer.traits.first_name}}?"}}}],
                              "end": True}]},
        lambda i: {"trigger": "shipment.created",
                   "when": f'event.properties.carrier == "DHL" && {i % 4} == 0',
                   "steps": [{"name": "wait", "wait": {"for": "order.delivered", "up_to": "5d"},
                              "on_event": "done", "on_timeout": "chase"},
                             {"name": "chase", "do": [{"task": {"queue": "atencion",
                                                                "channel": "voice"}}],
                              "end": True},
                             {"name": "done", "end": True}]},
        lambda i: {"trigger": "chat.*",
                   "when": f'event.properties.reason == "return" && '
                           f'event.properties.duration > {850 + i % 50}',
                   "steps": [{"name": "tag", "do": [{"tag": "long-return-chat"}],
                              "end": True}]},
        lambda i: {"trigger": "email.received",
                   "when": f'event.properties.reason == "billing" && count("email.received", '
                           f'within="{1 + i % 3}d") >= 3',
                   "steps": [{"name": "task", "do": [{"task": {"queue": "atencion",
                                                               "channel": "email",
                                                               "priority": 40}}],
                              "end": True}]},
    ]
    other = ["card.used", "device.alert", "dispute.opened", "shipment.delayed",
             "payment.failed"]
    stream_count = min(120, count - 1)
    for i in range(count - 1):
        if i < stream_count:
            body = stream[i % len(stream)](i)
        else:
            body = {"trigger": other[i % len(other)],
                    "when": f"has(event.properties.amount) && event.properties.amount > {i}",
                    "steps": [{"name": "act", "do": [_alert(i)], "end": True}]}
        made.append({"journey": f"bench-{i:03d}", **body})
    made.append(yaml_files.load_file(ROOT / "examples" / "journeys" /
                                     "s18-card-use-and-fraud.yaml").data)
    return made


POLICY = """\
queues:
  atencion: {channels: [voice, chat, email]}
  vip: {channels: [voice]}
  fraude: {channels: [voice]}
  alertas: {channels: [backoffice]}
"""


def prepare(data_dir: Path, database_url: str) -> str:
    ctx = build_context(Settings(data_dir=data_dir, database_url=database_url))
    upgrade(ctx.db.engine)
    if ctx.db.dialect == "postgresql":  # reuse the database, emptied
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with ctx.db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    with ctx.db.unit_of_work() as session:
        _, secret = auth.create_key(session, "bench", ["admin"], ctx.clock.now())
    ctx.db.dispose()
    return secret


def setup(url: str, key: str, documents: list[dict[str, Any]]) -> None:
    with httpx.Client(base_url=url, timeout=60,
                      headers={"Authorization": f"Bearer {key}"}) as client:
        answer = client.put("/v1/routing/policy", content=POLICY,
                            headers={"Content-Type": "application/yaml"})
        answer.raise_for_status()
        for document in documents:
            answer = client.post("/v1/journeys", params={"activate": "true"}, json=document)
            if answer.status_code != 201 and answer.status_code != 200:
                raise RuntimeError(f"{document['journey']}: {answer.text[:300]}")
        answer = client.post("/v1/events", json={"events": [{
            "type": "profile.updated", "source": "crm", "id": "probe-customer",
            "identifiers": {"phone": PROBE_PHONE},
            "traits": {"first_name": "Raúl", "language": "es"}}]})
        answer.raise_for_status()


def _scalar(engine: Any, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar() or 0)


def drain_seconds(engine: Any, limit: float = 600) -> float:
    started = time.perf_counter()
    while _scalar(engine, "SELECT count(*) FROM journey_inbox") > 0:
        if time.perf_counter() - started > limit:
            raise RuntimeError("the journeys inbox did not empty")
        time.sleep(0.05)
    return time.perf_counter() - started


def probe(url: str, key: str, engine: Any, count: int, tag: str, rng: random.Random
          ) -> list[float]:
    """Seconds from each probe's POST to its S18 notify action committed."""
    sql = f"SELECT count(*) FROM journey_actions WHERE journey = '{PROBE_JOURNEY}' " \
          "AND kind = 'notify'"
    latencies = []
    with httpx.Client(base_url=url, timeout=30,
                      headers={"Authorization": f"Bearer {key}",
                               "Content-Type": "application/json"}) as client:
        with engine.connect() as conn:
            for n in range(count):
                seen = int(conn.execute(text(sql)).scalar() or 0)
                conn.rollback()
                body = orjson.dumps({"events": [{
                    "type": "card.used", "source": "cards", "id": f"probe-{tag}-{n}",
                    "identifiers": {"phone": PROBE_PHONE},
                    "properties": {"amount": 12.5, "currency": "EUR", "merchant": "Bar Sol",
                                   "last4": "4242", "risk_score": 0.1}}]})
                started = time.perf_counter()
                client.post("/v1/events", content=body).raise_for_status()
                while int(conn.execute(text(sql)).scalar() or 0) <= seen:
                    conn.rollback()
                    if time.perf_counter() - started > 20:
                        raise RuntimeError(f"probe {n}: no action after 20 s")
                    time.sleep(0.002)
                conn.rollback()
                latencies.append(time.perf_counter() - started)
                time.sleep(rng.uniform(0.02, 0.12))
    return latencies


class Background:
    """Workload events at a steady rate (batches every 100 ms) while probes run."""

    def __init__(self, url: str, key: str, rate: int, customers: int) -> None:
        self.url, self.key, self.rate, self.customers = url, key, rate, customers
        self.stop = threading.Event()
        self.sent = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Background:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def _run(self) -> None:
        per_tick = max(1, self.rate // 10)
        events = make_events(self.rate * 600, self.customers, datetime.now(UTC), seed=7,
                             prefix="bg")
        with httpx.Client(base_url=self.url, timeout=30,
                          headers={"Authorization": f"Bearer {self.key}"}) as client:
            next_at = time.perf_counter()
            while not self.stop.is_set() and self.sent < len(events):
                chunk = events[self.sent:self.sent + per_tick]
                client.post("/v1/events", json={"events": chunk}).raise_for_status()
                self.sent += len(chunk)
                next_at += 0.1
                self.stop.wait(max(0.0, next_at - time.perf_counter()))


def one_run(args: argparse.Namespace, database_url: str, documents: list[dict[str, Any]],
            bodies: list[bytes], run: int) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="circulo-journeys-bench-"))
    env = {"CIRCULO_DATA_DIR": str(data_dir), "CIRCULO_DATABASE_URL": database_url,
           "CIRCULO_EVENT_TYPES": json.dumps(sorted({*BUSINESS, *(t for t, _ in TYPES)}))}
    result: dict[str, Any] = {}
    try:
        key = prepare(data_dir, database_url)
        engine = create_engine(database_url or f"sqlite:///{data_dir / 'circulo.db'}")
        with server(env, workers=1, cli=True) as url:
            if documents:
                setup(url, key, documents)
            seconds, _, errors = post_all(url, "/v1/events", key, bodies, clients=2,
                                          expect=(200,))
            if errors:
                raise RuntimeError(f"{errors} batches were not accepted whole")
            result["events_per_s"] = args.events / seconds
            if documents:
                result["drain_s"] = drain_seconds(engine)
                result["actions"] = _scalar(engine, "SELECT count(*) FROM journey_actions")
                result["instances"] = _scalar(engine,
                                              "SELECT count(*) FROM journey_instances")
                rng = random.Random(run)
                result["idle"] = probe(url, key, engine, args.probes, f"idle{run}", rng)
                with Background(url, key, args.rate, args.customers) as load:
                    result["loaded"] = probe(url, key, engine, args.probes, f"load{run}", rng)
                result["background_sent"] = load.sent
                result["errors"] = _scalar(engine, "SELECT count(*) FROM journey_actions "
                                                   "WHERE kind = 'evaluate'")
        engine.dispose()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--journeys", type=int, default=200)
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--probes", type=int, default=150, help="per run and setting")
    parser.add_argument("--rate", type=int, default=200, help="background events/s")
    parser.add_argument("--repeat", type=int, default=3, help="runs; medians kept")
    args = parser.parse_args()
    database_url = os.environ.get("CIRCULO_DATABASE_URL", "")
    print(f"Machine: {machine()}")
    print(f"Database: {'PostgreSQL' if database_url else 'SQLite'}; circulo serve, 1 process")
    events = make_events(args.events, args.customers, datetime.now(UTC))
    bodies = [orjson.dumps({"events": events[i:i + args.batch]})
              for i in range(0, len(events), args.batch)]
    documents = journeys(args.journeys)
    none_rates, with_rates, drains, idle, loaded = [], [], [], [], []
    idle_p95, loaded_p95 = [], []
    for run in range(args.repeat):
        base = one_run(args, database_url, [], bodies, run)
        full = one_run(args, database_url, documents, bodies, run)
        none_rates.append(base["events_per_s"])
        with_rates.append(full["events_per_s"])
        drains.append(full["drain_s"])
        idle += full["idle"]
        loaded += full["loaded"]
        idle_p95.append(percentile(full["idle"], 95))
        loaded_p95.append(percentile(full["loaded"], 95))
        print(f"run {run + 1}: ingest {base['events_per_s']:,.0f} events/s with no journey, "
              f"{full['events_per_s']:,.0f} with {args.journeys} "
              f"(ratio {full['events_per_s'] / base['events_per_s']:.2f}); inbox empty "
              f"{full['drain_s']:.1f} s after the last batch; {full['instances']:,} "
              f"instances, {full['errors']} errors; event → action p50/p95 "
              f"{percentile(full['idle'], 50) * 1e3:.0f}/{idle_p95[-1] * 1e3:.0f} ms idle, "
              f"{percentile(full['loaded'], 50) * 1e3:.0f}/{loaded_p95[-1] * 1e3:.0f} ms "
              f"with {args.rate} events/s arriving ({full['background_sent']:,} sent)")
    none, with_ = median(none_rates), median(with_rates)
    report = {
        "machine": machine(), "database": "postgresql" if database_url else "sqlite",
        "journeys": args.journeys, "events": args.events, "probes_per_run": args.probes,
        "background_rate": args.rate,
        "ingest_none_events_per_s": [round(r) for r in none_rates],
        "ingest_with_events_per_s": [round(r) for r in with_rates],
        "ingest_ratio": round(with_ / none, 3),
        "inbox_drain_s": [round(d, 1) for d in drains],
        "latency_idle_ms": {"p50": round(percentile(idle, 50) * 1e3, 1),
                            "p95": round(percentile(idle, 95) * 1e3, 1),
                            "p95_runs": [round(p * 1e3, 1) for p in idle_p95]},
        "latency_loaded_ms": {"p50": round(percentile(loaded, 50) * 1e3, 1),
                              "p95": round(percentile(loaded, 95) * 1e3, 1),
                              "p95_runs": [round(p * 1e3, 1) for p in loaded_p95]},
    }
    print(f"\nmedians of {args.repeat} runs: ingest {none:,.0f} events/s with no journey, "
          f"{with_:,.0f} with {args.journeys} (ratio {with_ / none:.2f}; target ≥ 0.80)\n"
          f"event → action p95: idle {median(idle_p95) * 1e3:.0f} ms, with {args.rate} "
          f"events/s arriving {median(loaded_p95) * 1e3:.0f} ms (target < 100 ms); all "
          f"probes: {report['latency_loaded_ms']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "journeys-pg.json" if database_url else "journeys.json"
    (RESULTS / name).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
