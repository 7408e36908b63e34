"""An app whose recordings live in the test's own folder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from circulo.app import create_app
from circulo.clock import FixedClock
from circulo.config import Settings
from circulo.context import AppContext
from circulo.db import Database
from circulo.speech.worker import worker_of
from circulo.wiring import build_context
from tests.conftest import TEST_EGRESS_ALLOW, Api, make_key, wipe


@dataclass
class Speech:
    api: Api
    ctx: AppContext
    folder: Path

    def run(self) -> int:
        return worker_of(self.ctx).run_until_idle()

    def files(self) -> list[str]:
        return sorted(p.name for p in self.folder.glob("*")) if self.folder.exists() else []


@pytest.fixture
def make_speech(database: Database, clock: FixedClock, tmp_path: Path
                ) -> Iterator[Any]:
    clients: list[TestClient] = []

    def make(**overrides: Any) -> Speech:
        settings = Settings(database_url=database.url, data_dir=tmp_path,
                            **{"egress_allow": TEST_EGRESS_ALLOW, **overrides})
        context = build_context(settings, clock, db=database)
        client = TestClient(create_app(settings, ctx=context))
        client.__enter__()
        clients.append(client)
        return Speech(Api(client, make_key(context, ["admin"])), context,
                      tmp_path / "recordings")

    yield make
    for client in clients:
        client.__exit__(None, None, None)
    wipe(database)


@pytest.fixture
def speech(make_speech: Any) -> Speech:
    made: Speech = make_speech()
    return made
