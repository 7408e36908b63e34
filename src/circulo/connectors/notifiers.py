"""Notification senders: e-mail over SMTP, SMS and WhatsApp through Twilio.

Journeys queue ``notification.requested`` messages in the outbox (destination
``notify:<channel>``); the outbox worker hands each one to the :class:`Notifier` of its
channel (``connectors.notify_delivery``). A sender only says what happened: a
:class:`Sent` when the provider took the message, a :class:`NotifyError` that says whether
trying again may help. Retries, dead messages and the events they cause are the worker's.

Both senders are synchronous (``smtplib``, the official ``twilio`` client): the worker runs
each send in a thread.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any, Protocol
from urllib.parse import urlencode

from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from circulo.config import Settings

CHANNELS = ("email", "sms", "whatsapp")
STATUS_CALLBACK_PATH = "/v1/channels/twilio/status"
_MSGID_UNSAFE = re.compile(r"[^A-Za-z0-9._\-]")


class NotifyError(Exception):
    """A send that did not happen. ``retryable``: the same message may go through later
    (the provider is busy or unreachable); otherwise it never will (bad address,
    unsubscribed recipient) and retrying only repeats the refusal. ``status_code`` is the
    provider's own: an SMTP reply code or Twilio's HTTP status."""

    def __init__(self, message: str, *, status_code: int | None = None,
                 retryable: bool = False) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class Notification:
    """One message for one customer, as a journey asked for it."""

    message_id: str
    customer_id: str
    channel: str
    to: str
    text: str
    subject: str | None = None
    language: str = "es"
    purpose: str = "service"
    journey: str | None = None
    instance_id: str | None = None

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Notification:
        """From the ``data`` of a ``notification.requested`` outbox message. A malformed one
        raises a permanent :class:`NotifyError`: it would be just as malformed next time."""
        missing = [k for k in ("message_id", "customer_id", "channel", "to", "text")
                   if not isinstance(data.get(k), str) or not data[k].strip()]
        if missing:
            raise NotifyError(f"invalid notification: missing or empty {', '.join(missing)}")
        if data["channel"] not in CHANNELS:
            raise NotifyError(f"invalid notification: unknown channel '{data['channel']}'; "
                              f"expected one of {', '.join(CHANNELS)}")

        def optional(key: str) -> str | None:
            value = data.get(key)
            return str(value) if value not in (None, "") else None

        return cls(
            message_id=data["message_id"], customer_id=data["customer_id"],
            channel=data["channel"], to=data["to"].strip(), text=data["text"],
            subject=optional("subject"), language=optional("language") or "es",
            purpose=optional("purpose") or "service", journey=optional("journey"),
            instance_id=optional("instance_id"),
        )


@dataclass(frozen=True, slots=True)
class Sent:
    """The provider took the message: its id for it (Twilio's ``SM…``, the e-mail's
    Message-ID) and its status at that moment (``queued``, ``accepted``)."""

    provider_id: str | None
    status: str


class Notifier(Protocol):
    """What the outbox worker needs of a sender: its channel and one blocking send."""

    @property
    def channel(self) -> str: ...

    def send(self, n: Notification) -> Sent: ...


# -- e-mail -----------------------------------------------------------------------------------
class SmtpNotifier:
    """E-mail through an SMTP relay. One connection per message: notices are few and the
    relay may be far; a pooled connection would need its own liveness checks."""

    def __init__(self, host: str, port: int, sender: str, *, username: str | None = None,
                 password: str | None = None, starttls: bool = False,
                 timeout: float = 10.0) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password = username, password
        self.starttls, self.timeout = starttls, timeout

    @property
    def channel(self) -> str:
        return "email"

    def message_id(self, n: Notification) -> str:
        """Derived from the notification, not random: a retried send carries the same
        Message-ID, so the recipient's mail system (and a person) can tell it is a repeat."""
        domain = parseaddr(self.sender)[1].rpartition("@")[2] or "circulo.invalid"
        return f"<circulo.{_MSGID_UNSAFE.sub('-', n.message_id)}@{domain}>"

    def compose(self, n: Notification) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = n.to
        message["Subject"] = n.subject or _first_line(n.text)
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = self.message_id(n)
        # RFC 3834: out-of-office robots must not answer an automatic notice.
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(n.text, charset="utf-8")
        message["Content-Language"] = n.language  # after: set_content drops Content-*
        return message

    def send(self, n: Notification) -> Sent:
        message = self.compose(n)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise _smtp_error(code, reply, f"recipient {n.to} refused") from exc
        except (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError,
                smtplib.SMTPSenderRefused) as exc:
            # Our credentials, sender or the relay's TLS, not the message: once the settings
            # are fixed it goes through, so it waits (until the outbox gives up) rather than
            # dies.
            raise NotifyError(f"SMTP configuration: {_reason(exc)}",
                              status_code=getattr(exc, "smtp_code", None),
                              retryable=True) from exc
        except smtplib.SMTPResponseException as exc:
            raise _smtp_error(exc.smtp_code, exc.smtp_error, "refused") from exc
        except (smtplib.SMTPException, OSError) as exc:  # disconnected, timeout, no route
            raise NotifyError(f"SMTP {self.host}:{self.port} unreachable: {_reason(exc)}",
                              retryable=True) from exc
        return Sent(provider_id=message["Message-ID"], status="accepted")


