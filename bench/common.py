"""Helpers shared by the benchmarks: machine description, a server in a subprocess, stats."""

from __future__ import annotations

import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(env: dict[str, str], workers: int, *, cli: bool = False) -> Iterator[str]:
    """The API in a subprocess (uvicorn; with ``cli``, the real ``circulo serve``: outbox
    worker, routing loop and journeys runner included); yields its base URL; stops it."""
    port = free_port()
    argv = [sys.executable, "-c", "from circulo.cli import app; app()", "serve",
            "--port", str(port), "--workers", str(workers)] if cli else \
        [sys.executable, "-m", "uvicorn", "circulo.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
         "--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(argv, env={**os.environ, **env}, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError("server did not start")
        time.sleep(0.5 * workers)  # let every worker finish importing
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def post_all(url: str, path: str, key: str, bodies: list[bytes], clients: int,
             expect: tuple[int, ...] = (200, 201)) -> tuple[float, list[float], int]:
    """POST every body to ``path`` from ``clients`` threads, one request at a time each:
    (seconds, latencies, answers with a status outside ``expect``; the first three printed)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    pending = list(reversed(bodies))

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=120,
                          headers={"Authorization": f"Bearer {key}",
                                   "Content-Type": "application/json"}) as client:
            while True:
                with lock:
                    if not pending:
                        return
                    body = pending.pop()
                started = time.perf_counter()
                response = client.post(path, content=body)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if response.status_code not in expect:
                        errors[0] += 1
                        if errors[0] <= 3:
                            print(f"  {path}: {response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, errors[0]
