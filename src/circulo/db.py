"""Engine, sessions and the unit of work.

SQLite: WAL, ``synchronous=NORMAL`` (a committed transaction survives a killed process),
and write transactions opened with ``BEGIN IMMEDIATE`` so two writers never interleave a
read-then-write (identity resolution reads before it writes). PostgreSQL: psycopg 3; writers
serialise per identifier with advisory locks taken by the services that need them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import JSON, DateTime, Engine, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

JSONType = JSON().with_variant(JSONB(), "postgresql")
log = logging.getLogger(__name__)
BUSY_TIMEOUT_MS = 60_000


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, whatever the backend stores."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: Círculo stores UTC-aware times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def make_engine(url: str, **kwargs: Any) -> Engine:
    # A failed statement's error (and so its log line and traceback) would otherwise show
    # the values bound to it: phone numbers, e-mail addresses, names.
    kwargs.setdefault("hide_parameters", True)
    kwargs.setdefault("json_serializer", _json_dumps)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": 60, "check_same_thread": False},
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, **kwargs)
    _configure_postgresql(engine)
    return engine


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "handle_error")
    def _without_values(context: Any) -> Any:
        """PostgreSQL's own message repeats values too: a unique or check violation's DETAIL
        ("Key (email)=(ana@…)", "Failing row contains (…)"), a data error's quoted input.
        Keep the primary text up to any quoted value; the class and SQLSTATE stay for code
        that reads them."""
        error = context.sqlalchemy_exception
        original = context.original_exception
        diag = getattr(original, "diag", None)
        if not isinstance(error, DBAPIError) or diag is None:
            return None
        primary = str(diag.message_primary or type(original).__name__)
        original.args = (primary.split(': "', 1)[0],)
        return type(error)(error.statement, error.params, original, hide_parameters=True,
                           connection_invalidated=error.connection_invalidated,
                           ismulti=error.ismulti)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see "begin" below).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA temp_store=MEMORY")
        # Deleted content is overwritten with zeros, not left in free pages (erasure).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get("circulo_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Database:
    """Owns the engine and hands out one session per request or job."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.dialect = self.engine.dialect.name
        write_engine = self.engine.execution_options(circulo_write=True)
        self._read = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._write = sessionmaker(write_engine, expire_on_commit=False, autoflush=False)
        # SQLite has one writer at a time. Writers of this process queue here, in order,
        # rather than in SQLite's busy handler, which retries by sleeping up to 100 ms: under
        # concurrent writes that sleep, not the work, set the tail latency and the throughput.
        # (Other processes still meet the busy handler.)
        self._writer: AbstractContextManager[Any] = (
            threading.RLock() if self.dialect == "sqlite" else nullcontext())

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error."""
        with self._writer if write else nullcontext():
            session = (self._write if write else self._read)()
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    def checkpoint(self, wait_ms: int = 2000) -> bool:
        """SQLite: copy the write-ahead log into the database and truncate it, so the old
        versions of erased rows it still holds are gone. A truncation waits for readers to
        finish: at most ``wait_ms`` (this process's writers wait meanwhile), then False (the
        next erasure or purge tries again). Nothing to do on PostgreSQL."""
        if self.dialect != "sqlite":
            return True
        with self._writer:
            raw = self.engine.raw_connection()
            driver: Any = raw.driver_connection
            try:
                driver.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
                busy, _, _ = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                driver.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                raw.close()
        if busy:
            log.warning("WAL checkpoint incomplete: readers kept it from truncating the log")
        return not busy

    def dispose(self) -> None:
        self.engine.dispose()


# --- bulk writes on the hot path ------------------------------------------------------------
# SQLAlchemy processes every parameter of every row of an executemany (type processors,
# bind names): about 40 ms of a 1,000-event batch. For the three tables the ingest path
# writes in bulk, rows are converted here once per column kind and handed to the driver.

_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's SQLite storage format


def _converter(column_type: Any, dialect: str) -> Any:
    if isinstance(column_type, UTCDateTime):
        if dialect == "sqlite":
            return lambda v: None if v is None else v.astimezone(UTC).strftime(_SQLITE_DATETIME)
        return lambda v: None if v is None else v.astimezone(UTC)
    if isinstance(column_type, JSON):
        return lambda v: None if v is None else orjson.dumps(v).decode()
    return None


def _placeholder(column_type: Any, dialect: str) -> str:
    if dialect == "sqlite":
        return "?"
    return "%s::jsonb" if isinstance(column_type, JSON) else "%s"


def _plan(table: Any, columns: list[str], dialect: str) -> tuple[list[Any], list[str]]:
    types = [table.c[name].type for name in columns]
    return ([_converter(t, dialect) for t in types], [_placeholder(t, dialect) for t in types])


def _convert(rows: list[dict[str, Any]], columns: list[str], converters: list[Any]
             ) -> list[tuple[Any, ...]]:
    pairs = list(zip(columns, converters, strict=True))
    return [tuple(conv(row[name]) if conv else row[name] for name, conv in pairs)
            for row in rows]


def bulk_insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT many rows with one driver-level executemany. Every row has the same keys."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect.name
    columns = list(rows[0])
    converters, marks = _plan(table, columns, dialect)
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608 - our own names
           f"VALUES ({', '.join(marks)})")
    connection.exec_driver_sql(sql, _convert(rows, columns, converters))


def bulk_update(session: Session, table: Any, key: str, rows: list[dict[str, Any]]) -> None:
    """UPDATE many rows by ``key`` with one executemany. Every row has the same keys."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect.name
    columns = [name for name in rows[0] if name != key]
    converters, marks = _plan(table, [*columns, key], dialect)
    assignments = ", ".join(f"{name} = {mark}" for name, mark in zip(columns, marks, strict=False))
    sql = f"UPDATE {table.name} SET {assignments} WHERE {key} = {marks[-1]}"  # noqa: S608
    connection.exec_driver_sql(
        sql, _convert(rows, [*columns, key], converters)
    )
