"""Webhook subscriptions and the outbox: what leaves Círculo, written in the transaction
that causes it, delivered later by the worker (``connectors.worker``)."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy.orm import Session

from circulo import hooks
from circulo.connectors import repository as repo
from circulo.connectors.models import OutboxMessage, WebhookSubscription
from circulo.connectors.registry import ConnectorSpec, connectors_for
from circulo.connectors.signing import new_secret
from circulo.egress import EgressError, EgressPolicy
from circulo.errors import NotFound, ValidationFailed
from circulo.ids import new_id

MAX_PAYLOAD_BYTES = 256 * 1024


def _invalid(field: str, detail: str) -> ValidationFailed:
    return ValidationFailed(detail, errors=[{"field": field, "code": "invalid", "detail": detail}])


def check_url(url: str, egress: EgressPolicy) -> str:
    """An http(s) URL without credentials, to a host ``egress`` allows (circulo.egress:
    loopback, private and metadata addresses are refused unless CIRCULO_EGRESS_ALLOW names
    them; what a name resolves to is checked again at each delivery)."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        raise _invalid("url", "the URL must be http(s)://host/...") from None
    if parts.scheme not in ("http", "https") or not host:
        raise _invalid("url", "the URL must be http(s)://host/...")
    if parts.username or parts.password:
        raise _invalid("url", "credentials in the URL are not allowed; sign with the secret")
    if len(url) > 2000:
        raise _invalid("url", "the URL is longer than 2,000 characters")
    try:
        egress.check_host(host)
    except EgressError as exc:
        raise _invalid("url", f"{exc}: Círculo does not send to loopback, private or cloud "
                              "metadata addresses unless CIRCULO_EGRESS_ALLOW names them"
                       ) from None
    return url.strip()


def check_event_types(patterns: Sequence[str]) -> list[str]:
    if not patterns:
        raise _invalid("event_types", "give at least one event type or pattern (e.g. call.*)")
    for pattern in patterns:
        if not pattern or any(c.isspace() for c in pattern) or len(pattern) > 100:
            raise _invalid("event_types", f"'{pattern}' is not an event type pattern")
    return sorted(set(patterns))


def matches(patterns: Sequence[str], event_type: str) -> bool:
    return any(fnmatch.fnmatchcase(event_type, p) for p in patterns)


def create_subscription(session: Session, *, url: str, event_types: Sequence[str],
                        description: str, max_in_flight: int, now: datetime,
                        egress: EgressPolicy) -> WebhookSubscription:
    subscription = WebhookSubscription(
        id=new_id(), url=check_url(url, egress), event_types=check_event_types(event_types),
        secrets=[{"secret": new_secret(), "created_at": now.isoformat(), "expires_at": None}],
        status="active", description=description, max_in_flight=max_in_flight,
        created_at=now, updated_at=now,
    )
    repo.add_subscription(session, subscription)
    return subscription


def get_subscription(session: Session, subscription_id: str) -> WebhookSubscription:
    subscription = repo.get_subscription(session, subscription_id)
    if subscription is None:
        raise NotFound(f"webhook subscription '{subscription_id}' does not exist")
    return subscription


def list_subscriptions(session: Session) -> list[WebhookSubscription]:
    return repo.subscriptions(session, active_only=False)


def update_subscription(session: Session, subscription_id: str, *, url: str | None,
                        event_types: Sequence[str] | None, status: str | None,
                        now: datetime, egress: EgressPolicy) -> WebhookSubscription:
    subscription = get_subscription(session, subscription_id)
    if url is not None:
        subscription.url = check_url(url, egress)
    if event_types is not None:
        subscription.event_types = check_event_types(event_types)
    if status is not None:
        subscription.status = status
    subscription.updated_at = now
    return subscription


def delete_subscription(session: Session, subscription_id: str, now: datetime) -> int:
    """The subscription stops; what it still had to deliver is canceled (kept in the log)."""
    subscription = get_subscription(session, subscription_id)
    subscription.status = "deleted"
    subscription.updated_at = now
    return repo.cancel_open(session, destination_of(subscription.id), now)


def rotate_secret(session: Session, subscription_id: str, grace: timedelta, now: datetime
                  ) -> tuple[WebhookSubscription, str]:
    """A new secret signs from now on; the current ones keep signing for ``grace``, so the
    receiver can switch without missing a delivery."""
    subscription = get_subscription(session, subscription_id)
    secret = new_secret()
    kept = [
        {**s, "expires_at": s["expires_at"] or (now + grace).isoformat()}
        for s in subscription.secrets
        if s["expires_at"] is None or datetime.fromisoformat(s["expires_at"]) > now
    ]
    subscription.secrets = [{"secret": secret, "created_at": now.isoformat(),
                             "expires_at": None}, *kept]
    subscription.updated_at = now
    return subscription, secret


def active_secrets(subscription: WebhookSubscription, now: datetime) -> list[str]:
    return [s["secret"] for s in subscription.secrets
            if s["expires_at"] is None or datetime.fromisoformat(s["expires_at"]) > now]


def destination_of(subscription_id: str) -> str:
    return f"webhook:{subscription_id}"


