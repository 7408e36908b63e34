"""An event about the person that arrives while they are being erased waits for the erasure
and is then suppressed: it neither re-creates them nor lands on the tombstone. (PostgreSQL;
SQLite runs one writer at a time.)"""

from __future__ import annotations

import threading
import time

import pytest

from circulo.context import AppContext
from circulo.ingest import service as ingest
from circulo.ingest.schemas import IngestResult
from circulo.privacy import erasure
from tests.conftest import Api, only_customer
from tests.factories import event

PHONE = "+34 677 12 34 56"


def test_an_event_arriving_during_the_erasure_is_suppressed(api: Api, ctx: AppContext) -> None:
    if ctx.db.dialect != "postgresql":
        pytest.skip("SQLite serialises writers: nothing can arrive during an erasure")
    who = only_customer(api.send(event("customer.updated", source="crm",
                                       identifiers={"phone": PHONE},
                                       traits={"first_name": "Jacinta"})))
    outcome: list[IngestResult] = []

    def arrive() -> None:
        with ctx.db.unit_of_work() as session:
            outcome.append(ingest.ingest(
                session, {"events": [event("call.completed", identifiers={"phone": PHONE})]},
                settings=ctx.settings, policies=ctx.policies, now=ctx.clock.now(),
                actor="test"))

    with ctx.db.unit_of_work() as session:
        erasure.erase(session, who, ctx.settings, ctx.clock.now())
        late = threading.Thread(target=arrive)
        late.start()
        time.sleep(0.5)
        assert late.is_alive()  # it waits for the erasure
    late.join(timeout=10)
    [result] = outcome
    assert result.suppressed == 1 and result.accepted == 0, result
    assert api.card(phone=PHONE)["match"] == "none"
