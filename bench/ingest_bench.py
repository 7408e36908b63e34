"""Ingest through the HTTP batch API on SQLite, identity resolution and indicators included,
against the storage ceiling: a plain bulk insert of the same rows into the same database.

    python bench/ingest_bench.py [--events 60000] [--customers 20000] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, machine, median, percentile, post_all, server
from bench.workload import make_events

from circulo.auth import service as auth
from circulo.config import Settings
from circulo.migrate import upgrade
from circulo.wiring import build_context


def prepare_db(data_dir: Path) -> str:
    ctx = build_context(Settings(data_dir=data_dir))
    upgrade(ctx.db.engine)
    with ctx.db.unit_of_work() as session:
        _, secret = auth.create_key(session, "bench", ["ingest"], ctx.clock.now())
    ctx.db.dispose()
    return secret


def storage_ceiling(db_path: Path, batch: int) -> float:
    """Rows/s of a plain executemany of the stored event rows into a twin table."""
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("DROP TABLE IF EXISTS events_twin")
    schema = conn.execute("SELECT sql FROM sqlite_master WHERE name='events'").fetchone()[0]
    conn.execute(schema.replace("CREATE TABLE events", "CREATE TABLE events_twin", 1)
                 .replace("uq_events_client_id_source", "uq_twin"))
    for (index_sql,) in conn.execute(
        "SELECT sql FROM sqlite_master WHERE type='index' AND tbl_name='events' AND sql NOT NULL"
    ).fetchall():
        conn.execute(index_sql.replace(" ON events ", " ON events_twin ")
                     .replace("INDEX ix_events", "INDEX ix_twin"))
    rows = conn.execute("SELECT * FROM events").fetchall()
    placeholders = ",".join("?" * len(rows[0]))
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO events_twin VALUES ({placeholders})",
                         rows[start:start + batch])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.execute("DROP TABLE events_twin")
    conn.close()
    return len(rows) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3, help="runs per setting; medians kept")
    args = parser.parse_args()
    now = datetime.now(UTC)
    report: dict[str, object] = {"machine": machine(), "events": args.events,
                                 "customers": args.customers, "batch": args.batch, "runs": []}
    print(f"Machine: {report['machine']}")
    events = make_events(args.events, args.customers, now)
    bodies = [orjson.dumps({"events": events[i:i + args.batch]})
              for i in range(0, len(events), args.batch)]
    for workers in args.workers:
        rates, ceilings, medians, p95s = [], [], [], []
        for _ in range(args.repeat):
            data_dir = Path(tempfile.mkdtemp(prefix="circulo-bench-"))
            key = prepare_db(data_dir)
            with server({"CIRCULO_DATA_DIR": str(data_dir)}, workers) as url:
                elapsed, latencies, errors = post_all(url, "/v1/events", key, bodies,
                                                     clients=max(2, workers), expect=(200,))
                if errors:
                    raise RuntimeError(f"{errors} batches were not accepted whole")
            rates.append(args.events / elapsed)
            ceilings.append(storage_ceiling(data_dir / "circulo.db", args.batch))
            medians.append(median(latencies))
            p95s.append(percentile(latencies, 95))
            shutil.rmtree(data_dir, ignore_errors=True)
        rate, ceiling = median(rates), median(ceilings)
        run = {"workers": workers, "events_per_s": round(rate),
               "events_per_s_runs": [round(r) for r in rates],
               "batch_latency_median_ms": round(median(medians) * 1000),
               "batch_latency_p95_ms": round(median(p95s) * 1000),
               "storage_ceiling_rows_per_s": round(ceiling),
               "ratio_to_ceiling": round(rate / ceiling, 3)}
        report["runs"].append(run)  # type: ignore[attr-defined]
        print(f"workers={workers}: {rate:,.0f} events/s through HTTP, median of "
              f"{[round(r) for r in rates]} (batch of {args.batch}: median "
              f"{run['batch_latency_median_ms']} ms, p95 {run['batch_latency_p95_ms']} ms); "
              f"plain bulk insert of the same rows: {ceiling:,.0f} rows/s; "
              f"ratio {rate / ceiling:.2f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ingest.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
