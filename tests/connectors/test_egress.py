"""Outbound requests go to public addresses only, unless ``CIRCULO_EGRESS_ALLOW`` names an
internal system: refused when a URL is saved (as written) and when connecting (each address
a name resolves to then), redirects never followed, and what answered never stored."""

from __future__ import annotations

import asyncio
import importlib.util
import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ThreadedResolver
from sqlalchemy import text

from circulo.clock import FixedClock
from circulo.connectors import service
from circulo.connectors.outbound import CheckedResolver
from circulo.connectors.worker import OutboxWorker
from circulo.context import AppContext
from circulo.db import Database
from circulo.egress import EgressError, EgressPolicy, literal_address
from tests.conftest import Api, assert_problem, custom_api, ok
from tests.connectors.receiver import Receiver, receiver
from tests.factories import customer, event

PRIVATE_URLS = [
    "http://127.0.0.1:8080/hooks", "http://localhost/hooks", "http://api.localhost/",
    "http://2130706433/", "http://0177.0.0.1/", "http://0x7f.1/", "http://127.1/",
    "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[64:ff9b::a00:1]/",
    "http://10.0.0.5/", "http://172.16.0.1/", "http://192.168.1.1/", "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/", "http://metadata.google.internal/",
    "http://[fd00::1]/", "http://[fe80::1]/", "http://0.0.0.0:8000/", "http://224.0.0.1/",
]


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as state:
        yield state


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_private_loopback_and_metadata_hosts_are_refused_as_written(url: str) -> None:
    with pytest.raises(EgressError, match="refused"):
        EgressPolicy().check_url(url)


@pytest.mark.parametrize(("written", "address"), [
    ("2130706433", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"), ("0x7f.1", "127.0.0.1"),
    ("127.1", "127.0.0.1"), ("10.1", "10.0.0.1"), ("0xa9.254.169.254", "169.254.169.254"),
    ("0x", "0.0.0.0"),  # noqa: S104 - an address read, not bound
    ("93.184.215.14", "93.184.215.14"), ("crm.example.com", None),
])
def test_addresses_written_the_old_ways_are_read_as_resolvers_read_them(
        written: str, address: str | None) -> None:
    assert literal_address(written) == (ipaddress.ip_address(address) if address else None)


def test_public_hosts_pass_and_the_allowlist_opens_only_what_it_names() -> None:
    EgressPolicy().check_url("https://crm.example.com/hooks")
    EgressPolicy().check_url("http://93.184.215.14/")
    allow = EgressPolicy.parse(["10.20.0.0/16", "crm.intranet", "*.corp.example", "::1"])
    for url in ("http://10.20.3.4/", "http://crm.intranet/", "http://a.corp.example/",
                "http://[::1]:8000/"):
        allow.check_url(url)
    for url in ("http://10.21.0.1/", "http://127.0.0.1/", "http://169.254.169.254/"):
        with pytest.raises(EgressError):
            allow.check_url(url)
    allow.check_resolved("crm.intranet", ["10.99.0.1"])  # a named host resolves anywhere...
    with pytest.raises(EgressError, match="metadata"):  # ... but to the metadata service
        allow.check_resolved("crm.intranet", ["169.254.169.254"])
    with pytest.raises(EgressError, match="private"):
        allow.check_resolved("shop.example.com", ["93.184.215.14", "10.0.0.1"])  # any one
    with pytest.raises(ValueError, match="neither"):
        EgressPolicy.parse(["http://crm.intranet/"])


def test_the_resolver_checks_every_address_a_name_resolves_to() -> None:
    """What aiohttp's connector asks: ``localhost`` resolves to loopback, refused; the same
    name allowed by name, or its address allowed, passes."""
    async def resolve(policy: EgressPolicy) -> list[str]:
        resolver = CheckedResolver(policy, ThreadedResolver())  # inside the loop
        try:
            return [r["host"] for r in await resolver.resolve("localhost", 80)]
        finally:
            await resolver.close()

    with pytest.raises(OSError, match="refused: private address"):
        asyncio.run(resolve(EgressPolicy()))
    assert "127.0.0.1" in asyncio.run(resolve(EgressPolicy.parse(["localhost"])))
    assert "127.0.0.1" in asyncio.run(resolve(EgressPolicy.parse(["127.0.0.0/8", "::1"])))


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hooks", "http://localhost/hooks", "http://2130706433/",
    "http://[::ffff:127.0.0.1]/", "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5/", "http://[fd00::1]/"])
