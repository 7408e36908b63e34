"""Failed authentications and PIN checks are limited per client (issue 15, security 6): with
the default settings, a client that keeps failing gets 429 problem+json with Retry-After,
whatever it sends next, while other clients are unaffected."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from circulo.app import create_app
from circulo.clock import FixedClock
from circulo.config import Settings
from circulo.context import AppContext
from circulo.db import Database
from tests.conftest import Api, assert_problem, make_key, only_customer, wipe
from tests.factories import customer

ATTACKER, DESK = ("203.0.113.7", 40000), ("198.51.100.20", 40001)


@pytest.fixture
def app(database: Database, clock: FixedClock) -> Iterator[tuple[FastAPI, AppContext]]:
    """The default limits: tests must not loosen what production gets."""
    settings = Settings(database_url=database.url)
    ctx = AppContext.build(settings, clock, db=database)
    try:
        yield create_app(settings, ctx=ctx), ctx
    finally:
        wipe(database)


def retry_after(response: object) -> int:
    value = int(response.headers["retry-after"])  # type: ignore[attr-defined]
    assert 1 <= value <= 60
    return value


def test_bad_keys_from_one_client_end_in_429_and_other_clients_still_work(
        app: tuple[FastAPI, AppContext]) -> None:
    application, ctx = app
    good = make_key(ctx, ["read"])
    limit = Settings().auth_failure_limit
    assert limit == "20/minute"
    with TestClient(application, client=ATTACKER) as attacker, \
            TestClient(application, client=DESK) as desk:
        for attempt in range(20):
            headers = {"Authorization": f"Bearer ck_{attempt:06d}_guess"} if attempt % 2 \
                else {}
            assert_problem(attacker.get("/v1/merges", headers=headers), 401, "unauthorized")
        throttled = attacker.get("/v1/merges", headers={"Authorization": "Bearer ck_x_y"})
        body = assert_problem(throttled, 429, "too_many_requests")
        assert "20" in body["detail"]
        retry_after(throttled)
        # Even the right key: otherwise a throttled guesser would still learn which guess
        # was right. The body is not read either.
        assert_problem(attacker.get("/v1/merges", headers={"Authorization": f"Bearer {good}"}),
                       429, "too_many_requests")
        assert_problem(attacker.post("/v1/batch", content=b"x" * 1000, auth=(good, "")),
                       429, "too_many_requests")
        # Another client is not affected, whatever key it sends.
        assert desk.get("/v1/merges", headers={"Authorization": f"Bearer {good}"}
                        ).status_code == 200
        assert_problem(desk.get("/v1/merges"), 401, "unauthorized")
        # The API's own description and liveness stay reachable.
        assert attacker.get("/health").status_code == 200


def test_wrong_keys_on_metrics_are_counted_and_throttled_like_any_other(
        app: tuple[FastAPI, AppContext]) -> None:
    # Found in review: /metrics (outside /v1) checked keys without ever counting a failure.
    application, ctx = app
    metrics_key = make_key(ctx, ["metrics"])
    with TestClient(application, client=ATTACKER) as attacker:
        for attempt in range(20):
            response = attacker.get("/metrics",
                                    headers={"Authorization": f"Bearer ck_{attempt:06d}_x"})
            assert response.status_code == 401
        assert_problem(attacker.get("/metrics",
                                    headers={"Authorization": f"Bearer {metrics_key}"}),
                       429, "too_many_requests")
        assert_problem(attacker.get("/v1/merges"), 429, "too_many_requests")
        for open_path in ("/health", "/openapi.json", "/docs"):
            assert attacker.get(open_path).status_code == 200, open_path


def test_forged_twilio_signatures_count_as_failed_authentications(
        database: Database, clock: FixedClock) -> None:
    settings = Settings(database_url=database.url, twilio_auth_token="t" * 32,
                        auth_failure_limit="3/minute")
    ctx = AppContext.build(settings, clock, db=database)
    try:
        with TestClient(create_app(settings, ctx=ctx), client=ATTACKER) as attacker:
            for _ in range(3):
                assert_problem(attacker.post("/v1/channels/twilio/sms", data={"a": "b"},
                                             headers={"X-Twilio-Signature": "forged"}),
                               403, "forbidden")
            assert_problem(attacker.post("/v1/channels/twilio/sms", data={"a": "b"}),
                           429, "too_many_requests")
    finally:
        wipe(database)


def test_pin_guesses_from_one_client_hit_429_before_any_customer_is_locked(
        app: tuple[FastAPI, AppContext]) -> None:
    application, ctx = app
    with TestClient(application, client=DESK) as desk_client, \
            TestClient(application, client=ATTACKER) as attacker_client:
        desk = Api(desk_client, make_key(ctx, ["admin"]))
        attacker = Api(attacker_client, make_key(ctx, ["read"]))
        people = [only_customer(desk.send(customer(f"C{i}", first_name=f"P{i}", pin=f"9{i}{i}9")))
                  for i in range(3)]
        # Four wrong guesses per customer: under the per-customer lock (5), so only the
        # per-client limit (10 failures a minute) can stop a guesser who spreads out.
        guesses = [(person, f"{n:04d}") for person in people for n in range(4)]
        answers = [attacker.get("/v1/cards", params={"customer_id": p, "pin": pin})
                   for p, pin in guesses[:10]]
        assert [a.json()["pin_verified"] for a in answers] == [False] * 10
        throttled = attacker.get("/v1/cards", params={"customer_id": people[2], "pin": "9229"})
        assert_problem(throttled, 429, "too_many_requests")
        retry_after(throttled)
        # The card without a PIN still answers the same client: only PIN checks are limited.
        assert attacker.card(customer_id=people[2])["match"] == "unique"
        # Another desk checks the right PIN at once: nobody was locked.
        assert desk.card(customer_id=people[2], pin="9229")["pin_verified"] is True
