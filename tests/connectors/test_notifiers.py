"""Notification senders: e-mail to a real local SMTP server (aiosmtpd), SMS and WhatsApp
through the official Twilio client answered with Twilio's documented payloads, and the
outbox worker delivering ``notify:<channel>`` messages with their status events."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from circulo.clock import FixedClock
from circulo.config import Settings
from circulo.connectors import notify_delivery
from circulo.connectors import service as outbox
from circulo.connectors.notifiers import (
    Notification,
    Notifier,
    NotifyError,
    SmtpNotifier,
    TwilioNotifier,
    notifiers_for,
)
from circulo.connectors.policy import Outcome, RetryPolicy
from circulo.connectors.repository import OUTBOX
from circulo.connectors.worker import OutboxWorker
from circulo.context import AppContext
from tests.conftest import Api, ok, only_customer
from tests.connectors.helpers import outbox as outbox_rows
from tests.connectors.vendors import FakeTwilio
from tests.factories import customer

SID = "AC5ef8732a3c49700934481addd5ce1659"
TOKEN = "twilio-auth-token"
SENDER = "Aurora Hogar <avisos@aurora.example>"
TEXT = "Hola, Ángela: ¿mañana?\nLe llamamos a las 10:00. Gracias."


# -- a real SMTP server ---------------------------------------------------------------------------
@dataclass
class Mailbox:
    """An aiosmtpd handler: keeps what it accepts, or answers with a set reply."""

    host: str = "127.0.0.1"
    port: int = 0
    rcpt_reply: str | None = None  # e.g. "550 5.1.1 no such user"
    data_reply: str | None = None  # e.g. "451 4.3.0 try later"
    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply:
            return self.data_reply
        message = email.message_from_bytes(envelope.original_content,
                                           policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def notifier(self) -> SmtpNotifier:
        return SmtpNotifier(self.host, self.port, SENDER, timeout=5.0)


def body(message: EmailMessage) -> str:
    """The text as written: SMTP carries lines ending in CRLF."""
    return str(message.get_content()).replace("\r\n", "\n").rstrip("\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(port=free_port())
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def twilio() -> FakeTwilio:
    return FakeTwilio()


def notification(**changes: Any) -> Notification:
    data = {"message_id": "jm_01", "customer_id": "c1", "channel": "email",
            "to": "ana@example.com", "text": TEXT, "subject": "Su llamada de mañana",
            "language": "es", "purpose": "service", "journey": "callback_offer",
            "instance_id": "ji_7", **changes}
    return Notification.from_payload(data)


def sms_notifier(twilio: FakeTwilio, **options: Any) -> TwilioNotifier:
    options.setdefault("from_", "+34911222333")
    return TwilioNotifier(SID, TOKEN, http_client=twilio, **options)


# -- the notification -----------------------------------------------------------------------------
def test_a_notification_is_read_from_the_outbox_payload() -> None:
    n = notification(subject=None, journey=None)
    assert (n.message_id, n.customer_id, n.channel, n.to, n.subject, n.language,
            n.purpose, n.journey, n.instance_id) == (
        "jm_01", "c1", "email", "ana@example.com", None, "es", "service", None, "ji_7")
    with pytest.raises(NotifyError, match="missing or empty to, text") as missing:
        Notification.from_payload({"message_id": "m", "customer_id": "c", "channel": "sms",
                                   "to": " ", "text": ""})
    assert missing.value.retryable is False
    with pytest.raises(NotifyError, match="unknown channel 'fax'"):
        notification(channel="fax")


# -- SMTP -----------------------------------------------------------------------------------------
def test_an_email_arrives_in_utf8_with_a_message_id_derived_from_the_notification(
        mailbox: Mailbox) -> None:
    notifier = mailbox.notifier()
    sent = notifier.send(notification())
    [(mail_from, recipients, message)] = mailbox.messages
    assert mail_from == "avisos@aurora.example"
    assert recipients == ["ana@example.com"]
    assert message["To"] == "ana@example.com"
    assert message["From"] == SENDER
    assert message["Subject"] == "Su llamada de mañana"
    assert message["Content-Language"] == "es"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert body(message) == TEXT
    assert message["Message-ID"] == "<circulo.jm_01@aurora.example>" == sent.provider_id
    assert sent.status == "accepted"
    # A retry is recognisable: the same notification gets the same Message-ID.
    assert notifier.send(notification()).provider_id == sent.provider_id


def test_without_a_subject_the_first_line_is_the_subject(mailbox: Mailbox) -> None:
    mailbox.notifier().send(notification(subject=None, language="en",
                                         message_id="jm 02/x", text="Hello, Ángela\nBye"))
    [(_, _, message)] = mailbox.messages
    assert message["Subject"] == "Hello, Ángela"
    assert message["Content-Language"] == "en"
    assert message["Message-ID"] == "<circulo.jm-02-x@aurora.example>"


@pytest.mark.parametrize(("where", "reply", "retryable"), [
    ("data_reply", "451 4.3.0 Mail server temporarily rejected message", True),
    ("rcpt_reply", "452 4.2.2 Mailbox full", True),
    ("rcpt_reply", "550 5.1.1 The email account that you tried to reach does not exist", False),
    ("data_reply", "554 5.7.1 Message rejected as spam", False),
])
def test_smtp_4xx_may_pass_later_and_5xx_never(mailbox: Mailbox, where: str, reply: str,
                                               retryable: bool) -> None:
    setattr(mailbox, where, reply)
    with pytest.raises(NotifyError) as refused:
        mailbox.notifier().send(notification())
    code = int(reply[:3])
    assert refused.value.status_code == code
    assert refused.value.retryable is retryable
    assert str(refused.value).startswith(f"SMTP {code}")
    assert reply[4:] in str(refused.value)
    assert mailbox.messages == []


def test_an_unreachable_smtp_server_is_retryable() -> None:
    notifier = SmtpNotifier("127.0.0.1", free_port(), SENDER, timeout=2.0)
    with pytest.raises(NotifyError, match="unreachable") as down:
        notifier.send(notification())
    assert down.value.retryable is True and down.value.status_code is None


# -- Twilio ---------------------------------------------------------------------------------------
def test_an_sms_goes_through_the_official_client(twilio: FakeTwilio) -> None:
    notifier = sms_notifier(
        twilio, status_callback="https://circulo.example/v1/channels/twilio/status")
    sent = notifier.send(notification(channel="sms", to="+34600111222"))
    [call] = twilio.calls
    assert call.method == "POST"
    assert call.url == f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
    assert call.auth == (SID, TOKEN)
    assert call.data["To"] == "+34600111222"
    assert call.data["From"] == "+34911222333"
    assert call.data["Body"] == TEXT
    callback = urlsplit(call.data["StatusCallback"])
    assert callback.geturl().startswith("https://circulo.example/v1/channels/twilio/status?")
    assert parse_qs(callback.query) == {"message_id": ["jm_01"], "customer_id": ["c1"]}
    assert "MessagingServiceSid" not in call.data
    assert (sent.provider_id, sent.status) == (f"SM{1:032x}", "queued")


def test_a_messaging_service_picks_the_sender(twilio: FakeTwilio) -> None:
    notifier = TwilioNotifier(SID, TOKEN, messaging_service_sid="MG0123456789abcdef",
                              http_client=twilio)
    notifier.send(notification(channel="sms", to="+34600111222"))
    [call] = twilio.calls
    assert call.data["MessagingServiceSid"] == "MG0123456789abcdef"
    assert "From" not in call.data and "StatusCallback" not in call.data


def test_whatsapp_addresses_carry_the_whatsapp_prefix(twilio: FakeTwilio) -> None:
    notifier = sms_notifier(twilio, channel="whatsapp", from_="+14155238886")
    assert notifier.channel == "whatsapp"
    notifier.send(notification(channel="whatsapp", to="+34600111222"))
    [call] = twilio.calls
    assert (call.data["To"], call.data["From"]) == ("whatsapp:+34600111222",
                                                    "whatsapp:+14155238886")


@pytest.mark.parametrize(("status", "file", "code", "retryable"), [
    (400, "invalid_to_400.json", 21211, False),
    (400, "unsubscribed_400.json", 21610, False),
    (429, "rate_limited_429.json", 20429, True),
    (503, "unavailable_503.json", 20503, True),
    (401, "authenticate_401.json", 20003, True),  # our token: fixed in the settings
])
def test_twilio_errors_say_whether_to_try_again(twilio: FakeTwilio, status: int, file: str,
                                                code: int, retryable: bool) -> None:
    twilio.status, twilio.file = status, file
    with pytest.raises(NotifyError) as refused:
        sms_notifier(twilio).send(notification(channel="sms", to="+3460011"))
    assert refused.value.status_code == status
    assert refused.value.retryable is retryable
    assert f"Twilio {code} (HTTP {status})" in str(refused.value)


def test_twilio_error_text_names_the_code_and_twilio_message(twilio: FakeTwilio) -> None:
    twilio.status = 400
    with pytest.raises(NotifyError) as refused:
        sms_notifier(twilio).send(notification(channel="sms", to="+3460011"))
    assert "Twilio 21211" in str(refused.value)
    assert "The 'To' number +3460011 is not a valid phone number." in str(refused.value)


def test_a_twilio_sender_needs_a_number_or_a_messaging_service() -> None:
    with pytest.raises(ValueError, match="needs a sender"):
        TwilioNotifier(SID, TOKEN)


# -- configuration --------------------------------------------------------------------------------
def test_only_configured_channels_get_a_sender() -> None:
    assert notifiers_for(Settings()) == {}
    assert notifiers_for(Settings(smtp_host="mail.example")) == {}  # no sender address
    found = notifiers_for(Settings(
        smtp_host="mail.example", smtp_port=587, smtp_from=SENDER, smtp_username="u",
        smtp_password="p", smtp_starttls=True, twilio_account_sid=SID,
        twilio_auth_token=TOKEN, twilio_from="+34911222333",
        twilio_whatsapp_from="+14155238886", public_url="https://circulo.example/"))
    assert sorted(found) == ["email", "sms", "whatsapp"]
    email_sender = found["email"]
    assert isinstance(email_sender, SmtpNotifier)
    assert (email_sender.port, email_sender.password, email_sender.starttls) == (587, "p", True)
    sms = found["sms"]
    assert isinstance(sms, TwilioNotifier)
    assert sms.status_callback == "https://circulo.example/v1/channels/twilio/status"
    assert found["whatsapp"].channel == "whatsapp"
    only_sms = notifiers_for(Settings(twilio_account_sid=SID, twilio_auth_token=TOKEN,
                                      twilio_messaging_service_sid="MG1"))
    assert sorted(only_sms) == ["sms"]
    assert isinstance(only_sms["sms"], TwilioNotifier)
    assert only_sms["sms"].status_callback is None  # no public URL: no callbacks


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIRCULO_SMTP_HOST", "mail.example")
    monkeypatch.setenv("CIRCULO_SMTP_PORT", "2525")
    monkeypatch.setenv("CIRCULO_SMTP_FROM", SENDER)
    monkeypatch.setenv("CIRCULO_TWILIO_AUTH_TOKEN", TOKEN)
    settings = Settings()
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_from) == (
        "mail.example", 2525, SENDER)
    assert settings.twilio_auth_token is not None
    assert settings.twilio_auth_token.get_secret_value() == TOKEN
    assert TOKEN not in repr(settings)


# -- the worker's verdict and events (pure) ------------------------------------------------------
def test_the_sender_s_verdict_decides_not_a_status_code() -> None:
    policy = RetryPolicy(dead_after=timedelta(hours=72))
    young, old = timedelta(minutes=1), timedelta(hours=72)
    assert notify_delivery.outcome(policy, None, False, 1, young) == Outcome.DELIVERED
    assert notify_delivery.outcome(policy, "SMTP 550", False, 1, young) == Outcome.DEAD
    assert notify_delivery.outcome(policy, "SMTP 451", True, 9, young) == Outcome.RETRY
    assert notify_delivery.outcome(policy, "SMTP 451", True, 9, old) == Outcome.DEAD


def test_only_final_outcomes_of_a_known_customer_leave_an_event() -> None:
    now = datetime(2026, 11, 24, 10, tzinfo=UTC)
    payload = {"data": {"message_id": "m1", "customer_id": "c1", "channel": "sms",
                        "journey": "j", "instance_id": "i"}}
    sent = notify_delivery.status_event(payload, "msg_1", Outcome.DELIVERED, "SM1", None, now)
    assert sent == {"type": "notification.sent", "id": "m1:sent", "source": "circulo",
                    "occurred_at": now.isoformat(), "channel": "sms",
                    "identifiers": {"customer_id": "c1"},
                    "properties": {"message_id": "m1", "channel": "sms", "journey": "j",
                                   "instance_id": "i", "provider_id": "SM1"}}
    assert notify_delivery.status_event(payload, "msg_1", Outcome.RETRY, None, "x", now) is None
    assert notify_delivery.status_event({"data": {"message_id": "m1"}}, "msg_1",
                                        Outcome.DEAD, None, "x", now) is None
    failed = notify_delivery.status_event({"data": {"customer_id": "c1", "channel": "fax"}},
                                          "msg_1", Outcome.DEAD, None, "bad", now)
    assert failed is not None
    assert (failed["id"], failed["properties"]["error"]) == ("msg_1:failed", "bad")
    assert "channel" not in failed  # not a channel the event envelope knows


# -- through the outbox worker --------------------------------------------------------------------
def _queue(ctx: AppContext, customer_id: str, channel: str = "email", **changes: Any) -> str:
    data = {"message_id": f"jm_{channel}", "customer_id": customer_id, "channel": channel,
            "to": "ana@example.com" if channel == "email" else "+34600111222",
            "text": TEXT, "subject": "Su llamada", "language": "es", "purpose": "service",
            "journey": "callback_offer", "instance_id": "ji_7", **changes}
    with ctx.db.unit_of_work() as session:
        return outbox.enqueue_request(session, f"notify:{channel}", "notification.requested",
                                      data, ordering_key=customer_id, now=ctx.clock.now())


def _drain(ctx: AppContext, notifiers: dict[str, Notifier]) -> int:
    async def main() -> int:
        async with OutboxWorker(ctx, notifiers=notifiers) as worker:
            return await worker.run_once()
    return asyncio.run(main())


def _timeline(api: Api, customer_id: str, prefix: str = "notification.") -> list[dict[str, Any]]:
    events = ok(api.get(f"/v1/customers/{customer_id}/timeline"))["events"]
    return [e for e in events if e["type"].startswith(prefix)]


def _next_attempt(ctx: AppContext) -> Any:
    with ctx.db.unit_of_work(write=False) as session:
        return session.execute(select(OUTBOX.c.next_attempt_at)).scalar_one()


@pytest.fixture
def ana(api: Api) -> str:
    return only_customer(api.send(customer("CRM-1", email="ana@example.com",
                                           phone="600111222", first_name="Ángela")))


def test_the_worker_sends_an_email_and_records_notification_sent(
        api: Api, ctx: AppContext, mailbox: Mailbox, ana: str) -> None:
    _queue(ctx, ana)
    assert _drain(ctx, {"email": mailbox.notifier()}) == 1
    [(_, recipients, message)] = mailbox.messages
    assert recipients == ["ana@example.com"]
    assert body(message) == TEXT
    assert outbox_rows(ctx) == [("delivered", None, 1)]
    [sent] = _timeline(api, ana)
    assert (sent["type"], sent["source"], sent["channel"], sent["client_id"]) == (
        "notification.sent", "circulo", "email", "jm_email:sent")
    assert sent["properties"] == {
        "message_id": "jm_email", "channel": "email", "journey": "callback_offer",
        "instance_id": "ji_7", "provider_id": "<circulo.jm_email@aurora.example>"}
    assert _drain(ctx, {"email": mailbox.notifier()}) == 0  # nothing left to send


def test_a_permanent_refusal_is_dead_at_once_with_notification_failed(
        api: Api, ctx: AppContext, mailbox: Mailbox, ana: str) -> None:
    mailbox.rcpt_reply = "550 5.1.1 No such user"
    _queue(ctx, ana)
    _drain(ctx, {"email": mailbox.notifier()})
    [(status, error, attempts)] = outbox_rows(ctx)
    assert (status, attempts) == ("dead", 1)
    assert error is not None and error.startswith("SMTP 550 recipient ana@example.com refused")
    [failed] = _timeline(api, ana)
    assert (failed["type"], failed["client_id"]) == ("notification.failed", "jm_email:failed")
    assert failed["properties"]["error"] == error
    assert failed["properties"]["message_id"] == "jm_email"


def test_a_temporary_refusal_is_retried_later_then_sent(
        api: Api, ctx: AppContext, clock: FixedClock, mailbox: Mailbox, ana: str) -> None:
    mailbox.data_reply = "451 4.7.1 Greylisted, try again later"
    _queue(ctx, ana)
    _drain(ctx, {"email": mailbox.notifier()})
    [(status, error, attempts)] = outbox_rows(ctx)
    assert (status, attempts) == ("pending", 1)
    assert error is not None and error.startswith("SMTP 451")
    assert _next_attempt(ctx) > clock.now()
    assert _timeline(api, ana) == []  # nothing final yet
    assert _drain(ctx, {"email": mailbox.notifier()}) == 0  # not due yet
    mailbox.data_reply = None
    clock.advance(timedelta(minutes=10))
    assert _drain(ctx, {"email": mailbox.notifier()}) == 1
    assert outbox_rows(ctx) == [("delivered", None, 2)]
    assert [e["type"] for e in _timeline(api, ana)] == ["notification.sent"]


def test_a_retryable_failure_still_dies_when_too_old(
        api: Api, ctx: AppContext, clock: FixedClock, ana: str) -> None:
    _queue(ctx, ana)
    down = SmtpNotifier("127.0.0.1", free_port(), SENDER, timeout=2.0)
    clock.advance(ctx.settings.outbox_dead_after)
    _drain(ctx, {"email": down})
    [(status, error, _)] = outbox_rows(ctx)
    assert status == "dead" and error is not None and "unreachable" in error
    assert [e["type"] for e in _timeline(api, ana)] == ["notification.failed"]


def test_an_sms_through_twilio_records_the_provider_id(
        api: Api, ctx: AppContext, twilio: FakeTwilio, ana: str) -> None:
    _queue(ctx, ana, "sms")
    _drain(ctx, {"sms": sms_notifier(twilio)})
    [call] = twilio.calls
    assert (call.data["To"], call.data["Body"]) == ("+34600111222", TEXT)
    assert outbox_rows(ctx) == [("delivered", None, 1)]
    [sent] = _timeline(api, ana)
    assert sent["channel"] == "sms"
    assert sent["properties"]["provider_id"] == f"SM{1:032x}"


def test_an_unsubscribed_recipient_is_dead_with_twilio_s_reason(
        api: Api, ctx: AppContext, twilio: FakeTwilio, ana: str) -> None:
    twilio.status, twilio.file = 400, "unsubscribed_400.json"
    _queue(ctx, ana, "sms")
    _drain(ctx, {"sms": sms_notifier(twilio)})
    [(status, error, attempts)] = outbox_rows(ctx)
    assert (status, attempts) == ("dead", 1)
    assert error is not None and "Twilio 21610" in error and "unsubscribed recipient" in error
    [failed] = _timeline(api, ana)
    assert failed["type"] == "notification.failed" and "21610" in failed["properties"]["error"]


def test_a_channel_without_a_sender_is_dead_with_the_setting_to_add(
        api: Api, ctx: AppContext, mailbox: Mailbox, ana: str) -> None:
    _queue(ctx, ana, "whatsapp")
    assert _drain(ctx, {"email": mailbox.notifier()}) == 1
    [(status, error, _)] = outbox_rows(ctx)
    assert status == "dead"
    assert error is not None and "CIRCULO_TWILIO_WHATSAPP_FROM" in error
    [failed] = _timeline(api, ana)
    assert (failed["type"], failed["channel"]) == ("notification.failed", "whatsapp")


def test_a_malformed_notification_is_dead_not_retried(
        api: Api, ctx: AppContext, mailbox: Mailbox, ana: str) -> None:
    _queue(ctx, ana, text="")
    _drain(ctx, {"email": mailbox.notifier()})
    [(status, error, _)] = outbox_rows(ctx)
    assert status == "dead" and error is not None and "missing or empty text" in error
    assert mailbox.messages == []


def test_notifications_respect_the_in_flight_limit_per_channel(
        api: Api, ctx: AppContext, mailbox: Mailbox) -> None:
    result = api.send(*[customer(f"CRM-{n}", email=f"c{n}@example.com") for n in range(10)])
    for n, row in enumerate(result["results"]):
        _queue(ctx, row["customer_id"], message_id=f"jm_{n}", to=f"c{n}@example.com")
    # Another worker's eight sends are still under lease: nothing more may start.
    with ctx.db.unit_of_work() as session:
        seqs = list(session.scalars(select(OUTBOX.c.seq).order_by(OUTBOX.c.seq).limit(8)))
        session.execute(update(OUTBOX).where(OUTBOX.c.seq.in_(seqs)).values(
            status="delivering", lease_until=ctx.clock.now() + timedelta(minutes=1)))
    assert _drain(ctx, {"email": mailbox.notifier()}) == 0
    with ctx.db.unit_of_work() as session:
        session.execute(update(OUTBOX).where(OUTBOX.c.status == "delivering")
                        .values(status="pending", lease_until=None))
    assert _drain(ctx, {"email": mailbox.notifier()}) == 8
    assert len(mailbox.messages) == 8


def test_a_failure_to_record_the_event_never_undoes_the_send(
        api: Api, ctx: AppContext, mailbox: Mailbox, ana: str,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ingest is broken")

    monkeypatch.setattr(notify_delivery.ingest, "ingest", broken)
    _queue(ctx, ana)
    _drain(ctx, {"email": mailbox.notifier()})
    assert outbox_rows(ctx) == [("delivered", None, 1)]  # not sent again when leases expire
    assert len(mailbox.messages) == 1
    assert "jm_email:sent" in caplog.text
