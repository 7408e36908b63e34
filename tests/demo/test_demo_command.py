"""``circulo demo`` runs what ``circulo serve`` runs (journeys included), refuses a port in use
before creating anything, reuses its key, and the CLI says which database it reads."""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from circulo.app import create_app
from circulo.auth import service as auth
from circulo.cli import app as cli
from circulo.config import get_settings
from circulo.context import AppContext
from tests.live import free_port, start_demo

ROOT = Path(__file__).resolve().parents[2]
MARIA = "+34600123456"


def _keys(ctx: AppContext) -> list[str]:
    with ctx.db.unit_of_work(write=False) as session:
        return [key.name for key in auth.list_keys(session)]


def test_the_serving_app_runs_every_background_loop(ctx: AppContext) -> None:
    settings = ctx.settings.with_overrides(routing_background=True)
    ctx.settings = settings
    before = {t.name for t in threading.enumerate()}
    with TestClient(create_app(settings, ctx=ctx, outbox=True)):
        running = {t.name for t in threading.enumerate()} - before
    assert {"routing-dispatcher", "journeys-runner", "speech-worker", "outbox-worker"} \
        <= running
    assert "speech-worker" not in {t.name for t in threading.enumerate()}, "it stopped"


def test_the_demo_traffic_runs_only_when_switched_on_and_stops_with_the_app(
        ctx: AppContext) -> None:
    for switched_on in (False, True):
        settings = ctx.settings.with_overrides(routing_background=True,
                                               demo_traffic=switched_on)
        ctx.settings = settings
        before = {t.name for t in threading.enumerate()}
        with TestClient(create_app(settings, ctx=ctx)):
            running = {t.name for t in threading.enumerate()} - before
        assert ("demo-traffic" in running) is switched_on
        assert "demo-traffic" not in {t.name for t in threading.enumerate()}, "it stopped"


def test_make_demo_acts_on_the_example_journeys(ctx: AppContext, tmp_path: Path) -> None:
    """The demo command, as ``make demo`` runs it, with a journey acting on a live event."""
    port = free_port()
    log = tmp_path / "demo.log"
    env = {**os.environ, "CIRCULO_DATABASE_URL": ctx.db.url,
           "CIRCULO_DATA_DIR": str(tmp_path / "data"), "CIRCULO_PORT": str(port),
           "COLUMNS": "200"}
    proc, base = start_demo(["--customers", "40", "--no-live", "--journeys",
                             str(ROOT / "examples" / "journeys")], env, log)
    try:
        secret = (tmp_path / "data" / "demo-key").read_text().strip()
        assert secret in log.read_text()
        headers = {"Authorization": f"Bearer {secret}"}
        with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
            journeys = client.get("/v1/journeys").json()
            assert {j["key"] for j in journeys if j["status"] == "active"} >= {
                "card-use-and-fraud", "low-score-rescue", "carrier-incident"}
            sent = client.post("/v1/events", json={"events": [{
                "type": "card.used", "source": "cards", "id": "live-card-1",
                "identifiers": {"phone": MARIA},
                "properties": {"amount": 980, "currency": "EUR", "merchant": "Unknown LLC",
                               "last4": "7311", "risk_score": 0.95}}]})
            assert sent.status_code == 200, sent.text
            found: list[dict[str, object]] = []
            until = time.monotonic() + 10
            while not found and time.monotonic() < until:
                found = client.get("/v1/journeys/card-use-and-fraud/instances").json()
                time.sleep(0.2)
        assert found, "no journey acted in the demo"
        # Served as circulo serve is: an access log line per request, with its request id.
        traced = httpx.get(f"{base}/health", headers={"X-Request-ID": "demo-trace-1"})
        assert traced.headers["x-request-id"] == "demo-trace-1"
        time.sleep(0.2)
        assert re.search(r"circulo\.access \[demo-trace-1\] GET /health 200 ", log.read_text())
    finally:
        proc.terminate()
        proc.wait(timeout=30)


CREDENTIALS = re.compile(r"(agent|supervisor|admin)\s+(?:user|usuario)\s+(\S+)\s+"
                         r"(?:password|contraseña)\s+(\S+)")


def _sign_in(base: str, username: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=base, timeout=10) as browser:
        form = browser.get("/sign-in")
        assert form.status_code == 200, form.text
        token = re.search(r'name="login_token" value="([^"]+)"', form.text)
        assert token, form.text
        return browser.post("/sign-in", data={"username": username, "password": password,
                                              "login_token": token.group(1)})


