"""Shared by the CRM connector tests: run the outbox worker once, read the outbox."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient
from sqlalchemy import text

from circulo.app import create_app
from circulo.clock import FixedClock
from circulo.config import Settings
from circulo.connectors.worker import OutboxWorker
from circulo.context import AppContext
from circulo.db import Database
from circulo.wiring import build_context
from tests.conftest import TEST_EGRESS_ALLOW, Api, make_key, wipe


def drain(ctx: AppContext) -> int:
    async def main() -> int:
        async with OutboxWorker(ctx) as worker:
            return await worker.run_once()
    return asyncio.run(main())


def outbox(ctx: AppContext) -> list[tuple[str, str | None, int]]:
    with ctx.db.unit_of_work(write=False) as session:
        rows = session.execute(text("SELECT status, last_error, attempts FROM outbox "
                                    "ORDER BY seq")).all()
    return [(r[0], r[1], r[2]) for r in rows]


@contextmanager
def app_with_connectors(database: Database, clock: FixedClock, tmp_path: Path,
                        connectors: dict[str, Any], **settings: Any
                        ) -> Iterator[tuple[Api, AppContext]]:
    path = tmp_path / "crm.yaml"
    path.write_text(yaml.safe_dump({"connectors": connectors}))
    config = Settings(database_url=database.url, crm_connectors=path,
                      **{"egress_allow": TEST_EGRESS_ALLOW, **settings})
    ctx = build_context(config, clock, db=database)
    try:
        with TestClient(create_app(config, ctx=ctx)) as client:
            yield Api(client, make_key(ctx, ["admin"])), ctx
    finally:
        wipe(database)