def test_a_subscription_to_a_private_address_is_refused_when_saved(
        database: Database, clock: FixedClock, url: str) -> None:
    with custom_api(database, clock, egress_allow=[]) as api:
        problem = assert_problem(api.post("/v1/webhooks", json={
            "url": url, "event_types": ["call.*"]}), 422, "validation_failed")
        [error] = problem["errors"]
        assert error["field"] == "url" and "refused" in error["detail"]
        created = ok(api.post("/v1/webhooks", json={"url": "https://crm.example.com/hooks",
                                                    "event_types": ["call.*"]}), 201)
        problem = assert_problem(api.client.patch(
            f"/v1/webhooks/{created['id']}", headers=api.headers, json={"url": url}),
            422, "validation_failed")
        assert problem["errors"][0]["field"] == "url"


def test_a_journey_webhook_to_a_private_address_is_refused_when_saved(
        database: Database, clock: FixedClock) -> None:
    document = """
journey: to-the-metadata-service
trigger: call.abandoned
steps:
  - name: leak
    do:
      - webhook: {url: "http://169.254.169.254/latest/meta-data/iam/"}
"""
    with custom_api(database, clock, egress_allow=[]) as api:
        for path in ("/v1/journeys", "/v1/journeys/try"):
            problem = assert_problem(api.post(path, content=document.encode(), headers={
                "Content-Type": "application/yaml"}), 422, "validation_failed")
            [error] = problem["errors"]
            assert "line 7: steps[0].do[0].webhook.url" in error["field"]
            assert "metadata address refused" in error["detail"]


def _store_subscription(api: Api, ctx: AppContext, url: str, allow: list[str]) -> str:
    """Saved while its host was allowed (or by an older release that checked nothing), and
    an event for it queued."""
    with ctx.db.unit_of_work() as session:
        subscription = service.create_subscription(
            session, url=url, event_types=["call.*"], description="", max_in_flight=4,
            now=ctx.clock.now(), egress=EgressPolicy.parse(allow))
        subscription_id = subscription.id
    api.send(customer("CRM-1"), event("call.abandoned", identifiers={
        "external_ids": {"crm": "CRM-1"}}))
    return subscription_id


def _deliver(ctx: AppContext, allow: list[str]) -> list[tuple[Any, ...]]:
    """One worker round with this allowlist; each attempt with the delivery's last error."""
    worker_ctx = AppContext.build(ctx.settings.with_overrides(egress_allow=allow), ctx.clock,
                                  db=ctx.db)

    async def main() -> None:
        async with OutboxWorker(worker_ctx) as worker:
            await worker.run_once()
    asyncio.run(main())
    with ctx.db.engine.begin() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT a.status_code, a.outcome, a.error, o.last_error FROM delivery_attempts a "
            "JOIN outbox o ON o.id = a.message_id ORDER BY a.started_at")).all()]


@pytest.mark.parametrize(("host", "allowed_when_saved"), [
    ("localhost", ["localhost"]),  # a name: its lookup is checked (the resolver)
    ("2130706433", ["127.0.0.0/8"]),  # a number aiohttp takes for an address, no lookup
])
def test_a_stored_destination_resolving_to_loopback_is_refused_when_connecting(
        api: Api, ctx: AppContext, hook: Receiver, host: str,
        allowed_when_saved: list[str]) -> None:
    _store_subscription(api, ctx, hook.url.replace("127.0.0.1", host), allowed_when_saved)
    [(status, outcome, error, last_error)] = _deliver(ctx, [])  # the default: no allowlist
    assert hook.requests == []
    assert (status, error, last_error) == (None, "refused: private address",
                                           "refused: private address")
    assert outcome == "dead"


