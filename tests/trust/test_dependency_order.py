"""The dependency order of docs/architecture.md holds, and the start-up wiring that replaces
upward imports cannot be forgotten: ingest hands what it stored to subscribers that every
entry point registers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import circulo
from circulo import hooks

ROOT = Path(__file__).resolve().parents[2]
SRC = Path(circulo.__file__).resolve().parents[1]


def _python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter: nothing registered by an earlier test."""
    env = {**os.environ, "PYTHONPATH": str(SRC), "CIRCULO_DATA_DIR": str(tmp_path)}
    env.pop("CIRCULO_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120, check=False)


def test_the_import_contracts_hold() -> None:
    """Layers (api → orchestration → domains in order → core), no cycle inside a domain,
    a core that knows no domain, pure engines: `lint-imports`, as `make lint` runs it."""
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter), "--no-cache"], capture_output=True, text=True,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(SRC)},
                            timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 kept, 0 broken" in result.stdout


INGEST_ONE = """
from circulo.context import AppContext
from circulo.config import Settings
from circulo.migrate import upgrade
from circulo.ingest import service
ctx = AppContext.build(Settings())
upgrade(ctx.db.engine)
with ctx.db.unit_of_work() as session:
    service.ingest(session, {"type": "call.completed", "source": "pbx",
                             "identifiers": {"phone": "+34600000001"}},
                   settings=ctx.settings, policies=ctx.policies, now=ctx.clock.now(),
                   actor="test")
"""


def test_ingest_refuses_to_run_unwired(tmp_path: Path) -> None:
    """A process that forgot the wiring fails on its first event, loudly, and stores
    nothing, instead of silently never queuing a webhook or a journey."""
    result = _python(INGEST_ONE, tmp_path)
    assert result.returncode != 0
    assert "NotWired" in result.stderr and "register_handlers" in result.stderr


def test_every_entry_point_registers_the_subscribers(tmp_path: Path) -> None:
    expected = "['outbox', 'journeys', 'surveys', 'text']"
    app = _python("from circulo import hooks\nfrom circulo.app import create_app\n"
                  "create_app()\nprint(hooks.ingested.names())", tmp_path)
    assert app.stdout.strip() == expected, app.stderr
    cli = _python("from circulo import hooks\nfrom circulo.cli import _context\n"
                  "_context()\nprint(hooks.ingested.names())", tmp_path)
    assert cli.stdout.strip() == expected, cli.stderr
    wired = _python("from circulo import wiring, hooks\nwiring.register_handlers()\n"
                    + INGEST_ONE + "\nprint(hooks.ingested.names())", tmp_path)
    assert wired.returncode == 0 and wired.stdout.strip() == expected, wired.stderr


def test_a_registry_read_before_wiring_raises() -> None:
    registry: hooks.Registry[int] = hooks.Registry("something")
    with pytest.raises(hooks.NotWired, match="something"):
        registry.handlers()
    registry.register("a", 1)
    registry.register("a", 2)  # wiring twice replaces, never doubles
    assert registry.handlers() == [2]
