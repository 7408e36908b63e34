"""A real Círculo server in a subprocess, for clients that speak HTTP themselves."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import TEST_EGRESS_ALLOW


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(proc: subprocess.Popen[bytes], base: str, timeout: float = 30) -> bool:
    """Wait until ``base`` answers /health (True) or the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            time.sleep(0.1)
    return False


def serve_on(database_url: str, port: int, *, cli: bool = False, **env: str
             ) -> subprocess.Popen[bytes]:
    """The app under uvicorn, or (``cli``) exactly what ``circulo serve`` runs, outbox
    worker included, on this very port (a test restarting it keeps the page's address)."""
    command = ([sys.executable, "-m", "circulo.cli", "serve", "--port", str(port)] if cli
               else [sys.executable, "-m", "uvicorn", "circulo.app:create_app", "--factory",
                     "--port", str(port), "--log-level", "warning"])
    proc = subprocess.Popen(
        command, env={**os.environ, "CIRCULO_DATABASE_URL": database_url,
                      "CIRCULO_EGRESS_ALLOW": ",".join(TEST_EGRESS_ALLOW), **env})
    if not healthy(proc, f"http://127.0.0.1:{port}"):
        proc.kill()
        proc.wait()
        raise RuntimeError("server did not start")
    return proc


def start_server(database_url: str, *, cli: bool = False, **env: str
                 ) -> tuple[subprocess.Popen[bytes], str]:
    """:func:`serve_on` a free port; a port taken between choosing and binding it is
    retried."""
    for _ in range(3):
        port = free_port()
        try:
            return serve_on(database_url, port, cli=cli, **env), f"http://127.0.0.1:{port}"
        except RuntimeError:
            continue
    raise RuntimeError("server did not start")


def start_demo(args: list[str], env: dict[str, str], log: Path, *, timeout: float = 90
               ) -> tuple[subprocess.Popen[bytes], str]:
    """``circulo demo ARGS`` as ``make demo`` runs it, its output in ``log``, on the port
    ``env`` names (``CIRCULO_PORT``); waits until it serves. A demo that died is asserted
    with its output."""
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "circulo.cli", "demo", *args],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{env['CIRCULO_PORT']}"
    healthy(proc, base, timeout)
    if proc.poll() is not None:
        raise AssertionError(log.read_text("utf-8"))
    return proc, base


@contextmanager
def live_server(database_url: str, *, cli: bool = False, **env: str) -> Iterator[str]:
    proc, base = start_server(database_url, cli=cli, **env)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
