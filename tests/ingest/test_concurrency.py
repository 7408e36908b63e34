"""Two writers about the same customer at once end in one consistent profile (SQLite
serialises writers; PostgreSQL uses advisory and row locks), and no update is lost."""

from __future__ import annotations

import threading
from typing import Any

from circulo.context import AppContext
from circulo.customers import repository as customers_repo
from circulo.identity import repository as identity_repo
from circulo.ingest import service
from circulo.ingest.schemas import IngestResult


def _ingest(ctx: AppContext, events: list[dict[str, Any]]) -> IngestResult:
    with ctx.db.unit_of_work() as session:
        return service.ingest(session, {"events": events}, settings=ctx.settings,
                              policies=ctx.policies, now=ctx.clock.now(), actor="test")


def _run_at_once(ctx: AppContext, batches: list[list[dict[str, Any]]]) -> list[IngestResult]:
    results: list[IngestResult] = [IngestResult(0, 0, 0, [], []) for _ in batches]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(batches))

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = _ingest(ctx, batches[i])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


def test_same_new_customer_from_parallel_batches_is_one_profile(ctx: AppContext) -> None:
    for round_ in range(5):
        phone = f"+3461100{round_:04d}"
        batches = [
            [{"type": "call.completed", "source": "pbx", "channel": "voice",
              "identifiers": {"phone": phone, "email": f"new{round_}@example.es"}}
             for _ in range(20)]
            for _ in range(4)
        ]
        results = _run_at_once(ctx, batches)
        customers = {r.customer_id for res in results for r in res.results}
        assert len(customers) == 1, customers
        with ctx.db.unit_of_work(write=False) as session:
            holders = identity_repo.profiles_holding(session, "phone", phone)
            assert holders == sorted(customers)
            profile = customers_repo.get_profile_state(session, holders[0])
            assert profile is not None
            # every one of the 80 calls counted: no lost update on the indicators
            assert profile.indicators["contacts_total"] == 80


def test_parallel_merge_and_updates_stay_consistent(ctx: AppContext) -> None:
    seed = _ingest(ctx, [
        {"type": "customer.updated", "source": "crm",
         "identifiers": {"phone": "+34622000001"}, "traits": {"first_name": "Ana"}},
        {"type": "customer.updated", "source": "shop",
         "identifiers": {"email": "ana@example.es"}, "traits": {"city": "Madrid"}},
    ])
    assert len({r.customer_id for r in seed.results}) == 2
    linker = [{"type": "order.placed", "source": "shop",
               "identifiers": {"phone": "+34622000001", "email": "ana@example.es"},
               "properties": {"order_id": "O-1", "amount": 10.0}}]
    by_phone = [{"type": "call.completed", "source": "pbx", "channel": "voice",
                 "identifiers": {"phone": "+34622000001"}} for _ in range(10)]
    by_email = [{"type": "email.received", "source": "mail", "channel": "email",
                 "identifiers": {"email": "ana@example.es"}} for _ in range(10)]
    _run_at_once(ctx, [by_phone, linker, by_email])
    with ctx.db.unit_of_work(write=False) as session:
        holders = identity_repo.profiles_holding(session, "phone", "+34622000001")
        assert holders == identity_repo.profiles_holding(session, "email", "ana@example.es")
        assert len(holders) == 1
        profile = customers_repo.get_profile_state(session, holders[0])
        assert profile is not None and profile.status == "active"
        assert profile.indicators["contacts_total"] == 20
        assert profile.traits["first_name"] == "Ana" and profile.traits["city"] == "Madrid"
        events = customers_repo.timeline(session, profile.id, limit=100, before=None)
        assert len(events) == 23
