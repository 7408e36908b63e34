"""Reports for a month of a 100-agent center: about 150,000 contacts with their routing
events and survey answers, bulk-inserted into a fresh database, then the report (in
process, median of 5) and the page and CSV over HTTP (median of 5).

    python bench/reports_bench.py [--agents 100] [--contacts 150000] [--days 30]
                                  [--database-url postgresql+psycopg://...]

Without ``--database-url`` the data goes to a new SQLite file under bench/results/.
``fill`` is also what the browser test uses to give its page a month of history.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from circulo.customers.models import Event
from circulo.db import Database
from circulo.routing.models import TaskRow

QUEUES = {"general": 20.0, "billing": 30.0, "sales": 20.0, "support": 60.0}  # SL seconds
CHANNELS = (("voice", 0.6), ("chat", 0.25), ("email", 0.15))
REASONS = ("billing", "card", "delivery", "return", "address", "password", "complaint",
           "new_contract", "cancel", "other")
EVENT_TYPE = {"voice": "call", "chat": "chat", "email": "email"}


def fill(db: Database, *, first: date, days: int, agents: int, contacts: int, seed: int = 16,
         customers: int | None = None, chunk: int = 5000) -> int:
    """``contacts`` contacts spread over ``days`` local days from ``first`` (09:00–21:00
    Madrid, roughly), each with its routing events; a third of the handled ones get a survey
    answer (two thirds naming the task). Returns the rows written."""
    rng = random.Random(seed)
    agent_ids = [f"agent{n:03d}" for n in range(1, agents + 1)]
    people = customers or max(1, contacts * 2 // 5)
    start = datetime(first.year, first.month, first.day, 8, 0, tzinfo=UTC)
    tasks: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    written = 0
    for n in range(contacts):
        created = start + timedelta(days=rng.randrange(days), seconds=rng.uniform(0, 12 * 3600))
        queue = rng.choice(list(QUEUES))
        channel = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
        customer = f"cust{rng.randrange(people):08d}"
        reason = rng.choice(REASONS) if rng.random() < 0.9 else None
        waited = rng.expovariate(1 / 25)
        abandoned = rng.random() < 0.06
        agent = None if abandoned else rng.choice(agent_ids)
        assigned = None if abandoned else created + timedelta(seconds=waited)
        completed = created + timedelta(seconds=waited) if abandoned else \
            created + timedelta(seconds=waited + rng.uniform(90, 720))
        task_id = f"bt{n:010d}"
        tasks.append({
            "id": task_id, "source": "bench", "external_id": None, "kind": "contact",
            "queue": queue, "channel": channel, "state": "abandoned" if abandoned
            else "completed", "customer_id": customer, "identifiers": {}, "priority": 0,
            "skills": {}, "language": "es", "attributes": {}, "context": {}, "team": None,
            "boost": 0, "sl_seconds": QUEUES[queue], "not_before": None, "window_end": None,
            "attempts": 0 if abandoned else 1, "max_attempts": 1, "parent_id": None,
            "reason": reason, "declined": {}, "agent_id": agent, "created_at": created,
            "queued_at": created, "reserved_until": None, "assigned_at": assigned,
            "ended_at": completed, "completed_at": completed,
            "outcome": "abandoned" if abandoned else "resolved", "result": {}, "version": 3,
            "changed_at": completed})
        kind = EVENT_TYPE[channel]
        facts = [(f"{kind}.abandoned", completed, {"waited_seconds": round(waited, 1)})] \
            if abandoned else [
                (f"{kind}.answered", assigned, {"agent_id": agent}),
                (f"{kind}.completed", completed, {"agent_id": agent, "outcome": "resolved"})]
        for event_type, at, properties in facts:
            events.append(_event(f"{task_id}:{event_type}", event_type, "routing", at,
                                 customer, {"task_id": task_id, "queue": queue, **properties}))
        if not abandoned and rng.random() < 0.33:
            csat = rng.choices([1, 2, 3, 4, 5], weights=[6, 8, 16, 35, 35])[0]
            named = {"task_id": task_id} if rng.random() < 0.67 else {}
            events.append(_event(f"{task_id}:survey", "survey.answered", "surveys",
                                 completed + timedelta(minutes=rng.uniform(1, 120)), customer,
                                 {"csat": csat, "nps": min(10, max(0, csat * 2 +
                                                                   rng.randint(-1, 1))),
                                  **named}))
        if len(tasks) >= chunk:
            written += _flush(db, tasks, events)
    return written + _flush(db, tasks, events)


def _event(client_id: str, event_type: str, source: str, at: datetime, customer: str,
           properties: dict[str, Any]) -> dict[str, Any]:
    return {"id": client_id.replace(":", "_")[:32], "type": event_type, "source": source,
            "client_id": client_id, "channel": None, "occurred_at": at, "received_at": at,
            "profile_id": customer, "origin_profile_id": customer, "resolution": "attached",
            "identifiers": {"customer_id": customer}, "traits": None,
            "properties": properties, "extra": None, "candidates": None}


def _flush(db: Database, tasks: list[dict[str, Any]], events: list[dict[str, Any]]) -> int:
    count = len(tasks) + len(events)
    with db.unit_of_work() as session:
        if tasks:
            session.execute(insert(TaskRow.__table__), tasks)
        if events:
            session.execute(insert(Event.__table__), events)
    tasks.clear()
    events.clear()
    return count


def main() -> None:
    from bench.common import RESULTS, machine
    from fastapi.testclient import TestClient

    from circulo.api_deps import session_times
    from circulo.app import create_app
    from circulo.auth import service as auth
    from circulo.auth import users
    from circulo.clock import FixedClock
    from circulo.config import Settings
    from circulo.migrate import upgrade
    from circulo.reports import service
    from circulo.wiring import build_context

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--contacts", type=int, default=150_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--database-url")
    parser.add_argument("--reuse", action="store_true",
                        help="time the database a previous run filled (SQLite file only)")
    args = parser.parse_args()

    first = date(2026, 11, 1)
    url = args.database_url
    if url is None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / "reports.db"
        if not args.reuse:
            path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    db = Database(url)
    upgrade(db.engine)
    print(f"machine: {machine()}")
    if not (args.reuse and args.database_url is None):
        with db.unit_of_work() as session:  # a rerun on PostgreSQL starts clean
            session.execute(TaskRow.__table__.delete().where(TaskRow.source == "bench"))
            session.execute(Event.__table__.delete().where(Event.profile_id.like("cust%")))
        began = time.perf_counter()
        rows = fill(db, first=first, days=args.days, agents=args.agents,
                    contacts=args.contacts)
        print(f"database: {db.dialect}; {args.contacts:,} contacts, {args.agents} agents, "
              f"{args.days} days: {rows:,} rows in {time.perf_counter() - began:.1f} s")

    last = first + timedelta(days=args.days - 1)
    now = datetime(last.year, last.month, last.day, 22, 0, tzinfo=UTC)
    period = service.period_of(first.isoformat(), last.isoformat(), "Europe/Madrid", now)
    timings, cpu = [], []
    for _ in range(5):
        began, began_cpu = time.perf_counter(), time.process_time()
        with db.unit_of_work() as session:
            report = service.report(session, period)
        timings.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    print(f"load average before timing: {os.getloadavg()[0]:.1f}")
    print(f"report in process: median {statistics.median(timings) * 1000:.0f} ms wall "
          f"(min {min(timings) * 1000:.0f}, max {max(timings) * 1000:.0f}), "
          f"median {statistics.median(cpu) * 1000:.0f} ms CPU; "
          f"{report.service.offered:,} contacts, SL {report.service.service_level} %, "
          f"FCR {report.resolution.first_contact_resolution} %, NPS {report.nps}")

    settings = Settings(database_url=url)
    ctx = build_context(settings, FixedClock(now), db=db)
    with db.unit_of_work() as session:
        if users.find_user(session, "bench-supervisor") is None:
            users.create_user(session, users.UserSpec(
                username="bench-supervisor", name="Bench", role="supervisor",
                language="es"), "correct horse battery", now)
        signed = users.sign_in(session, "bench-supervisor", "correct horse battery", None,
                               now, session_times(ctx))
        _, key = auth.create_key(session, "bench-reports", ["read"], now)
    query = f"from={first}&to={last}"
    with TestClient(create_app(settings, ctx=ctx)) as client:
        client.cookies.set(users.COOKIE, signed.token)
        for label, path, headers in (
                ("page /reports (month)", f"/reports?period=custom&{query}", {}),
                ("GET /v1/reports", f"/v1/reports?{query}",
                 {"Authorization": f"Bearer {key}"}),
                ("GET /v1/reports.csv", f"/v1/reports.csv?{query}",
                 {"Authorization": f"Bearer {key}"})):
            timings, cpu = [], []
            for _ in range(5):
                began, began_cpu = time.perf_counter(), time.process_time()
                response = client.get(path, headers=headers)
                timings.append(time.perf_counter() - began)
                cpu.append(time.process_time() - began_cpu)
                assert response.status_code == 200, response.text[:500]
            print(f"{label}: median {statistics.median(timings) * 1000:.0f} ms wall, "
                  f"{statistics.median(cpu) * 1000:.0f} ms CPU ({len(response.content):,} "
                  "bytes)")
    db.dispose()


if __name__ == "__main__":
    main()
