"""PIN guessing (issue 15, security 5): wrong PINs lock a customer's PIN checks with a backoff
that doubles, kept in the database (restarts and other workers see it), told on the timeline;
and only a key with the ``pins:write`` scope may set a PIN."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from circulo.app import create_app
from circulo.clock import FixedClock
from circulo.config import Settings
from circulo.context import AppContext
from circulo.customers.pins import Attempts, LockoutPolicy, after_failure, locked_until
from circulo.db import Database
from circulo.errors import PinLocked
from circulo.i18n import t
from circulo.ingest import pin_checks
from circulo.ingest import service as ingest
from tests.conftest import NOW, Api, assert_problem, make_key, ok, only_customer, wipe
from tests.factories import customer

PIN, WRONG = "4321", "0000"


def app_on(database: Database, clock: FixedClock, **overrides: Any) -> tuple[Api, AppContext]:
    """A server on the shared database (another worker, or the same after a restart); the
    per-client limit is raised so that only the per-customer lock is exercised."""
    settings = Settings(database_url=database.url, pin_failure_limit="1000/minute",
                        **overrides)
    ctx = AppContext.build(settings, clock, db=database)
    client = TestClient(create_app(settings, ctx=ctx))
    return Api(client, make_key(ctx, ["admin"])), ctx


@pytest.fixture
def desk(database: Database, clock: FixedClock) -> Iterator[Api]:
    api, _ = app_on(database, clock)
    try:
        yield api
    finally:
        wipe(database)


def check(api: Api, customer_id: str, pin: str) -> Any:
    return api.get("/v1/cards", params={"customer_id": customer_id, "pin": pin})


def verified(api: Api, customer_id: str, pin: str) -> bool:
    return bool(ok(check(api, customer_id, pin))["pin_verified"])


def locked(api: Api, customer_id: str, pin: str = PIN) -> int:
    body = assert_problem(check(api, customer_id, pin), 423, "pin_locked")
    return int(body["retry_after"])


def ana(api: Api) -> str:
    return only_customer(api.send(customer("CRM-1", first_name="Ana", pin=PIN)))


# -- the policy (pure) ----------------------------------------------------------------------------
def test_the_lockout_doubles_and_is_capped() -> None:
    policy = LockoutPolicy(max_failures=5, lockout=timedelta(minutes=1),
                           max_lockout=timedelta(minutes=3))
    attempts, durations = Attempts(), []
    for _ in range(4 * 5):
        attempts, lockout = after_failure(attempts, policy, NOW)
        if lockout is not None:
            durations.append(lockout.duration)
            assert locked_until(attempts, NOW) == NOW + lockout.duration
            assert locked_until(attempts, NOW + lockout.duration) is None
    assert durations == [timedelta(minutes=m) for m in (1, 2, 3, 3)]


def test_a_huge_number_of_lockouts_does_not_overflow() -> None:
    policy = LockoutPolicy(max_failures=1, lockout=timedelta(minutes=1),
                           max_lockout=timedelta(hours=1))
    attempts, lockout = after_failure(Attempts(lockouts=10_000), policy, NOW)
    assert lockout is not None and lockout.duration == timedelta(hours=1)
    assert attempts == Attempts(failures=0, lockouts=10_001, locked_until=NOW + lockout.duration)


# -- over HTTP ------------------------------------------------------------------------------------
def test_five_wrong_pins_lock_the_customer_even_against_the_right_pin(
        desk: Api, clock: FixedClock) -> None:
    person = ana(desk)
    assert [verified(desk, person, WRONG) for _ in range(5)] == [False] * 5
    response = check(desk, person, PIN)
    body = assert_problem(response, 423, "pin_locked")
    assert response.headers["retry-after"] == "60" == str(body["retry_after"])
    assert body["locked_until"] == (NOW + timedelta(minutes=1)).isoformat()
    clock.advance(timedelta(seconds=30))
    assert locked(desk, person) == 30
    # The card itself still answers: only the PIN is locked.
    assert ok(desk.get("/v1/cards", params={"customer_id": person}))["match"] == "unique"
    clock.advance(timedelta(seconds=31))
    assert verified(desk, person, PIN) is True


def test_the_lock_is_on_the_timeline_in_both_languages(desk: Api) -> None:
    person = ana(desk)
    for _ in range(5):
        verified(desk, person, WRONG)
    events = ok(desk.get(f"/v1/customers/{person}/timeline"))["events"]
    [lock] = [e for e in events if e["type"] == "pin.locked"]
    assert lock["source"] == "circulo"
    assert lock["properties"] == {"failures": 5, "lockout": 1, "seconds": 60,
                                  "locked_until": (NOW + timedelta(minutes=1)).isoformat()}
    assert t("event.pin.locked", "es") != t("event.pin.locked", "en")
    assert "PIN" in t("event.pin.locked", "es") and "PIN" in t("event.pin.locked", "en")


def test_each_new_lock_lasts_twice_as_long_until_a_right_pin(
        desk: Api, clock: FixedClock) -> None:
    person = ana(desk)
    for expected in (60, 120, 240):
        for _ in range(5):
            assert verified(desk, person, WRONG) is False
        assert locked(desk, person) == expected
        clock.advance(timedelta(seconds=expected))
    assert verified(desk, person, PIN) is True  # forgives: the next lock is 1 min again
    for _ in range(5):
        verified(desk, person, WRONG)
    assert locked(desk, person) == 60


def test_the_lockout_is_capped_by_its_setting(database: Database, clock: FixedClock) -> None:
    api, _ = app_on(database, clock, pin_lockout_max="90s", pin_max_failures=2)
    try:
        person = ana(api)
        for expected in (60, 90, 90):
            verified(api, person, WRONG)
            verified(api, person, WRONG)
            assert locked(api, person) == expected
            clock.advance(timedelta(seconds=expected))
    finally:
        wipe(database)


def test_failures_are_counted_across_workers_and_survive_a_restart(
        database: Database, clock: FixedClock) -> None:
    first, _ = app_on(database, clock)
    second, _ = app_on(database, clock)
    try:
        person = ana(first)
        for api in (first, second, first, second, first):
            assert verified(api, person, WRONG) is False
        restarted, _ = app_on(database, clock)
        assert locked(restarted, person) == 60
    finally:
        wipe(database)


def test_a_customer_without_a_pin_is_never_locked(desk: Api) -> None:
    person = only_customer(desk.send(customer("CRM-2", first_name="Eva")))
    assert [verified(desk, person, WRONG) for _ in range(7)] == [False] * 7


def test_erasure_removes_the_failure_counter(desk: Api, database: Database) -> None:
    person = ana(desk)
    verified(desk, person, WRONG)
    ok(desk.delete(f"/v1/customers/{person}"))
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM pin_attempts")).scalar() == 0


# -- who may set a PIN ----------------------------------------------------------------------------
def test_only_a_pins_write_key_sets_a_pin(desk: Api) -> None:
    app_ctx: AppContext = desk.client.app.state.ctx  # type: ignore[attr-defined]
    plain = Api(desk.client, make_key(app_ctx, ["ingest"]))
    refused = plain.post("/v1/events", json={"events": [
        customer("CRM-3", first_name="Rosa", pin="1111"),
        customer("CRM-4", first_name="Luis")]})
    body = ok(refused, 207)
    assert body["errors"] == [{"index": 0, "field": "traits.pin", "code": "pin_scope_required",
                               "detail": "setting a PIN needs an API key with the "
                                         "'pins:write' scope"}]
    alone = plain.post("/v1/events", json=customer("CRM-3", first_name="Rosa", pin="1111"))
    assert_problem(alone, 422, "validation_failed")
    allowed = Api(desk.client, make_key(app_ctx, ["ingest", "pins:write"]))
    person = only_customer(allowed.send(customer("CRM-3", first_name="Rosa", pin="1111")))
    assert verified(desk, person, "1111") is True


def test_a_tracking_key_without_the_scope_cannot_set_a_pin(desk: Api) -> None:
    app_ctx: AppContext = desk.client.app.state.ctx  # type: ignore[attr-defined]
    key = make_key(app_ctx, ["ingest"])
    response = desk.client.post("/v1/identify", auth=(key, ""), json={
        "userId": "u-9", "traits": {"email": "nueve@example.es", "pin": "2468"}})
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["code"] == "pin_scope_required"


def test_simultaneous_guesses_cannot_outrun_the_counter(ctx: AppContext) -> None:
    """Ten wrong PINs at once (as from several workers): the counter's row is locked per
    check, so exactly five are checked and the other five find the customer locked."""
    with ctx.db.unit_of_work() as session:
        result = ingest.ingest(session, customer("CRM-9", first_name="Ana", pin=PIN),
                               settings=ctx.settings, policies=ctx.policies,
                               now=ctx.clock.now(), actor="test", may_set_pin=True)
    person = only_customer(result)

    def guess(_: int) -> str:
        try:
            with ctx.db.unit_of_work() as session:
                return str(pin_checks.check_pin(session, person, WRONG, settings=ctx.settings,
                                                policies=ctx.policies, now=ctx.clock.now()))
        except PinLocked:
            return "locked"

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(guess, range(10)))
    assert sorted(answers) == ["False"] * 5 + ["locked"] * 5
    with ctx.db.unit_of_work(write=False) as session:
        count = session.execute(text("SELECT count(*) FROM events WHERE type = 'pin.locked'"))
        assert count.scalar() == 1
