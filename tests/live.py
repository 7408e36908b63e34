"""A real Círculo server in a subprocess, for clients that speak HTTP themselves."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.conftest import TEST_EGRESS_ALLOW


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(database_url: str, *, cli: bool = False, **env: str
                 ) -> tuple[subprocess.Popen[bytes], str]:
    """The app under uvicorn, or (``cli``) exactly what ``circulo serve`` runs, outbox
    worker included. A port taken between choosing and binding it is retried."""
    for _ in range(3):
        port = free_port()
        command = ([sys.executable, "-m", "circulo.cli", "serve", "--port", str(port)] if cli
                   else [sys.executable, "-m", "uvicorn", "circulo.app:create_app", "--factory",
                         "--port", str(port), "--log-level", "warning"])
        proc = subprocess.Popen(
            command, env={**os.environ, "CIRCULO_DATABASE_URL": database_url,
                          "CIRCULO_EGRESS_ALLOW": ",".join(TEST_EGRESS_ALLOW), **env},
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    return proc, base
            except httpx.HTTPError:
                time.sleep(0.1)
        proc.kill()
        proc.wait()
    raise RuntimeError("server did not start")


@contextmanager
def live_server(database_url: str, *, cli: bool = False, **env: str) -> Iterator[str]:
    proc, base = start_server(database_url, cli=cli, **env)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
