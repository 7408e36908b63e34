"""Notifications through the outbox: ``notify:<channel>`` messages, sent by the channel's
:class:`~circulo.connectors.notifiers.Notifier`, and what they leave on the customer.

The outbox worker claims these messages beside webhooks and CRM deliveries; this module
holds the part that is theirs: the send (blocking, run in a thread), the verdict (a sender
knows better than a status code whether trying again helps) and the delivery status as
events in the customer's timeline (``notification.sent`` / ``notification.failed``), written
in the same transaction as the outcome, so a journey waiting on them never misses one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from circulo.connectors.notifiers import CHANNELS, Notification, Notifier, NotifyError
from circulo.connectors.policy import Outcome, RetryPolicy
from circulo.context import AppContext
from circulo.ingest import service as ingest

PREFIX = "notify:"
# Per channel and worker process: providers throttle per account (Twilio queues, relays
# greylist bursts), and a few parallel sends already keep up with any journey's pace.
MAX_IN_FLIGHT = 8
SETTINGS_HINT = {
    "email": "set CIRCULO_SMTP_HOST and CIRCULO_SMTP_FROM",
    "sms": "set CIRCULO_TWILIO_ACCOUNT_SID, CIRCULO_TWILIO_AUTH_TOKEN and CIRCULO_TWILIO_FROM "
           "or CIRCULO_TWILIO_MESSAGING_SERVICE_SID",
    "whatsapp": "set the Twilio account settings and CIRCULO_TWILIO_WHATSAPP_FROM",
}
log = logging.getLogger(__name__)


def destination(channel: str) -> str:
    return PREFIX + channel


def routes() -> dict[str, str]:
    """Every notification destination the worker claims, with its channel. Channels
    without a sender are claimed too: their messages die at once with the setting to add,
    and the journey hears ``notification.failed``, instead of waiting days in silence."""
    return {destination(channel): channel for channel in CHANNELS}


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one send did. ``retryable`` only matters when ``error`` is set."""

    error: str | None = None
    retryable: bool = False
    status_code: int | None = None
    provider_id: str | None = None


def send(notifier: Notifier | None, channel: str, payload: Mapping[str, Any]) -> Attempt:
    """Send one outbox message's notification. Blocking: the worker runs it in a thread."""
    if notifier is None:
        return Attempt(f"no sender for channel '{channel}': {SETTINGS_HINT[channel]}")
    try:
        notification = Notification.from_payload(payload.get("data") or {})
        if notification.channel != channel:
            raise NotifyError(f"a {notification.channel} notification queued for "
                              f"{destination(channel)}")
        sent = notifier.send(notification)
    except NotifyError as exc:
        return Attempt(str(exc)[:500], exc.retryable, exc.status_code)
    except Exception as exc:  # a bug must not stop the worker: retried, and logged
        log.exception("notification %s failed", (payload.get("data") or {}).get("message_id"))
        return Attempt(f"internal error: {type(exc).__name__}: {exc}"[:500], retryable=True)
    return Attempt(provider_id=sent.provider_id)


def outcome(policy: RetryPolicy, error: str | None, retryable: bool, attempts: int,
            age: timedelta) -> Outcome:
    """The sender's verdict decides, not a status code: an SMTP 550 and a Twilio 21211 are
    final at the first try; what may pass later is retried like a webhook until too old."""
    if error is None:
        return Outcome.DELIVERED
    if not retryable:
        return Outcome.DEAD
    return policy.decide(None, attempts, age)


def status_event(payload: Mapping[str, Any], outbox_id: str, result: Outcome,
                 provider_id: str | None, error: str | None, now: datetime
                 ) -> dict[str, Any] | None:
    """The event a final outcome leaves on the customer; none while it is being retried or
    when the message names no customer. Its id makes recording it again harmless."""
    data = payload.get("data") or {}
    customer_id = data.get("customer_id")
    if result == Outcome.RETRY or not isinstance(customer_id, str) or not customer_id:
        return None
    message_id = str(data.get("message_id") or outbox_id)
    channel = data.get("channel") if data.get("channel") in CHANNELS else None
    event: dict[str, Any] = {
        "source": "circulo", "occurred_at": now.isoformat(),
        "identifiers": {"customer_id": customer_id},
    }
    if channel:
        event["channel"] = channel
    common = {"message_id": message_id, "channel": channel, "journey": data.get("journey"),
              "instance_id": data.get("instance_id")}
    if result == Outcome.DELIVERED:
        return {**event, "type": "notification.sent", "id": f"{message_id}:sent",
                "properties": {**common, "provider_id": provider_id}}
    return {**event, "type": "notification.failed", "id": f"{message_id}:failed",
            "properties": {**common, "error": error}}


def record(session: Session, ctx: AppContext, events: list[dict[str, Any]],
           now: datetime) -> None:
    """Store the status events in the caller's transaction (the worker's outcome write).
    A failure here is logged and rolled back alone: were it to undo the outcomes, the
    leases would run out and every customer of the batch would get the message again."""
    if not events:
        return
    try:
        with session.begin_nested():
            result = ingest.ingest(session, {"events": events}, settings=ctx.settings,
                                   policies=ctx.policies, now=now, actor="outbox")
    except Exception:
        log.exception("notification status events not recorded: %s",
                      ", ".join(e["id"] for e in events))
        return
    for problem in result.errors:
        # A customer erased meanwhile: the outcome stands, only the event has nowhere to go.
        log.warning("notification status event %s not recorded: %s: %s",
                    events[problem.index]["id"], problem.field, problem.detail)
