"""What reaches the logs: a database error names the statement, never the values bound to it
(a customer's phone in a failed INSERT would otherwise be logged with the traceback)."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError

from circulo.connectors.models import VendorEventSeen
from circulo.context import AppContext
from tests.conftest import NOW

SECRET_VALUE = "ana.ruiz+34600111222"


def test_an_integrity_error_does_not_show_its_values(ctx: AppContext) -> None:
    row = {"connector": "crm", "event_id": SECRET_VALUE, "seen_at": NOW}
    with ctx.db.unit_of_work() as session:
        session.execute(insert(VendorEventSeen).values(row))
    with pytest.raises(DBAPIError) as caught, ctx.db.unit_of_work() as session:
        session.execute(insert(VendorEventSeen).values(row))
    assert "vendor_events_seen" in str(caught.value)
    assert SECRET_VALUE not in str(caught.value)
    assert SECRET_VALUE not in repr(caught.value)


def test_a_data_error_does_not_show_its_values(ctx: AppContext) -> None:
    if ctx.db.dialect != "postgresql":
        pytest.skip("SQLite stores an over-long string and casts anything: no DataError")
    too_long = SECRET_VALUE * 10  # connector is String(64)
    with pytest.raises(DBAPIError) as caught, ctx.db.unit_of_work() as session:
        session.execute(insert(VendorEventSeen).values(
            connector=too_long, event_id="e", seen_at=NOW))
    assert SECRET_VALUE not in str(caught.value)
    # PostgreSQL quotes a value it cannot read in its own message: cut off too.
    with pytest.raises(DBAPIError) as unreadable, ctx.db.unit_of_work() as session:
        session.execute(text("SELECT CAST(:v AS integer)"), {"v": SECRET_VALUE})
    assert "invalid input syntax" in str(unreadable.value)
    assert SECRET_VALUE not in str(unreadable.value)
