"""What Twilio posts to Círculo, as Círculo events. Pure: form fields in, event out.

Two webhooks (form-encoded, as Twilio sends them):

* the **status callback** of a message we sent. Only the statuses that end a message's
  journey through the carriers become events: ``delivered``, ``undelivered``, ``failed``
  (and WhatsApp's ``read``). ``queued``, ``sending``, ``sent``, ``accepted`` and the like
  are ignored: the worker's ``notification.sent`` already says Twilio has the message, and
  three more events per SMS would bury the timeline.
* an **incoming message** to one of our numbers: ``sms.received`` (a WhatsApp message,
  whose addresses start with ``whatsapp:``, is ``message.received`` on channel whatsapp).

Event ids are Twilio's message SIDs, so Twilio's retries are recorded once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from circulo.errors import ValidationFailed

SOURCE = "twilio"
FINAL_STATUSES = {
    "delivered": "notification.delivered",
    "undelivered": "notification.undelivered",
    "failed": "notification.failed",
    "read": "notification.read",
}
MAX_MEDIA = 10


def _missing(*fields: str) -> ValidationFailed:
    return ValidationFailed(
        f"Twilio's request lacks {', '.join(fields)}",
        errors=[{"field": f, "code": "missing", "detail": f"{f} is required"} for f in fields])


def address(value: str) -> tuple[str, str]:
    """A Twilio address as (phone number, channel): ``whatsapp:+34…`` is WhatsApp."""
    if value.startswith("whatsapp:"):
        return value.removeprefix("whatsapp:"), "whatsapp"
    return value, "sms"


def status_event(form: Mapping[str, str], *, message_id: str | None = None,
                 customer_id: str | None = None) -> dict[str, Any] | None:
    """A status callback as an event, or None for a status that only says "in transit".
    ``message_id`` and ``customer_id`` come from the callback URL the sender set: with
    them the event lands on the customer the message was for, even on a shared phone."""
    sid = form.get("MessageSid") or form.get("SmsSid")
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not sid or not status:
        raise _missing(*[f for f, v in (("MessageSid", sid), ("MessageStatus", status))
                         if not v])
    event_type = FINAL_STATUSES.get(status)
    if event_type is None:
        return None
    to = form.get("To", "")
    number, channel = address(to)
    if not customer_id and not number:
        raise _missing("To")
    properties: dict[str, Any] = {"provider_id": sid, "status": status, "to": to}
    if message_id:
        properties["message_id"] = message_id
    code = form.get("ErrorCode")
    if code:
        properties["error_code"] = int(code) if code.isdigit() else code
    if form.get("ErrorMessage"):
        properties["error_message"] = form["ErrorMessage"]
    return {"type": event_type, "source": SOURCE, "id": f"twilio:{sid}:{status}",
            "channel": channel,
            "identifiers": {"customer_id": customer_id} if customer_id else {"phone": number},
            "properties": properties}


def inbound_event(form: Mapping[str, str]) -> dict[str, Any]:
    """An incoming SMS (or WhatsApp message) as an event on the sender's profile."""
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid")
    sender = form.get("From")
    if not sid or not sender:
        raise _missing(*[f for f, v in (("MessageSid", sid), ("From", sender)) if not v])
    number, channel = address(sender)
    properties: dict[str, Any] = {"text": form.get("Body", ""), "provider_id": sid,
                                  "to": form.get("To", "")}
    count = form.get("NumMedia", "0")
    media = int(count) if count.isdigit() else 0
    if media:
        properties["media"] = [
            {"url": form.get(f"MediaUrl{i}"), "content_type": form.get(f"MediaContentType{i}")}
            for i in range(min(media, MAX_MEDIA)) if form.get(f"MediaUrl{i}")]
    return {"type": "sms.received" if channel == "sms" else "message.received",
            "source": SOURCE, "id": f"twilio:{sid}", "channel": channel,
            "identifiers": {"phone": number}, "properties": properties}