def on_events_stored(session: Session, accepted: hooks.Accepted) -> None:
    """The ingest subscriber: webhooks and CRM connectors get the events they asked for."""
    enqueue_events(session, accepted.views(), accepted.now,
                   list(connectors_for(accepted.settings).values()))


def enqueue_events(session: Session, events: Iterable[dict[str, Any]], now: datetime,
                   connectors: Sequence[ConnectorSpec] = ()) -> int:
    """Queue a webhook for every (event, matching subscription), in the caller's transaction.
    A paused subscription keeps queuing: the worker delivers it all, in order, on resume.
    ``events`` are event views (id, type, customer_id, occurred_at...); an iterable, so that
    an installation without subscriptions never builds them."""
    subscriptions = repo.subscriptions(session, active_only=False)
    destinations = [(destination_of(s.id), s.event_types) for s in subscriptions]
    destinations += [(c.destination, list(c.event_types)) for c in connectors]
    if not destinations:
        return 0
    rows = []
    for event in events:
        for destination, patterns in destinations:
            if not matches(patterns, event["type"]):
                continue
            payload = {"type": event["type"], "timestamp": event["occurred_at"], "data": event}
            # An oversized payload is kept, visibly dead, rather than silently dropped.
            too_large = len(orjson.dumps(payload)) > MAX_PAYLOAD_BYTES
            rows.append({
                "id": "msg_" + new_id(), "destination": destination,
                "ordering_key": event.get("customer_id") or "", "event_type": event["type"],
                "payload": payload, "status": "dead" if too_large else "pending",
                "attempts": 0, "next_attempt_at": now, "lease_until": None,
                "created_at": now, "updated_at": now, "delivered_at": None,
                "last_status_code": None, "last_latency_ms": None,
                "last_error": f"payload exceeds {MAX_PAYLOAD_BYTES} bytes" if too_large else None,
            })
    repo.insert_messages(session, rows)
    return len(rows)


def enqueue_request(session: Session, destination: str, event_type: str,
                    data: dict[str, Any], *, ordering_key: str, now: datetime,
                    not_before: datetime | None = None) -> str:
    """Queue work for a connector (read a CRM list, fetch a contact), in the caller's
    transaction: retried, logged and replayable like any delivery. ``not_before``: the
    worker leaves it until then (a survey sent some minutes after the call)."""
    message_id = "msg_" + new_id()
    repo.insert_messages(session, [{
        "id": message_id, "destination": destination, "ordering_key": ordering_key,
        "event_type": event_type,
        "payload": {"type": event_type, "timestamp": now.isoformat(), "data": data},
        "status": "pending", "attempts": 0, "next_attempt_at": max(now, not_before or now),
        "lease_until": None, "created_at": now, "updated_at": now, "delivered_at": None,
        "last_status_code": None, "last_latency_ms": None, "last_error": None}])
    return message_id


def first_seen(session: Session, connector: str, event_ids: list[str], *, now: datetime,
               retention: timedelta) -> set[str]:
    """The vendor event ids among these that this connector has not acted on within the
    retention window (and remember them)."""
    return repo.mark_events_seen(session, connector, event_ids, now, now - retention)


def deliveries(session: Session, subscription_id: str, *, status: str | None, limit: int
               ) -> dict[str, Any]:
    get_subscription(session, subscription_id)
    destination = destination_of(subscription_id)
    return {"counts": repo.counts_by_status(session, destination),
            "deliveries": [message_view(m) for m in
                           repo.messages_of(session, destination, status=status, limit=limit)]}


def message_view(message: OutboxMessage) -> dict[str, Any]:
    return {
        "id": message.id, "event_type": message.event_type, "status": message.status,
        "attempts": message.attempts, "customer_id": message.ordering_key or None,
        "created_at": message.created_at.isoformat(),
        "next_attempt_at": message.next_attempt_at.isoformat()
        if message.status == "pending" else None,
        "delivered_at": message.delivered_at.isoformat() if message.delivered_at else None,
        "last_status_code": message.last_status_code,
        "last_latency_ms": message.last_latency_ms, "last_error": message.last_error,
    }


def attempts(session: Session, message_id: str) -> dict[str, Any]:
    message = repo.get_message(session, message_id)
    if message is None:
        raise NotFound(f"delivery '{message_id}' does not exist")
    return {**message_view(message), "attempts_log": [
        {"attempt": a.attempt, "at": a.started_at.isoformat(), "status_code": a.status_code,
         "latency_ms": a.latency_ms, "outcome": a.outcome, "error": a.error}
        for a in repo.attempts_of(session, message_id)]}


def replay_message(session: Session, message_id: str, now: datetime) -> OutboxMessage:
    message = repo.get_message(session, message_id)
    if message is None:
        raise NotFound(f"delivery '{message_id}' does not exist")
    message.status, message.next_attempt_at, message.lease_until = "pending", now, None
    message.updated_at = now
    return message


def replay_all(session: Session, subscription_id: str, status: str, now: datetime) -> int:
    get_subscription(session, subscription_id)
    return repo.replay(session, destination_of(subscription_id), status, now)