def test_the_allowlist_lets_the_worker_reach_a_name_that_resolves_inside(
        api: Api, ctx: AppContext, hook: Receiver) -> None:
    _store_subscription(api, ctx, hook.url.replace("127.0.0.1", "localhost"), ["localhost"])
    [(status, outcome, _, _)] = _deliver(ctx, ["localhost"])
    assert (status, outcome, len(hook.requests)) == (200, "delivered", 1)


def test_redirects_are_not_followed(api: Api, ctx: AppContext, hook: Receiver) -> None:
    """A public receiver answering 307 to the metadata service gets no second request
    there: the 3xx is the answer, recorded with its reason."""
    hook.status, hook.location = 307, "http://169.254.169.254/latest/meta-data/"
    _store_subscription(api, ctx, hook.url, ["127.0.0.1"])
    [(status, _, error, _)] = _deliver(ctx, ["127.0.0.1"])
    assert (status, error) == (307, "HTTP 307 Temporary Redirect")


def test_what_a_failing_receiver_answers_is_never_stored(api: Api, ctx: AppContext,
                                                         hook: Receiver) -> None:
    """A receiver's error page may hold anything (an internal service's data, reached
    through a URL someone saved): only the status and its reason phrase are kept."""
    hook.status, hook.answer = 500, b'{"internal": "db password = hunter2"}'
    subscription = ok(api.post("/v1/webhooks", json={"url": hook.url,
                                                     "event_types": ["call.*"]}), 201)
    api.send(customer("CRM-1"), event("call.abandoned", identifiers={
        "external_ids": {"crm": "CRM-1"}}))

    async def main() -> None:
        async with OutboxWorker(ctx) as worker:
            await worker.run_once()
    asyncio.run(main())
    [delivery] = ok(api.get(f"/v1/webhooks/{subscription['id']}/deliveries"))["deliveries"]
    assert delivery["last_error"] == "HTTP 500 Internal Server Error"
    attempts = ok(api.get(f"/v1/deliveries/{delivery['id']}"))
    assert [a["error"] for a in attempts["attempts_log"]] == ["HTTP 500 Internal Server Error"]
    assert "hunter2" not in str(attempts)


def test_what_earlier_releases_stored_of_the_answers_is_scrubbed(api: Api,
                                                                  ctx: AppContext) -> None:
    """Migration 0011: errors stored with the receiver's body keep the status only."""
    path = Path(__file__).parents[2] / "src/circulo/migrations/versions/0011_outbound.py"
    spec = importlib.util.spec_from_file_location("migration_0011", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    subscription = ok(api.post("/v1/webhooks", json={"url": "https://crm.example.com/h",
                                                     "event_types": ["call.*"]}), 201)
    api.send(customer("CRM-1"), event("call.abandoned", identifiers={
        "external_ids": {"crm": "CRM-1"}}))
    old = {"HTTP 500: {\"db_password\": \"hunter2\"}": "HTTP 500 Internal Server Error",
           "intranet: POST /contacts answered 503: <html>hunter2</html>":
           "intranet: POST /contacts answered 503 Service Unavailable",
           "cannot connect: Cannot connect to host 10.0.0.9:6379 ssl:default":
           "cannot connect: connection failed",
           "timeout after 10 s": "timeout after 10 s"}
    with ctx.db.engine.begin() as conn:
        message_id = conn.execute(text("SELECT id FROM outbox")).scalar_one()
        conn.execute(text("UPDATE outbox SET last_error = :e"), {"e": next(iter(old))})
        for n, error in enumerate(old, 1):
            conn.execute(text(
                "INSERT INTO delivery_attempts (message_id, attempt, started_at, status_code,"
                " latency_ms, outcome, error) VALUES (:m, :n, :at, 500, 1, 'retry', :e)"),
                {"m": message_id, "n": n, "at": ctx.clock.now(), "e": error})
        assert migration.scrub(conn) == 4
        assert migration.scrub(conn) == 0
    [delivery] = ok(api.get(f"/v1/webhooks/{subscription['id']}/deliveries"))["deliveries"]
    assert delivery["last_error"] == "HTTP 500 Internal Server Error"
    log = ok(api.get(f"/v1/deliveries/{message_id}"))["attempts_log"]
    assert [a["error"] for a in log] == list(old.values())
