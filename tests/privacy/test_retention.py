"""Storage limitation: with ``CIRCULO_EVENT_RETENTION_DAYS`` events older than that are
deleted (and the finished webhooks that copied them), a batch per transaction; indicators,
traits and records keep what they were."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import text

from circulo.clock import FixedClock
from circulo.config import get_settings
from circulo.context import AppContext
from circulo.privacy import retention
from tests.conftest import NOW, Api, ok, only_customer
from tests.factories import event
from tests.test_auth_and_cli import _run, cli_db  # noqa: F401 - the fixture

PHONE = "+34 644 55 66 77"


def _history(api: Api, clock: FixedClock) -> str:
    """Three old events (a hundred days before the purge), then two recent ones."""
    first = ok(api.post("/v1/webhooks", json={"url": "https://crm.example.com/h",
                                              "event_types": ["*"]}), 201)
    who = only_customer(api.send(
        event("customer.updated", source="crm", at=NOW, identifiers={"phone": PHONE},
              traits={"first_name": "Iker", "city": "Bilbao"}),
        event("order.placed", source="shop", at=NOW, identifiers={"phone": PHONE},
              properties={"order_id": "O-1", "amount": 120.0}),
        event("call.completed", at=NOW, channel="voice", identifiers={"phone": PHONE})))
    assert api.delete(f"/v1/webhooks/{first['id']}").status_code == 204  # canceled
    clock.advance(timedelta(days=100))
    ok(api.post("/v1/webhooks", json={"url": "https://crm.example.com/h",
                                      "event_types": ["*"]}), 201)
    api.send(event("call.completed", at=clock.now(), ago=timedelta(days=1), channel="voice",
                   identifiers={"phone": PHONE}),
             event("order.placed", source="shop", at=clock.now(), ago=timedelta(days=2),
                   identifiers={"phone": PHONE},
                   properties={"order_id": "O-2", "amount": 30.0}))
    return who


def _count(ctx: AppContext, sql: str) -> int:
    with ctx.db.engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def test_old_events_go_in_batches_and_indicators_keep_their_totals(
        api: Api, ctx: AppContext, clock: FixedClock) -> None:
    who = _history(api, clock)
    before = ok(api.get(f"/v1/customers/{who}"))
    assert _count(ctx, "SELECT count(*) FROM events") == 5
    assert _count(ctx, "SELECT count(*) FROM outbox") == 5

    purged = retention.purge(ctx.db, 30, clock.now(), batch=2)  # two per transaction

    assert (purged.events, purged.messages) == (3, 3)
    assert purged.before == clock.now() - timedelta(days=30)
    timeline = ok(api.get(f"/v1/customers/{who}/timeline"))["events"]
    assert [e["type"] for e in timeline] == ["call.completed", "order.placed"]
    with ctx.db.engine.connect() as conn:
        statuses = {s for (s,) in conn.execute(text("SELECT status FROM outbox"))}
    assert statuses == {"pending"}  # what is still to deliver stays
    after = ok(api.get(f"/v1/customers/{who}"))
    # Aggregates are not recomputed: lifetime value and counts still include the old order
    # and call; the profile's traits and both records stay.
    assert after["indicators"] == before["indicators"]
    assert after["traits"] == before["traits"] and after["traits"]["city"] == "Bilbao"
    records = ok(api.get(f"/v1/customers/{who}/records"))["records"]
    assert sorted(r["key"] for r in records) == ["O-1", "O-2"]
    # Nothing older is left for a second pass.
    assert retention.purge(ctx.db, 30, clock.now()).events == 0


def test_the_background_loop_purges_when_retention_is_set(
        api: Api, ctx: AppContext, clock: FixedClock) -> None:
    _history(api, clock)
    stop = threading.Event()
    settings = ctx.settings.with_overrides(event_retention_days=30)
    looping = AppContext.build(settings, clock, db=ctx.db)
    thread = retention.run_in_thread(looping, stop)
    deadline = time.monotonic() + 10
    while _count(ctx, "SELECT count(*) FROM events") != 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(timeout=5)
    assert _count(ctx, "SELECT count(*) FROM events") == 2
    assert not thread.is_alive()


def test_the_purge_command(cli_db: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    refused = _run("purge")
    assert refused.exit_code == 2 and "CIRCULO_EVENT_RETENTION_DAYS" in refused.output
    monkeypatch.setenv("CIRCULO_EVENT_RETENTION_DAYS", "30")
    get_settings.cache_clear()
    done = _run("purge")
    assert done.exit_code == 0, done.output
    assert "Deleted 0 events and 0 messages before" in done.output
    assert _run("purge", "--days", "0").exit_code == 2
