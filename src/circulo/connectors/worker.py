"""The outbox worker: claim due messages, deliver them signed, record what happened.

At-least-once: a message is marked delivered only after a 2xx; a worker that dies mid-delivery
leaves a lease that expires, and the message is delivered again with the same ``webhook-id``.
Per (destination, customer) group only the oldest open message is ever in flight, so a
customer's webhooks arrive in order; per destination at most ``max_in_flight`` are in flight.
On PostgreSQL several workers share the outbox (``FOR UPDATE SKIP LOCKED``).

Four kinds of destination: ``webhook:<id>`` (signed HTTP), ``crm:<name>`` (a CRM's client),
``notify:<channel>`` (e-mail, SMS, WhatsApp notifications, ``connectors.notify_delivery``) and
``journey:webhook`` (a journey's own HTTP request, ``connectors.journey_webhooks``).
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import orjson

from circulo.connectors import crm_delivery as crm_ids
from circulo.connectors import journey_webhooks, outbound, service
from circulo.connectors import notify_delivery as notify
from circulo.connectors import repository as repo
from circulo.connectors.crm import CrmError
from circulo.connectors.notifiers import Notifier, notifiers_for
from circulo.connectors.policy import Outcome, RetryPolicy
from circulo.connectors.registry import ConnectorSpec, connectors_for
from circulo.connectors.signing import headers as signed_headers
from circulo.context import AppContext

LEASE_MARGIN = timedelta(seconds=30)
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Delivery:
    seq: int
    message_id: str
    attempt: int
    url: str
    secrets: list[str]
    body: bytes
    crm: ConnectorSpec | None = None  # set for crm:<name> destinations
    payload: dict[str, Any] | None = None
    channel: str | None = None  # set for notify:<channel> destinations
    method: str = "POST"
    headers: Mapping[str, str] | None = None  # a journey's own headers
    error: str | None = None  # cannot be sent at all: dead at once with this reason


@dataclass(frozen=True, slots=True)
class Result:
    delivery: Delivery
    started_at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None
    provider_id: str | None = None  # notifications: the provider's id for the message
    retryable: bool | None = None  # notifications: the sender's verdict; else the status


class OutboxWorker:
    def __init__(self, ctx: AppContext, *, policy: RetryPolicy | None = None,
                 batch: int = 200, timeout: float = 10.0, rng: random.Random | None = None,
                 notifiers: Mapping[str, Notifier] | None = None) -> None:
        self.ctx = ctx
        self.policy = policy or RetryPolicy(dead_after=ctx.settings.outbox_dead_after)
        self.batch = batch
        self.timeout = timeout
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self.notifiers = dict(notifiers if notifiers is not None
                              else notifiers_for(ctx.settings))
        self._client: aiohttp.ClientSession | None = None
        self._egress = ctx.settings.egress

    async def __aenter__(self) -> OutboxWorker:
        # aiohttp rather than httpx here: httpx's pool costs O(connections) per request, and
        # with hundreds in flight that, not the network, was the limit (ADR 0006).
        # Every address is checked where it is connected to (connectors.outbound).
        self._client = outbound.client_session(self._egress, self.timeout,
                                               limit=512, limit_per_host=256)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.close()

    async def run_once(self) -> int:
        """One round: claim, deliver concurrently, record. Returns how many were tried."""
        claimed = self._claim(self.ctx.clock.now())
        if not claimed:
            return 0
        results = await asyncio.gather(*(self._deliver(d) for d in claimed))
        self._record(results, self.ctx.clock.now())
        return len(results)

    async def run_forever(self, stop: threading.Event, idle_seconds: float = 0.2) -> None:
        while not stop.is_set():
            if await self.run_once() == 0:
                await asyncio.sleep(idle_seconds)

    # -- claim ---------------------------------------------------------------------------------
    def _claim(self, now: datetime) -> list[Delivery]:
        with self.ctx.db.unit_of_work() as session:
            subscriptions = {service.destination_of(s.id): s
                             for s in repo.subscriptions(session, active_only=True)}
            crms = {c.destination: c for c in connectors_for(self.ctx.settings)
                    .values()}
            channels = notify.routes()
            limits = {**{d: s.max_in_flight for d, s in subscriptions.items()},
                      **{d: c.max_in_flight for d, c in crms.items()},
                      **dict.fromkeys(channels, notify.MAX_IN_FLIGHT),
                      journey_webhooks.DESTINATION: journey_webhooks.MAX_IN_FLIGHT}
            candidates = repo.due_candidates(session, now, self.batch * 2, sorted(limits))
            if not candidates:
                return []
            flying = repo.in_flight(session, sorted({c.destination for c in candidates}), now)
            chosen: list[int] = []
            for candidate in candidates:
                if flying.get(candidate.destination, 0) >= limits[candidate.destination]:
                    continue
                flying[candidate.destination] = flying.get(candidate.destination, 0) + 1
                chosen.append(candidate.seq)
                if len(chosen) >= self.batch:
                    break
            lease = now + timedelta(seconds=self.timeout) + LEASE_MARGIN
            deliveries = []
            for row in repo.mark_delivering(session, chosen, lease, now):
                subscription = subscriptions.get(row["destination"])
                if row["destination"] == journey_webhooks.DESTINATION:
                    request = journey_webhooks.request(row["payload"], self.ctx.settings)
                    deliveries.append(Delivery(
                        row["seq"], row["id"], row["attempts"], request.url, request.secrets,
                        request.body, method=request.method, headers=request.headers,
                        error=request.error))
                    continue
                if subscription is None:
                    deliveries.append(Delivery(row["seq"], row["id"], row["attempts"], "", [],
                                               b"", crms.get(row["destination"]),
                                               row["payload"], channels.get(row["destination"])))
                    continue
                deliveries.append(Delivery(
                    row["seq"], row["id"], row["attempts"], subscription.url,
                    service.active_secrets(subscription, now), orjson.dumps(row["payload"])))
            return deliveries

    # -- deliver -------------------------------------------------------------------------------
    async def _deliver(self, delivery: Delivery) -> Result:
        if delivery.crm is not None:
            # Vendor clients are synchronous: each CRM call runs in a thread.
            return await asyncio.to_thread(self._deliver_to_crm, delivery)
        if delivery.channel is not None:  # smtplib and Twilio's client block too
            return await asyncio.to_thread(self._deliver_notification, delivery)
        assert self._client is not None, "use the worker as an async context manager"  # noqa: S101
        started_at = self.ctx.clock.now()
        # A host written as an address never reaches the resolver: checked here.
        unsendable = delivery.error or outbound.refusal(self._egress, delivery.url)
        if unsendable is not None:
            return Result(delivery, started_at, None, 0, unsendable, retryable=False)
        # The signature's timestamp is the real send time: receivers check it against theirs.
        headers = {**(delivery.headers or {}), **signed_headers(
            delivery.secrets, delivery.message_id, int(time.time()), delivery.body)}
        if not delivery.secrets:  # a journey's request without a configured secret
            del headers["webhook-signature"]
        begin = time.perf_counter()
        status_code: int | None = None
        error: str | None = None
        refused: str | None = None  # by the resolver: final, like an address refused above
        try:
            async with self._client.request(delivery.method, delivery.url, data=delivery.body,
                                            headers=headers,
                                            allow_redirects=False) as response:
                status_code = response.status
                # The status and its reason only: what answered is not ours to keep (it
                # may be anything a URL someone saved leads to), and it is read back
                # through the API.
                if 200 <= status_code < 300:
                    await response.read()
                else:
                    error = outbound.http_error(status_code)
        except TimeoutError:
            error = f"timeout after {self.timeout:g} s"
        except aiohttp.ClientConnectorError as exc:
            refused = outbound.refused(exc)
            error = refused or f"cannot connect: {outbound.connection_reason(exc)}"
        except aiohttp.ClientError as exc:
            error = type(exc).__name__
        latency = int((time.perf_counter() - begin) * 1000)
        return Result(delivery, started_at, status_code, latency, error,
                      retryable=False if refused else None)

    def _deliver_to_crm(self, delivery: Delivery) -> Result:
        assert delivery.crm is not None and delivery.payload is not None  # noqa: S101
        started_at = self.ctx.clock.now()
        begin = time.perf_counter()
        status_code: int | None = 200
        error: str | None = None
        try:
            crm_ids.deliver(self.ctx, delivery.crm, delivery.payload)
        except CrmError as exc:
            status_code, error = exc.status_code, str(exc)[:500]
        except Exception as exc:  # a bug or bad data must not stop the worker: retry, logged
            log.exception("CRM delivery %s failed", delivery.message_id)
            status_code, error = None, f"internal error: {type(exc).__name__}: {exc}"[:500]
        latency = int((time.perf_counter() - begin) * 1000)
        return Result(delivery, started_at, status_code, latency, error)

    def _deliver_notification(self, delivery: Delivery) -> Result:
        assert delivery.channel is not None and delivery.payload is not None  # noqa: S101
        started_at = self.ctx.clock.now()
        begin = time.perf_counter()
        attempt = notify.send(self.notifiers.get(delivery.channel), delivery.channel,
                              delivery.payload)
        latency = int((time.perf_counter() - begin) * 1000)
        return Result(delivery, started_at, attempt.status_code, latency, attempt.error,
                      attempt.provider_id, attempt.retryable)

    # -- record --------------------------------------------------------------------------------
    def _record(self, results: list[Result], now: datetime) -> None:
        with self.ctx.db.unit_of_work() as session:
            current = repo.outcome_rows(session, [r.delivery.seq for r in results])
            updates, attempts, events = [], [], []
            for result in results:
                row = current.get(result.delivery.seq)
                outcome = self._decide(row, result, now)
                # Canceled meanwhile, or re-claimed after a lost lease: log the attempt only.
                if row and row["status"] == "delivering" and \
                        row["attempts"] == result.delivery.attempt:
                    updates.append(self._outcome_row(row, result, outcome, now))
                    if result.delivery.channel is not None and result.delivery.payload:
                        event = notify.status_event(
                            result.delivery.payload, result.delivery.message_id, outcome,
                            result.provider_id, result.error, now)
                        if event is not None:
                            events.append(event)
                attempts.append({
                    "message_id": result.delivery.message_id, "attempt": result.delivery.attempt,
                    "started_at": result.started_at, "status_code": result.status_code,
                    "latency_ms": result.latency_ms, "outcome": outcome.value,
                    "error": result.error,
                })
            repo.save_outcomes(session, updates)
            repo.add_attempts(session, attempts)
            notify.record(session, self.ctx, events, now)

    def _decide(self, row: dict[str, Any] | None, result: Result, now: datetime) -> Outcome:
        if row is None:
            return Outcome.DEAD
        age = now - row["created_at"]
        if result.retryable is None:  # webhooks and CRMs: the answer's status decides
            return self.policy.decide(result.status_code, row["attempts"], age)
        return notify.outcome(self.policy, result.error, result.retryable, row["attempts"],
                              age)

    def _outcome_row(self, row: dict[str, Any], result: Result, outcome: Outcome,
                     now: datetime) -> dict[str, Any]:
        status = {Outcome.DELIVERED: "delivered", Outcome.DEAD: "dead"}.get(outcome, "pending")
        retry = outcome == Outcome.RETRY
        return {
            "seq": row["seq"], "status": status,
            "delivered_at": now if outcome == Outcome.DELIVERED else None,
            "next_attempt_at": now + self.policy.backoff(row["attempts"], self.rng) if retry
            else now,
            "lease_until": None, "updated_at": now,
            "last_status_code": result.status_code, "last_latency_ms": result.latency_ms,
            "last_error": result.error,
        }


def run_in_thread(ctx: AppContext, stop: threading.Event) -> threading.Thread:
    """The worker beside the API in one process (``circulo serve``)."""
    async def main() -> None:
        async with OutboxWorker(ctx) as worker:
            await worker.run_forever(stop)

    thread = threading.Thread(target=lambda: asyncio.run(main()), name="outbox-worker",
                              daemon=True)
    thread.start()
    return thread
