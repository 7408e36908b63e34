"""The desk's customer side over HTTP against a live server (SQLite): how long the panel an
offer loads takes to render (card, S12 context, notes, viewers, history), the viewers poll,
and a search by phone. María López's world from the browser test, signed in as Ana.

    PYTHONPATH=src:. python bench/customer_panel_bench.py [--requests 60]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from tests.live import live_server
from tests.web.customer_world import PASSWORD, build, make_users

from circulo.auth import service as auth
from circulo.db import Database
from circulo.migrate import upgrade


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(db.engine)
        now = datetime.now(UTC)
        make_users(db, now)
        with db.unit_of_work() as session:
            _, key = auth.create_key(session, "bench", ["admin"], now)
        with live_server(db.url) as base, httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {key}"}) as system, \
                httpx.Client(base_url=base) as agent:
            world = build(system.post, system.put, now)
            form = agent.get("/sign-in").text
            token = re.search(r'name="login_token" value="([^"]+)"', form)
            assert token
            agent.post("/sign-in", data={"username": "ana", "password": PASSWORD,
                                         "login_token": token.group(1)})
            for name, url in (
                    ("panel", f"/desk/customers/{world.maria}/panel?task={world.task}"),
                    ("viewers poll", f"/desk/customers/{world.maria}/viewers"),
                    ("search by phone", "/desk/search?q=0034%20600%2012%2034%2056")):
                times = []
                for _ in range(args.requests):
                    start = time.perf_counter()
                    answer = agent.get(url, headers={"HX-Request": "true"})
                    times.append((time.perf_counter() - start) * 1000)
                    assert answer.status_code == 200, answer.text
                times.sort()
                print(f"{name}: median {statistics.median(times):.1f} ms, "
                      f"p95 {times[int(len(times) * 0.95)]:.1f} ms ({args.requests} requests)")
        db.dispose()


if __name__ == "__main__":
    main()