def test_make_demo_prints_the_desktop_and_people_who_sign_in_while_contacts_flow(
        ctx: AppContext, tmp_path: Path) -> None:
    """What a newcomer does: ``make demo`` (CIRCULO_DEMO_TRAFFIC=1), read the address and the
    passwords it prints, sign in; meanwhile simulated contacts enter the queues."""
    makefile = (ROOT / "Makefile").read_text("utf-8")
    assert "CIRCULO_DEMO_TRAFFIC=1" in makefile.split("\ndemo:")[1].split("\n\n")[0]
    port = free_port()
    log = tmp_path / "demo.log"
    env = {**os.environ, "CIRCULO_DATABASE_URL": ctx.db.url,
           "CIRCULO_DATA_DIR": str(tmp_path / "data"), "CIRCULO_PORT": str(port),
           "CIRCULO_DEMO_TRAFFIC": "1", "CIRCULO_DEMO_TRAFFIC_MIN_SECONDS": "0.5",
           "CIRCULO_DEMO_TRAFFIC_MAX_SECONDS": "1", "COLUMNS": "200", "LANG": "en_GB.UTF-8"}
    proc, base = start_demo(["--customers", "40"], env, log)
    try:
        printed = log.read_text()
        assert f"{base}/" in printed
        people = {role: (username, password)
                  for role, username, password in CREDENTIALS.findall(printed)}
        assert set(people) == {"agent", "supervisor", "admin"}, printed
        kept = (tmp_path / "data" / "demo-users").read_text()
        for username, password in people.values():
            assert f"{username}\t{password}" in kept
            signed = _sign_in(base, username, password)
            assert signed.status_code == 303, signed.text
            assert signed.headers["location"] != "/sign-in"
        assert _sign_in(base, people["agent"][0], "not-the-password").status_code != 303
        secret = (tmp_path / "data" / "demo-key").read_text().strip()
        headers = {"Authorization": f"Bearer {secret}"}
        demo_tasks: list[dict[str, Any]] = []
        until = time.monotonic() + 20
        while len(demo_tasks) < 3 and time.monotonic() < until:
            tasks = httpx.get(f"{base}/v1/tasks", headers=headers, timeout=5).json()
            demo_tasks = [t for t in tasks if "reason_code" in t["attributes"]]
            time.sleep(0.3)
        assert len(demo_tasks) >= 3, "no simulated contacts entered the queues"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_port_in_use_is_reported_before_any_key_is_created(ctx: AppContext,
                                                            tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "circulo.cli", "demo", "--customers", "20"],
            env={**os.environ, "CIRCULO_DATABASE_URL": ctx.db.url, "PORT": "1",
                 "CIRCULO_DATA_DIR": str(tmp_path), "CIRCULO_PORT": str(port)},
            capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0
    assert f"127.0.0.1:{port}" in done.stderr and "in use" in done.stderr, done.stderr
    assert _keys(ctx) == []


def test_the_demo_reuses_its_key(ctx: AppContext, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIRCULO_DATABASE_URL", ctx.db.url)
    monkeypatch.setenv("CIRCULO_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        outputs = [runner.invoke(cli, ["demo", "--customers", "20", "--no-serve"])
                   for _ in range(2)]
    finally:
        get_settings.cache_clear()
    for output in outputs:
        assert output.exit_code == 0, output.output
    secrets = [re.findall(r"ck_[\w-]+", o.output)[0] for o in outputs]
    assert secrets[0] == secrets[1]
    assert all("http://127.0.0.1:" in o.output for o in outputs)
    people = [CREDENTIALS.findall(o.output) for o in outputs]
    assert len(people[0]) == 3 and people[0] == people[1]  # the same passwords every run
    assert _keys(ctx) == ["demo"]
    stored = tmp_path / "demo-key"
    assert stored.read_text().strip() == secrets[0]
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    with ctx.db.unit_of_work() as session:  # revoked: the next run makes a new one
        auth.revoke_key(session, secrets[0].split("_")[1], ctx.clock.now())
    get_settings.cache_clear()
    try:
        again = CliRunner().invoke(cli, ["demo", "--customers", "20", "--no-serve"])
    finally:
        get_settings.cache_clear()
    assert again.exit_code == 0, again.output
    assert re.findall(r"ck_[\w-]+", again.output)[0] != secrets[0]
    assert len(_keys(ctx)) == 2


def test_the_cli_reads_the_data_dir_it_is_given_and_warns_before_a_new_database(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CIRCULO_DATABASE_URL", "CIRCULO_DATA_DIR"):  # restored afterwards
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    server = tmp_path / "server"
    runner = CliRunner()
    get_settings.cache_clear()
    try:
        created = runner.invoke(cli, ["--data-dir", str(server), "keys", "create", "--name",
                                      "desk", "--scope", "read"])
        assert created.exit_code == 0, created.output
        assert "new, empty database" in created.output
        listed = runner.invoke(cli, ["--data-dir", str(server), "keys", "list"])
        assert "desk" in listed.output and "empty database" not in listed.output
        # The same through circulo.env in the current directory.
        monkeypatch.delenv("CIRCULO_DATA_DIR")  # --data-dir set it for this process
        (tmp_path / "circulo.env").write_text(f"CIRCULO_DATA_DIR={server}\n")
        get_settings.cache_clear()
        assert "desk" in runner.invoke(cli, ["keys", "list"]).output
        (tmp_path / "circulo.env").unlink()
        get_settings.cache_clear()
        elsewhere = runner.invoke(cli, ["keys", "list"])
        assert "new, empty database" in elsewhere.output and "desk" not in elsewhere.output
    finally:
        get_settings.cache_clear()
