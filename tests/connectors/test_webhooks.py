"""Signed webhooks through the outbox (S2): delivered, retried, ordered, logged, replayed.
Signatures are verified with the ``standardwebhooks`` library, as a receiver would."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from circulo.clock import FixedClock
from circulo.connectors import service as outbox_service
from circulo.connectors.policy import Outcome, RetryPolicy
from circulo.connectors.worker import OutboxWorker
from circulo.context import AppContext
from tests.conftest import Api, assert_problem, make_key, ok, only_customer
from tests.connectors.receiver import Receiver, receiver
from tests.factories import customer, event
from tests.live import live_server


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as state:
        yield state


def _subscribe(api: Api, url: str, *types: str) -> dict[str, Any]:
    return ok(api.post("/v1/webhooks", json={"url": url, "event_types": list(types)}), 201)


def _drain(ctx: AppContext, rounds: int = 1, **options: Any) -> int:
    async def main() -> int:
        total = 0
        async with OutboxWorker(ctx, **options) as worker:
            for _ in range(rounds):
                total += await worker.run_once()
        return total
    return asyncio.run(main())


def _wrap_up(customer_crm: str, n: int) -> dict[str, Any]:
    return event("call.wrapped_up", identifiers={"external_ids": {"crm": customer_crm}},
                 channel="voice", properties={"disposition": "resolved", "duration": 180 + n,
                                              "notes": f"nota {n}",
                                              "captured": {"new_address": "C/ Mayor 1"}})


def _deliveries(api: Api, subscription: dict[str, Any], **params: Any) -> dict[str, Any]:
    return ok(api.get(f"/v1/webhooks/{subscription['id']}/deliveries", params=params))


def test_s2_the_wrap_up_reaches_the_crm_signed(api: Api, ctx: AppContext, hook: Receiver
                                               ) -> None:
    subscription = _subscribe(api, hook.url, "call.wrapped_up")
    maria = only_customer(api.send(customer("CRM-1", phone="600123456", first_name="María")))
    api.send(_wrap_up("CRM-1", 1), event("call.completed", identifiers={"phone": "600123456"}))
    assert _drain(ctx) == 1  # only the subscribed type
    [received] = hook.requests
    payload = Webhook(subscription["secret"]).verify(received.body, received.headers)
    assert payload["type"] == "call.wrapped_up"
    data = payload["data"]
    assert data["customer_id"] == maria
    assert data["properties"] == {"disposition": "resolved", "duration": 181,
                                  "notes": "nota 1", "captured": {"new_address": "C/ Mayor 1"}}
    log = _deliveries(api, subscription)
    assert log["counts"] == {"delivered": 1}
    [delivery] = log["deliveries"]
    assert delivery["id"] == received.headers["webhook-id"]
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "delivered", 1, 200)
    assert delivery["last_latency_ms"] is not None
    with pytest.raises(WebhookVerificationError):
        Webhook(_subscribe(api, hook.url, "x.y")["secret"]).verify(received.body,
                                                                    received.headers)


def test_crm_down_for_an_hour_everything_arrives_in_order(
        api: Api, ctx: AppContext, clock: FixedClock, hook: Receiver) -> None:
    subscription = _subscribe(api, hook.url, "call.*")
    api.send(customer("CRM-1", phone="600123456"), customer("CRM-2", phone="600654321"))
    hook.status = 503
    for n in range(3):
        api.send(_wrap_up("CRM-1", n))
    api.send(_wrap_up("CRM-2", 9))
    for _ in range(12):  # an hour of retries, five minutes apart
        _drain(ctx)
        clock.advance(timedelta(minutes=5))
    log = _deliveries(api, subscription)
    assert log["counts"] == {"pending": 4}
    first = log["deliveries"][-1]
    assert first["attempts"] > 3 and first["last_error"].startswith("HTTP 503")
    # Head-of-line per customer: the later messages of CRM-1 waited for the first.
    waiting = [d for d in log["deliveries"] if d["attempts"] == 0]
    assert len(waiting) == 2
    hook.status = 200
    clock.advance(timedelta(minutes=5))
    _drain(ctx, rounds=4)
    assert _deliveries(api, subscription)["counts"] == {"delivered": 4}
    notes = [r.json["data"]["properties"]["notes"] for r in hook.requests
             if r.json["data"]["properties"]["notes"] != "nota 9"]
    assert notes == ["nota 0", "nota 1", "nota 2"]
    assert len(set(hook.ids())) == 4


def test_a_4xx_is_not_retried_forever_and_a_dead_delivery_can_be_replayed(
        api: Api, ctx: AppContext, clock: FixedClock, hook: Receiver) -> None:
    subscription = _subscribe(api, hook.url, "call.wrapped_up")
    api.send(customer("CRM-1"), _wrap_up("CRM-1", 1))
    hook.status = 410
    for _ in range(5):
        _drain(ctx)
        clock.advance(timedelta(minutes=10))
    [dead] = _deliveries(api, subscription)["deliveries"]
    assert (dead["status"], dead["attempts"]) == ("dead", 3)
    detail = ok(api.get(f"/v1/deliveries/{dead['id']}"))
    assert [a["outcome"] for a in detail["attempts_log"]] == ["retry", "retry", "dead"]
    assert all(a["status_code"] == 410 for a in detail["attempts_log"])
    hook.status = 200
    assert ok(api.post(f"/v1/deliveries/{dead['id']}/replay"))["status"] == "pending"
    _drain(ctx)
    assert hook.ids() == [dead["id"]]  # the same webhook-id: receivers deduplicate on it
    assert ok(api.post(f"/v1/webhooks/{subscription['id']}/replay",
                       json={"status": "dead"}))["replayed"] == 0


def test_unreachable_hosts_and_slow_receivers_are_retried_with_the_reason(
        api: Api, ctx: AppContext, hook: Receiver) -> None:
    closed = _subscribe(api, "http://127.0.0.1:9/nothing-listens", "call.*")
    slow = _subscribe(api, hook.url, "call.*")
    hook.delay = 1.0
    api.send(customer("CRM-1"), _wrap_up("CRM-1", 1))
    _drain(ctx, timeout=0.3)
    [unreachable] = _deliveries(api, closed)["deliveries"]
    assert unreachable["status"] == "pending"
    assert unreachable["last_error"].startswith("cannot connect")
    [timed_out] = _deliveries(api, slow)["deliveries"]
    assert timed_out["status"] == "pending"
    assert timed_out["last_error"] == "timeout after 0.3 s"


def test_a_worker_that_dies_mid_delivery_is_taken_over(
        api: Api, ctx: AppContext, clock: FixedClock, hook: Receiver) -> None:
    subscription = _subscribe(api, hook.url, "call.*")
    api.send(customer("CRM-1"), _wrap_up("CRM-1", 1))
    claimed = OutboxWorker(ctx)._claim(clock.now())  # claimed, then the process died
    assert len(claimed) == 1
    assert _drain(ctx) == 0  # its lease still holds
    clock.advance(timedelta(minutes=2))
    assert _drain(ctx) == 1
    [delivery] = _deliveries(api, subscription)["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 2)
    assert hook.ids() == [claimed[0].message_id]


def test_secret_rotation_signs_with_old_and_new_during_the_grace_period(
        api: Api, ctx: AppContext, clock: FixedClock, hook: Receiver) -> None:
    subscription = _subscribe(api, hook.url, "call.*")
    old = subscription["secret"]
    rotated = ok(api.post(f"/v1/webhooks/{subscription['id']}/rotate-secret",
                          json={"grace_seconds": 3600}))
    new = rotated["secret"]
    assert new != old
    api.send(customer("CRM-1"), _wrap_up("CRM-1", 1))
    _drain(ctx)
    received = hook.requests[-1]
    for secret in (old, new):
        Webhook(secret).verify(received.body, received.headers)
    clock.advance(timedelta(hours=2))
    api.send(_wrap_up("CRM-1", 2))
    _drain(ctx)
    received = hook.requests[-1]
    Webhook(new).verify(received.body, received.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(received.body, received.headers)


def test_paused_subscriptions_wait_and_deleted_ones_cancel(
        api: Api, ctx: AppContext, hook: Receiver) -> None:
    subscription = _subscribe(api, hook.url, "call.*")
    path = f"/v1/webhooks/{subscription['id']}"
    assert ok(api.client.patch(path, json={"status": "paused"},
                               headers=api.headers))["status"] == "paused"
    api.send(customer("CRM-1"), _wrap_up("CRM-1", 1))
    assert _drain(ctx) == 0
    ok(api.client.patch(path, json={"status": "active"}, headers=api.headers))
    assert _drain(ctx) == 1
    api.send(_wrap_up("CRM-1", 2))
    assert api.delete(path).status_code == 204
    assert _drain(ctx) == 0
    assert_problem(api.get(path), 404, "not_found")
    assert len(hook.requests) == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"url": "ftp://crm.example.com/x", "event_types": ["*"]}, "url"),
    ({"url": "https:///no-host", "event_types": ["*"]}, "url"),
    ({"url": "https://user:pw@crm.example.com/", "event_types": ["*"]}, "url"),
    ({"url": "https://crm.example.com/", "event_types": []}, "event_types"),
    ({"url": "https://crm.example.com/", "event_types": ["a b"]}, "event_types"),
])
def test_invalid_subscriptions_are_refused(api: Api, body: dict[str, Any], field: str) -> None:
    problem = assert_problem(api.post("/v1/webhooks", json=body), 422, "validation_failed")
    assert problem["errors"][0]["field"] == field


def test_an_oversized_payload_is_dead_with_the_reason(api: Api, ctx: AppContext,
                                                      hook: Receiver,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # Ingest's own limits keep an event well under 256 KiB; a smaller cap shows the mechanism.
    monkeypatch.setattr(outbox_service, "MAX_PAYLOAD_BYTES", 16 * 1024)
    subscription = _subscribe(api, hook.url, "customer.*")
    api.send(event("customer.updated", identifiers={"phone": "600123456"},
                   traits={f"note_{i}": "x" * 1000 for i in range(20)}))
    assert _drain(ctx) == 0
    [delivery] = _deliveries(api, subscription)["deliveries"]
    assert delivery["status"] == "dead" and "exceeds" in delivery["last_error"]


def test_two_workers_never_deliver_a_message_twice_nor_out_of_order(
        api: Api, ctx: AppContext, hook: Receiver) -> None:
    _subscribe(api, hook.url, "call.*")
    api.send(*[customer(f"CRM-{c}") for c in range(5)])
    api.send(*[_wrap_up(f"CRM-{c}", n) for n in range(8) for c in range(5)])
    errors: list[BaseException] = []

    def work() -> None:
        # Each customer's eight messages go one after another: keep going until all are in.
        try:
            for _ in range(60):
                if len(hook.ids()) >= 40:
                    return
                _drain(ctx, batch=7)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len(hook.ids()) == len(set(hook.ids())) == 40
    for c in range(5):
        notes = [r.json["data"]["properties"]["notes"] for r in hook.requests
                 if r.json["data"]["identifiers"]["external_id"] == f"crm:CRM-{c}"]
        assert notes == [f"nota {n}" for n in range(8)]


def test_the_retry_policy() -> None:
    policy = RetryPolicy(dead_after=timedelta(hours=1))
    young = timedelta(minutes=1)
    assert policy.decide(204, 1, young) == Outcome.DELIVERED
    assert policy.decide(503, 50, young) == Outcome.RETRY
    assert policy.decide(None, 5, young) == Outcome.RETRY
    assert policy.decide(429, 9, young) == Outcome.RETRY
    assert policy.decide(400, 2, young) == Outcome.RETRY
    assert policy.decide(400, 3, young) == Outcome.DEAD
    assert policy.decide(503, 1, timedelta(hours=1)) == Outcome.DEAD
    import random
    rng = random.Random(1)
    delays = [policy.backoff(n, rng).total_seconds() for n in range(1, 12)]
    assert delays[0] <= 1 and 2 <= delays[2] <= 4 and all(d <= 300 for d in delays)
    assert delays[-1] >= 150


def test_waiting_messages_never_starve_the_others(
        api: Api, ctx: AppContext, clock: FixedClock, hook: Receiver) -> None:
    """A paused subscription's backlog, and a customer whose first webhook keeps failing,
    must not fill the worker's window and hold back everyone else."""
    paused = _subscribe(api, hook.url, "call.*")
    ok(api.client.patch(f"/v1/webhooks/{paused['id']}", json={"status": "paused"},
                        headers=api.headers))
    active = _subscribe(api, hook.url, "call.*")
    api.send(customer("CRM-A"), customer("CRM-B"))
    hook.fail_when = lambda body: b"CRM-A" in body
    api.send(*[_wrap_up("CRM-A", n) for n in range(30)])
    api.send(_wrap_up("CRM-B", 1))
    for _ in range(3):
        _drain(ctx, batch=2)
        clock.advance(timedelta(minutes=1))
    counts = _deliveries(api, active)["counts"]
    assert counts == {"delivered": 1, "pending": 30}  # B went; A waits behind its first
    assert _deliveries(api, paused)["counts"] == {"pending": 31}
    assert [r.json["data"]["identifiers"]["external_id"] for r in hook.requests] == [
        "crm:CRM-B"]


def test_s2_end_to_end_circulo_serve_delivers_within_a_second(ctx: AppContext,
                                                               hook: Receiver) -> None:
    """The real server, as `circulo serve` runs it, with its outbox worker: the wrap-up is
    at the CRM within a second of being accepted, signed."""
    key = make_key(ctx, ["admin"])
    headers = {"Authorization": f"Bearer {key}"}
    with live_server(ctx.db.url, cli=True) as base:
        subscription = httpx.post(f"{base}/v1/webhooks", headers=headers, json={
            "url": hook.url, "event_types": ["call.wrapped_up"]}).json()
        accepted = httpx.post(f"{base}/v1/events", headers=headers, json=_wrap_up("CRM-9", 1))
        assert accepted.status_code == 200, accepted.text
        sent_at = time.monotonic()
        while not hook.requests and time.monotonic() - sent_at < 5:
            time.sleep(0.01)
        elapsed = time.monotonic() - sent_at
    assert hook.requests, "nothing delivered"
    assert elapsed < 1.0, f"delivered after {elapsed:.2f} s"
    received = hook.requests[0]
    data = Webhook(subscription["secret"]).verify(received.body, received.headers)["data"]
    assert data["properties"]["disposition"] == "resolved"
