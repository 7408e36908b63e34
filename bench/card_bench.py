"""Card lookup by phone with 1,000,000 profiles loaded: in-process latency (p50/p99) against
the raw indexed identifier query, and HTTP throughput on 2 workers (wrk) against /health.

    python bench/card_bench.py [--profiles 1000000] [--lookups 20000] [--seconds 20]

The database is built once under bench/results/ (about a minute) and reused.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, machine, median, percentile, server
from bench.workload import phone_of

from circulo.auth import service as auth
from circulo.config import Settings
from circulo.customers import card_service
from circulo.migrate import upgrade
from circulo.wiring import build_context

KINDS = ["order", "ticket", "dispute", "invoice", "shipment"]


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def build(db_path: Path, profiles: int) -> None:
    """Load profiles, identifiers, records and events straight into SQLite (bulk)."""
    ctx = build_context(Settings(data_dir=db_path.parent))
    upgrade(ctx.db.engine)
    ctx.db.dispose()
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type='index' "
                           "AND sql IS NOT NULL").fetchall()
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    rng = random.Random(42)
    now = datetime.now(UTC)
    batch = 50_000
    for start in range(0, profiles, batch):
        prof, idents, recs, evs = [], [], [], []
        for n in range(start, min(profiles, start + batch)):
            pid = f"{n:032x}"
            created = now - timedelta(days=rng.randint(1, 2000))
            day = (now - timedelta(days=rng.randint(0, 20))).date().isoformat()
            traits = {"first_name": f"Nombre{n}", "last_name": "García", "tier":
                      rng.choice(["standard", "gold", "vip"]), "language": "es",
                      "postal_code": f"28{n % 1000:03d}"}
            indicators = {"days": {day: {"voice": rng.randint(1, 3)}},
                          "contacts_total": rng.randint(1, 30),
                          "last_contact_at": (now - timedelta(days=1)).isoformat(),
                          "csat_sum": 8.0, "csat_count": 2, "csat_last": 4.0,
                          "lifetime_value": round(rng.uniform(0, 8000), 2)}
            open_kind = rng.choice(KINDS) if rng.random() < 0.3 else None
            if open_kind:
                indicators["open_records"] = {open_kind: 1}
                recs.append((pid, pid, open_kind, "bench", f"R{n}", "opened", 1, "Asunto",
                             49.9, "EUR", "{}", _ts(created), _ts(created), None))
            prof.append((pid, "active", None, f"Nombre{n} García", orjson.dumps(traits).decode(),
                         "{}", "{}", orjson.dumps(indicators).decode(), None, _ts(created),
                         _ts(now)))
            idents.append(("phone", f"+34{phone_of(n)}", pid, pid, "bench", _ts(created)))
            idents.append(("email", f"customer{n}@example.es", pid, pid, "bench", _ts(created)))
            for k in range(rng.randint(0, 3)):
                at = now - timedelta(days=rng.randint(0, 90), minutes=k)
                evs.append((f"{n:028x}{k:04x}", "call.completed", "pbx", None, "voice", _ts(at),
                            _ts(at), pid, pid, "attached", "{}", None,
                            '{"reason": "billing"}', None, None))
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO profiles (id, status, merged_into, display_name, traits, "
                         "trait_meta, consent, indicators, pin_hash, created_at, updated_at) "
                         "VALUES (?,?,?,?,?,?,?,?,?,?,?)", prof)
        conn.executemany("INSERT INTO identifiers (kind, value, profile_id, origin_profile_id, "
                         "source, created_at) VALUES (?,?,?,?,?,?)", idents)
        conn.executemany("INSERT INTO records (profile_id, origin_profile_id, kind, source, key, "
                         "status, is_open, title, amount, currency, data, opened_at, updated_at, "
                         "closed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", recs)
        conn.executemany("INSERT INTO events (id, type, source, client_id, channel, occurred_at, "
                         "received_at, profile_id, origin_profile_id, resolution, identifiers, "
                         "traits, properties, extra, candidates) "
                         "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", evs)
        conn.execute("COMMIT")
        print(f"  loaded {min(profiles, start + batch):,} profiles", flush=True)
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("ANALYZE")
    conn.close()


def in_process(db_path: Path, profiles: int, lookups: int, repeat: int) -> dict[str, float]:
    ctx = build_context(Settings(data_dir=db_path.parent))
    rng = random.Random(7)
    phones = [phone_of(rng.randrange(profiles)) for _ in range(lookups)]
    now = datetime.now(UTC)
    # warm-up
    for phone in phones[:500]:
        with ctx.db.unit_of_work(write=False) as session:
            card_service.lookup_card(session, query={"phone": phone}, role="support", lang="es",
                                     postal_code=None, pin=None, settings=ctx.settings,
                                     templates=ctx.templates, policies=ctx.policies, now=now)
    raw = sqlite3.connect(db_path)
    runs = []
    for _ in range(repeat):
        times = []
        for phone in phones:
            started = time.perf_counter()
            with ctx.db.unit_of_work(write=False) as session:
                body = card_service.lookup_card(
                    session, query={"phone": phone}, role="support", lang="es",
                    postal_code=None, pin=None, settings=ctx.settings, templates=ctx.templates,
                    policies=ctx.policies, now=now)
            times.append(time.perf_counter() - started)
            assert body["match"] == "unique", body
        raw_times = []
        for phone in phones:
            started = time.perf_counter()
            raw.execute("SELECT DISTINCT profile_id FROM identifiers WHERE value = ? AND kind = ?",
                        (f"+34{phone}", "phone")).fetchall()
            raw_times.append(time.perf_counter() - started)
        runs.append({"card_p50_ms": median(times) * 1000,
                     "card_p99_ms": percentile(times, 99) * 1000,
                     "raw_p50_ms": median(raw_times) * 1000,
                     "raw_p99_ms": percentile(raw_times, 99) * 1000})
    return {k: median([r[k] for r in runs]) for k in runs[0]}


def wrk(url: str, script: Path | None, seconds: int, key: str) -> dict[str, float]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed for the HTTP part: apt-get install wrk")
    args = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency",
            "-H", f"Authorization: Bearer {key}"]
    if script:
        args += ["-s", str(script)]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def lat(pct: str) -> float:
        match = re.search(rf"{pct}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(match.group(1)), match.group(2)  # type: ignore[union-attr]
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{non2xx.group(1)} failed requests:\n{out}")
    return {"rps": rps, "p50_ms": lat("50"), "p99_ms": lat("99")}


def http(db_path: Path, profiles: int, seconds: int, repeat: int) -> dict[str, float]:
    ctx = build_context(Settings(data_dir=db_path.parent))
    with ctx.db.unit_of_work() as session:
        _, key = auth.create_key(session, "bench", ["read"], ctx.clock.now())
    ctx.db.dispose()
    rng = random.Random(9)
    phones = ", ".join(f'"{phone_of(rng.randrange(profiles))}"' for _ in range(5000))
    script = Path(tempfile.mkdtemp()) / "cards.lua"
    script.write_text(
        f"local phones = {{{phones}}}\n"
        "math.randomseed(7)\n"
        "request = function()\n"
        "  return wrk.format('GET', '/v1/cards?role=support&phone=' .. "
        "phones[math.random(#phones)])\n"
        "end\n")
    runs: list[dict[str, float]] = []
    with server({"CIRCULO_DATA_DIR": str(db_path.parent)}, workers=2) as url:
        wrk(f"{url}/v1/cards?phone={phone_of(1)}", None, 3, key)  # warm-up
        for _ in range(repeat):
            cards = wrk(url, script, seconds, key)
            health = wrk(f"{url}/health", None, seconds, key)
            runs.append({"cards_rps": cards["rps"], "cards_p50_ms": cards["p50_ms"],
                         "cards_p99_ms": cards["p99_ms"], "health_rps": health["rps"]})
    result = {k: median([r[k] for r in runs]) for k in runs[0]}
    result["cards_rps_runs"] = [r["cards_rps"] for r in runs]  # type: ignore[assignment]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=20_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="HTTP runs; medians kept")
    args = parser.parse_args()
    db_dir = RESULTS / f"cards-{args.profiles}"
    db_path = db_dir / "circulo.db"
    if args.rebuild or not db_path.exists():
        shutil.rmtree(db_dir, ignore_errors=True)
        db_dir.mkdir(parents=True)
        print(f"Building {args.profiles:,} profiles...")
        build(db_path, args.profiles)
    print(f"Machine: {machine()}")
    local = in_process(db_path, args.profiles, args.lookups, args.repeat)
    print(f"In-process card lookup by phone (median of {args.repeat} runs of {args.lookups:,} "
          f"random customers of "
          f"{args.profiles:,}): p50 {local['card_p50_ms']:.2f} ms, p99 {local['card_p99_ms']:.2f} "
          f"ms; raw indexed query: p50 {local['raw_p50_ms'] * 1000:.0f} µs, "
          f"p99 {local['raw_p99_ms'] * 1000:.0f} µs")
    remote = http(db_path, args.profiles, args.seconds, args.repeat)
    print(f"HTTP, 2 workers, wrk 2 threads x 32 connections, median of {args.repeat} runs "
          f"{remote['cards_rps_runs']}: {remote['cards_rps']:,.0f} cards/s "
          f"(p50 {remote['cards_p50_ms']:.1f} ms, p99 {remote['cards_p99_ms']:.1f} ms); "
          f"/health on the same server: {remote['health_rps']:,.0f} requests/s; "
          f"ratio {remote['cards_rps'] / remote['health_rps']:.2f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cards.json").write_text(json.dumps(
        {"machine": machine(), "profiles": args.profiles, **local, **remote}, indent=2))


if __name__ == "__main__":
    main()
