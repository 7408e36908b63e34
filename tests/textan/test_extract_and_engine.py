"""The pure parts of analysis on ingest: which text an event carries, and what an analysed
message leads to (the derived event, the waiting task's signal)."""

from __future__ import annotations

from datetime import UTC, datetime

from circulo.text.model import Analysis, Intent, Sentiment, Urgency
from circulo.textan import engine, extract

AT = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def test_text_of_each_kind_of_message() -> None:
    assert extract.text_of({"text": " Hola "}, 100) == "Hola"
    assert extract.text_of({"subject": "Factura", "text": "No me cuadra"}, 100) == \
        "Factura\nNo me cuadra"
    assert extract.text_of({"comment": "Muy mal", "csat": 1}, 100) == "Muy mal"


def test_no_text_is_none() -> None:
    for properties in (None, [], "text", {}, {"text": ""}, {"text": "  \n "}, {"text": 5},
                       {"text": ["a"]}, {"text": {"a": "b"}}, {"text": None}):
        assert extract.text_of(properties, 100) is None
        assert not extract.has_text(properties)


def test_emoji_only_is_text() -> None:
    assert extract.text_of({"text": "😡😡😡"}, 100) == "😡😡😡"
    assert extract.has_text({"text": "😡"})


def test_html_bodies_become_their_words() -> None:
    body = ("<html><head><style>p{color:red}</style><title>x</title></head><body>"
            "<p>Estoy <b>muy</b> enfadado</p><script>alert('x')</script>"
            "<div>Quiero&nbsp;la baja &amp; ya</div></body></html>")
    assert extract.text_of({"subject": "Queja", "text": body}, 1000) == \
        "Queja\nEstoy muy enfadado\nQuiero\xa0la baja & ya"
    assert extract.text_of({"text": "2 < 3 and 5 > 4"}, 100) == "2 < 3 and 5 > 4"  # not HTML
    assert extract.text_of({"text": "<p>unclosed <b"}, 100) == "unclosed <b"  # kept as text


def test_long_text_is_cut_and_lone_surrogates_do_not_pass() -> None:
    big = "palabra " * 20_000  # 160 KB
    assert len(extract.text_of({"text": big}, 1000) or "") == 1000
    html = "<p>" + "<span>x</span>" * 50_000 + "</p>"
    assert len(extract.text_of({"text": html}, 500) or "") <= 500
    cleaned = extract.text_of({"text": "hola \ud800 adiós\x00"}, 100)
    assert cleaned == "hola ? adiós"
    assert cleaned.encode("utf-8")


def _analysis(*, urgent: bool = False, intent: Intent | None = None) -> Analysis:
    return Analysis("es", Sentiment("negative", -0.73456), Urgency(urgent, ("fraud",) if urgent
                                                                    else ()),
                    intent or Intent(None, 0.2), "texto", "test-1")


def test_derived_event_names_its_source_and_is_idempotent() -> None:
    message = engine.Message("E1", "email.received", None, "C1", AT)
    derived = engine.derived_event(message, _analysis(urgent=True))
    assert derived == {
        "type": "text.analyzed", "source": "circulo", "id": "text:E1",
        "occurred_at": AT.isoformat(), "channel": "email",
        "identifiers": {"customer_id": "C1"},
        "properties": {"source_event_id": "E1", "source_event_type": "email.received",
                       "channel": "email", "language": "es", "sentiment": "negative",
                       "sentiment_score": -0.735, "urgent": True, "reasons": ["fraud"],
                       "intent": None, "intent_confidence": 0.2, "engine": "test-1"}}
    assert engine.derived_event(engine.Message("E2", "chat.message", "chat", None, AT),
                                _analysis()) is None  # nobody to tell


def test_task_signal_only_for_written_channels_and_confident_email_intents() -> None:
    confident = Intent("credit_limit", 0.9, "tarjetas", "cards")
    email = engine.Message("E1", "email.received", "email", "C1", AT)
    signal = engine.task_signal(email, _analysis(urgent=True, intent=confident), 0.6)
    assert signal is not None
    assert (signal.channel, signal.urgent, signal.sentiment, signal.queue, signal.skill,
            signal.intent) == ("email", True, "negative", "tarjetas", "cards", "credit_limit")
    unsure = engine.task_signal(email, _analysis(intent=Intent("credit_limit", 0.5, "tarjetas")),
                                0.6)
    assert unsure is not None and unsure.queue is None and unsure.intent is None
    chat = engine.Message("E2", "chat.message", "chat", "C1", AT)
    steered = engine.task_signal(chat, _analysis(intent=confident), 0.6)
    assert steered is not None and steered.queue is None  # a chat is not moved by its intent
    assert steered.intent == "credit_limit"
    call = engine.Message("E3", "call.transcribed", None, "C1", AT)
    assert engine.task_signal(call, _analysis(urgent=True), 0.6) is None
    assert engine.task_signal(engine.Message("E4", "sms.received", None, None, AT),
                              _analysis(), 0.6) is None
