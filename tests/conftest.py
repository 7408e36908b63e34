"""Test plumbing: one database per run (SQLite file, or ``CIRCULO_DATABASE_URL``), migrated
once with the real Alembic migrations, emptied after every test; a controlled clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from circulo.app import create_app
from circulo.auth import service as auth
from circulo.clock import FixedClock
from circulo.config import Settings
from circulo.context import AppContext
from circulo.db import Base, Database
from circulo.ingest.schemas import IngestResult
from circulo.migrate import upgrade
from circulo.wiring import build_context

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
# The receivers and fake vendors of the tests listen on 127.0.0.1, which Círculo refuses to
# reach unless allowed (circulo.egress): the tests allow it, as an installation allows an
# internal CRM. Tests of the default pass egress_allow=[].
TEST_EGRESS_ALLOW = ["127.0.0.1"]

# Every Settings() of the suite hashes erased identifiers with this key, rather than writing
# a key file into the working directory (tests/privacy covers the file).
os.environ.setdefault("CIRCULO_ERASURE_KEY", "test-erasure-key-0123456789abcdef0123")


def database_url(tmp: Path) -> str:
    return os.environ.get("CIRCULO_DATABASE_URL") or f"sqlite:///{tmp / 'test.db'}"


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    settings = Settings(database_url=database_url(tmp_path_factory.mktemp("db")))
    db = Database(settings.resolved_database_url)
    if db.dialect == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(db.engine)
    yield db
    db.dispose()


def wipe(db: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))  # noqa: S608 - our table names


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def settings(database: Database, tmp_path: Path) -> Settings:
    # data_dir: what a test writes there (uploaded recordings) stays in its own folder
    return Settings(database_url=database.url, egress_allow=TEST_EGRESS_ALLOW,
                    data_dir=tmp_path / "data")


@pytest.fixture
def ctx(database: Database, settings: Settings, clock: FixedClock) -> Iterator[AppContext]:
    context = build_context(settings, clock, db=database)
    yield context
    wipe(database)


class Api:
    """A TestClient that sends the API key, and small helpers for the common calls."""

    def __init__(self, client: TestClient, key: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"}

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.client.post(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def delete(self, url: str, **kw: Any) -> Any:
        return self.client.delete(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def send(self, *events: dict[str, Any]) -> dict[str, Any]:
        response = self.post("/v1/events", json={"events": list(events)})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def card(self, lang: str = "es", **query: str) -> dict[str, Any]:
        response = self.get("/v1/cards", params=query, headers={"Accept-Language": lang})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


PROBLEM_JSON = "application/problem+json"


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def only_customer(result: dict[str, Any] | IngestResult) -> str:
    """The one customer every event of an ingest result (an answer, or the typed result)
    went to."""
    ids = ({r.customer_id for r in result.results} if isinstance(result, IngestResult)
           else {r["customer_id"] for r in result["results"]})
    assert len(ids) == 1 and None not in ids, result
    return str(ids.pop())


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """An RFC 9457 answer with this status and stable code, and the fields it must have."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"].endswith(code)
    assert body["title"] and body["detail"]
    return body


@contextmanager
def custom_api(database: Database, clock: FixedClock, **overrides: Any) -> Iterator[Api]:
    """An app with some settings changed, on the test database (emptied afterwards)."""
    settings = Settings(database_url=database.url,
                        **{"egress_allow": TEST_EGRESS_ALLOW, **overrides})
    context = build_context(settings, clock, db=database)
    try:
        with TestClient(create_app(settings, ctx=context)) as client:
            yield Api(client, make_key(context, ["admin"]))
    finally:
        wipe(database)


def make_key(ctx: AppContext, scopes: list[str], name: str = "test") -> str:
    with ctx.db.unit_of_work() as session:
        _, secret = auth.create_key(session, name, scopes, ctx.clock.now())
    return secret


@pytest.fixture
def api(ctx: AppContext) -> Iterator[Api]:
    app = create_app(ctx.settings, ctx=ctx)
    with TestClient(app) as client:
        yield Api(client, make_key(ctx, ["admin"]))
