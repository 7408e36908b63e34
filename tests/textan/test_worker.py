"""The analysis worker on the test database (SQLite, or PostgreSQL with
CIRCULO_DATABASE_URL): inbox rows written at ingest, batches in order, results on the event,
the derived ``text.analyzed`` event and indicators, faults (a poison message, a crash before
the commit), a repeated run, merges and erasure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from circulo.clock import FixedClock
from circulo.context import AppContext
from circulo.customers import service as customers
from circulo.customers.models import Event
from circulo.identity import service as identity
from circulo.privacy import erasure
from circulo.textan import repository as inbox
from circulo.textan.models import TextInbox
from circulo.textan.worker import Worker
from tests.textan.helpers import KeywordAnalyzer, chat, send


def _events(ctx: AppContext, event_type: str) -> list[Event]:
    with ctx.db.unit_of_work(write=False) as session:
        rows = session.scalars(select(Event).where(Event.type == event_type)
                               .order_by(Event.occurred_at, Event.id)).all()
        session.expunge_all()
        return list(rows)


def _inbox(ctx: AppContext) -> list[TextInbox]:
    with ctx.db.unit_of_work(write=False) as session:
        rows = session.scalars(select(TextInbox).order_by(TextInbox.seq)).all()
        session.expunge_all()
        return list(rows)


def _indicators(ctx: AppContext, customer_id: str) -> dict[str, Any]:
    with ctx.db.unit_of_work(write=False) as session:
        profile = customers.active_root(session, customer_id)
        from circulo.customers import indicators

        return indicators.view(profile.indicators, ctx.policies.indicators, ctx.clock.now())


def test_ingest_writes_one_inbox_row_per_message_with_text_and_no_analysis(
        ctx: AppContext) -> None:
    result = send(ctx, [
        chat("Hola, ¿a qué hora abren?"),
        {"type": "email.received", "source": "mail", "channel": "email",
         "identifiers": {"email": "ana@example.com"},
         "properties": {"subject": "Factura", "text": "<p>Estoy <b>furioso</b></p>"}},
        {"type": "survey.answered", "source": "survey", "identifiers": {"email": "b@x.es"},
         "properties": {"csat": 2, "comment": "fatal"}},
        {"type": "page.viewed", "source": "web", "identifiers": {"email": "ana@example.com"},
         "properties": {"text": "not a message type"}},
        chat(""), chat("   "), chat(12345), chat(["a", "list"]), chat({"an": "object"}),
    ])
    assert result.accepted == 9
    rows = _inbox(ctx)
    stored = {r.id: r.type for r in _events(ctx, "chat.message")
              + _events(ctx, "email.received") + _events(ctx, "survey.answered")}
    assert len(rows) == 3  # the three messages with words; the rest carry no text
    assert [stored[r.event_id] for r in rows] == \
        ["chat.message", "email.received", "survey.answered"]
    assert all(e.analysis is None for e in _events(ctx, "chat.message"))


def test_off_writes_no_inbox_rows(ctx: AppContext) -> None:
    ctx.settings.text_analysis = False
    try:
        send(ctx, [chat("Estoy furioso")])
    finally:
        ctx.settings.text_analysis = True
    assert _inbox(ctx) == []


def test_worker_stores_result_records_text_analyzed_and_folds_indicators(
        ctx: AppContext) -> None:
    analyzer = KeywordAnalyzer()
    result = send(ctx, [chat("Estoy furioso, pago con 4111 1111 1111 1111 y me doy de baja")])
    customer = result.results[0].customer_id
    assert customer is not None
    done = Worker(ctx, analyzer).run_until_idle()
    assert (done.analysed, done.derived, done.failed) == (1, 1, 0)
    assert _inbox(ctx) == []
    [message] = _events(ctx, "chat.message")
    assert message.analysis is not None
    assert message.analysis["sentiment"]["label"] == "negative"
    assert "4111" not in str(message.analysis)  # the redacted text only
    assert message.properties == {
        "text": "Estoy furioso, pago con 4111 1111 1111 1111 y me doy de baja"}  # untouched
    [derived] = _events(ctx, "text.analyzed")
    assert derived.profile_id == customer
    assert derived.occurred_at == message.occurred_at
    assert derived.channel == "chat"
    assert derived.properties == {
        "source_event_id": message.id, "source_event_type": "chat.message", "channel": "chat",
        "language": "es", "sentiment": "negative", "sentiment_score": -0.8, "urgent": True,
        "reasons": ["churn_threat"], "intent": None, "intent_confidence": 0.1,
        "engine": "keywords-test"}
    shown = _indicators(ctx, customer)
    assert shown["sentiment"]["recent"] == [-0.8]
    assert shown["sentiment"]["average_30d"] == -0.8
    assert shown["urgent_contacts"] == {"7d": 1, "30d": 1, "90d": 1}
    assert shown["last_negative_at"] == message.occurred_at.isoformat()
    assert shown["last_negative_channel"] == "chat"
    assert shown["contacts_total"] == 0  # an analysis is not another contact


def test_batches_take_messages_in_order(ctx: AppContext, clock: FixedClock) -> None:
    ctx.settings.text_batch_size = 2
    analyzer = KeywordAnalyzer()
    for n in range(5):
        send(ctx, [chat(f"mensaje {n}", email=f"c{n % 2}@example.com")])
        clock.advance(timedelta(seconds=1))
    worker = Worker(ctx, analyzer)
    first = worker.run_once()
    assert first.analysed == 2 and analyzer.seen == ["mensaje 0", "mensaje 1"]
    assert len(_inbox(ctx)) == 3
    worker.run_until_idle()
    assert analyzer.seen == [f"mensaje {n}" for n in range(5)]
    assert len(_events(ctx, "text.analyzed")) == 5


def test_a_poison_message_is_retried_then_marked_failed_and_never_blocks(
        ctx: AppContext) -> None:
    ctx.settings.text_max_attempts = 3
    analyzer = KeywordAnalyzer()
    send(ctx, [chat("primero"), chat("POISON pill"), chat("gracias, genial")])
    worker = Worker(ctx, analyzer)
    first = worker.run_once()
    assert first.analysed == 2  # the batch failed; one by one, the others went through
    [left] = _inbox(ctx)
    assert left.attempts == 1 and left.failed_at is None and "ValueError" in (left.error or "")
    worker.run_once()
    third = worker.run_once()
    assert third.failed == 1
    [failed] = _inbox(ctx)
    assert failed.attempts == 3 and failed.failed_at is not None
    assert worker.run_until_idle().handled == 0  # skipped from now on
    send(ctx, [chat("después")])
    assert worker.run_until_idle().analysed == 1  # later messages are not held up
    with ctx.db.unit_of_work(write=False) as session:
        assert inbox.summary(session)[:2] == (0, 1)
    assert len(_events(ctx, "text.analyzed")) == 3


def test_a_crash_before_the_commit_leaves_the_rows_to_redo(
        ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    analyzer = KeywordAnalyzer()
    send(ctx, [chat("Estoy furioso"), chat("gracias")])
    worker = Worker(ctx, analyzer)

    def crash(*_: Any) -> None:
        raise RuntimeError("the process died here")

    monkeypatch.setattr(inbox, "drop", crash)
    with pytest.raises(RuntimeError):
        worker._run(None)  # the batch alone, as the loop runs it
    # nothing of the batch was kept: no result, no derived event, both rows still there
    assert all(e.analysis is None for e in _events(ctx, "chat.message"))
    assert _events(ctx, "text.analyzed") == []
    assert len(_inbox(ctx)) == 2
    monkeypatch.undo()
    assert worker.run_until_idle().analysed == 2
    assert len(_events(ctx, "text.analyzed")) == 2
    assert _inbox(ctx) == []


def test_redoing_a_batch_records_nothing_twice(ctx: AppContext) -> None:
    analyzer = KeywordAnalyzer()
    result = send(ctx, [chat("Estoy furioso")])
    customer = result.results[0].customer_id
    assert customer is not None
    worker = Worker(ctx, analyzer)
    worker.run_until_idle()
    # the same message queued again (a redo after a lost acknowledgement)
    [message] = _events(ctx, "chat.message")
    with ctx.db.unit_of_work() as session:
        inbox.enqueue(session, [{"event_id": message.id, "customer_id": customer,
                                 "created_at": ctx.clock.now(), "attempts": 0,
                                 "failed_at": None, "error": None}])
    again = worker.run_until_idle()
    assert (again.analysed, again.derived) == (1, 0)
    assert len(_events(ctx, "text.analyzed")) == 1
    assert _indicators(ctx, customer)["sentiment"]["recent"] == [-0.8]


def test_a_merge_before_analysis_sends_the_result_to_the_survivor(ctx: AppContext) -> None:
    analyzer = KeywordAnalyzer()
    a = send(ctx, [chat("Estoy furioso", email="a@example.com")]).results[0].customer_id
    b = send(ctx, [chat("gracias", email="b@example.com")]).results[0].customer_id
    assert a and b and a != b
    with ctx.db.unit_of_work() as session:
        identity.merge_manually(session, b, a, "same person", ctx.policies, ctx.clock.now(),
                                "test")
    Worker(ctx, analyzer).run_until_idle()
    assert {e.profile_id for e in _events(ctx, "text.analyzed")} == {b}
    shown = _indicators(ctx, b)
    assert sorted(shown["sentiment"]["recent"]) == [-0.8, 0.7]
    assert shown["sentiment"]["messages_30d"] == 2


def test_an_erased_customer_leaves_nothing_to_analyse(ctx: AppContext) -> None:
    analyzer = KeywordAnalyzer()
    gone = send(ctx, [chat("Estoy furioso", email="gone@example.com")]).results[0].customer_id
    send(ctx, [chat("gracias", email="stays@example.com")])
    assert gone is not None
    with ctx.db.unit_of_work() as session:
        erasure.erase(session, gone, ctx.settings, ctx.clock.now())
    assert len(_inbox(ctx)) == 1
    done = Worker(ctx, analyzer).run_until_idle()
    assert done.analysed == 1 and analyzer.seen == ["gracias"]
    with ctx.db.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Event)
                              .where(Event.profile_id == gone)) == 0


def test_an_event_gone_before_analysis_is_skipped(ctx: AppContext) -> None:
    analyzer = KeywordAnalyzer()
    send(ctx, [chat("hola")])
    with ctx.db.unit_of_work() as session:
        inbox.enqueue(session, [{"event_id": "missing-event", "customer_id": None,
                                 "created_at": ctx.clock.now(), "attempts": 0,
                                 "failed_at": None, "error": None}])
    done = Worker(ctx, analyzer).run_until_idle()
    assert (done.analysed, done.skipped) == (1, 1)
    assert _inbox(ctx) == []


def test_worker_writes_only_under_the_lease(ctx: AppContext) -> None:
    send(ctx, [chat("hola")])
    first, second = Worker(ctx, KeywordAnalyzer()), Worker(ctx, KeywordAnalyzer())
    assert first.run_once().analysed == 1
    send(ctx, [chat("otra")])
    assert second.run_once().handled == 0  # the first holds the lease
    first.release()
    assert second.run_once().analysed == 1