def _first_line(text: str, limit: int = 78) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[:limit - 1].rstrip() + "…"


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _smtp_error(code: int, reply: bytes | str, what: str) -> NotifyError:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
    # 4xx: "try again later" (greylisting, full mailbox, busy relay); 5xx: never.
    return NotifyError(f"SMTP {code} {what}: {text}"[:500], status_code=code,
                       retryable=400 <= code < 500)


# -- SMS and WhatsApp -------------------------------------------------------------------------
class TwilioNotifier:
    """SMS (or WhatsApp, with ``channel="whatsapp"``) through Twilio's Messages API, with
    the official client. ``http_client`` replaces its HTTP layer (tests, proxies)."""

    def __init__(self, account_sid: str, auth_token: str, *, from_: str | None = None,
                 messaging_service_sid: str | None = None, status_callback: str | None = None,
                 http_client: HttpClient | None = None, channel: str = "sms",
                 timeout: float = 10.0) -> None:
        if not from_ and not messaging_service_sid:
            raise ValueError("Twilio needs a sender: from_ or messaging_service_sid")
        if channel not in ("sms", "whatsapp"):
            raise ValueError(f"Twilio sends sms or whatsapp, not {channel}")
        self._channel = channel
        self.from_, self.messaging_service_sid = from_, messaging_service_sid
        self.status_callback = status_callback
        self.client = Client(account_sid, auth_token,
                             http_client=http_client or TwilioHttpClient(timeout=timeout))

    @property
    def channel(self) -> str:
        return self._channel

    def _address(self, number: str) -> str:
        if self._channel == "whatsapp" and not number.startswith("whatsapp:"):
            return f"whatsapp:{number}"
        return number

    def callback_for(self, n: Notification) -> str | None:
        """The status callback carries the notification's ids: Twilio's answers then land
        on the right customer even when several share the phone number."""
        if not self.status_callback:
            return None
        ids = {"message_id": n.message_id, "customer_id": n.customer_id}
        separator = "&" if "?" in self.status_callback else "?"
        return f"{self.status_callback}{separator}{urlencode(ids)}"

    def send(self, n: Notification) -> Sent:
        options: dict[str, Any] = {"to": self._address(n.to), "body": n.text}
        if self.from_:
            options["from_"] = self._address(self.from_)
        if self.messaging_service_sid:
            options["messaging_service_sid"] = self.messaging_service_sid
        callback = self.callback_for(n)
        if callback:
            options["status_callback"] = callback
        try:
            message = self.client.messages.create(**options)
        except TwilioRestException as exc:
            raise _twilio_error(exc.status, exc.code, exc.msg) from exc
        except TwilioServiceException as exc:
            raise _twilio_error(exc.status, exc.code, exc.detail or exc.title) from exc
        except (TwilioException, OSError) as exc:  # requests' errors are OSErrors
            raise NotifyError(f"Twilio unreachable: {_reason(exc)}"[:500],
                              retryable=True) from exc
        return Sent(provider_id=message.sid, status=str(message.status or "queued"))


def _twilio_error(status: int, code: int | None, text: str) -> NotifyError:
    # 429 and 5xx: Twilio is busy or down; 401: our credentials, fixed in the settings.
    # Any other 4xx is about this message (21211 invalid 'To', 21610 the recipient replied
    # STOP): sending it again changes nothing.
    retryable = status in (401, 429) or status >= 500
    label = f"Twilio {code}" if code and code != status else "Twilio"
    return NotifyError(f"{label} (HTTP {status}): {text}"[:500], status_code=status,
                       retryable=retryable)


# -- configuration ----------------------------------------------------------------------------
def status_callback_url(settings: Settings) -> str | None:
    if not settings.public_url:
        return None
    return settings.public_url.rstrip("/") + STATUS_CALLBACK_PATH


def notifiers_for(settings: Settings) -> dict[str, Notifier]:
    """The senders whose settings are present, by channel; an absent channel has none."""
    found: dict[str, Notifier] = {}
    if settings.smtp_host and settings.smtp_from:
        found["email"] = SmtpNotifier(
            settings.smtp_host, settings.smtp_port, settings.smtp_from,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password
            else None, starttls=settings.smtp_starttls)
    sid, token = settings.twilio_account_sid, settings.twilio_auth_token
    if sid and token:
        callback = status_callback_url(settings)
        if settings.twilio_from or settings.twilio_messaging_service_sid:
            found["sms"] = TwilioNotifier(
                sid, token.get_secret_value(), from_=settings.twilio_from,
                messaging_service_sid=settings.twilio_messaging_service_sid,
                status_callback=callback)
        if settings.twilio_whatsapp_from:
            found["whatsapp"] = TwilioNotifier(
                sid, token.get_secret_value(), from_=settings.twilio_whatsapp_from,
                status_callback=callback, channel="whatsapp")
    return found
