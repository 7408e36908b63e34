"""What an analysed message changes for the customer's waiting contact (S16, S11's intent
part for e-mail): through the API, the worker, routing's service and the dispatcher."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from circulo.clock import FixedClock
from circulo.console import board as console
from circulo.context import AppContext
from circulo.db import Database
from circulo.routing.dispatcher import dispatcher_of
from circulo.textan.worker import worker_of
from tests.conftest import Api, ok
from tests.journeys.helpers import center, load, run
from tests.textan.helpers import KeywordAnalyzer

POLICY = """
skills: [cards]
queues:
  atencion:
    channels: [chat, email]
    priority:
      - when: task.urgent
        add: 50
      - when: task.sentiment == "negative"
        add: 10
  tarjetas:
    channels: [email]
"""


def _task(api: Api, email: str, channel: str = "chat") -> str:
    body = ok(api.post("/v1/tasks", json={"queue": "atencion", "channel": channel,
                                          "identifiers": {"email": email}}), 201)
    return str(body["id"])


def _say(api: Api, email: str, text: str, event_type: str = "chat.message",
         channel: str = "chat", **properties: Any) -> None:
    api.send({"type": event_type, "source": "web", "channel": channel,
              "identifiers": {"email": email}, "properties": {"text": text, **properties}})


def test_an_urgent_angry_chat_moves_its_task_ahead_with_the_reason(api: Api,
                                                                     ctx: AppContext) -> None:
    worker_of(ctx, KeywordAnalyzer())
    ok(api.client.put("/v1/routing/policy", content=POLICY,
                      headers={**api.headers, "Content-Type": "application/yaml"}))
    calm = _task(api, "calm@example.com")
    angry = _task(api, "angry@example.com")
    router = dispatcher_of(ctx).router
    assert (router.position(calm), router.position(angry)) == (1, 2)
    _say(api, "calm@example.com", "hola, una pregunta")
    _say(api, "angry@example.com", "Estoy furioso, llamaré a mi abogado")
    done = ok(api.post("/v1/text/inbox/run"))
    assert done == {"analysed": 2, "skipped": 0, "failed": 0, "derived": 2}
    dispatcher_of(ctx).run_once()
    router = dispatcher_of(ctx).router
    assert (router.position(angry), router.position(calm)) == (1, 2)
    assert router.rules_of(router.tasks[angry]) == ("task.urgent (+50)",
                                                      'task.sentiment == "negative" (+10)')
    assert router.rules_of(router.tasks[calm]) == ()
    task = ok(api.get(f"/v1/tasks/{angry}"))
    assert task["attributes"] == {"urgent": True, "sentiment": "negative",
                                  "urgent_reasons": ["legal_threat"]}


def test_urgency_sticks_when_a_calmer_line_follows(api: Api, ctx: AppContext) -> None:
    worker_of(ctx, KeywordAnalyzer())
    ok(api.client.put("/v1/routing/policy", content=POLICY,
                      headers={**api.headers, "Content-Type": "application/yaml"}))
    task = _task(api, "a@example.com")
    _say(api, "a@example.com", "me doy de baja, estoy furioso")
    ok(api.post("/v1/text/inbox/run"))
    _say(api, "a@example.com", "gracias")
    ok(api.post("/v1/text/inbox/run"))
    attributes = ok(api.get(f"/v1/tasks/{task}"))["attributes"]
    assert attributes["urgent"] is True and attributes["sentiment"] == "positive"


def test_a_confident_email_intent_routes_the_email_to_its_queue(api: Api,
                                                                ctx: AppContext) -> None:
    worker_of(ctx, KeywordAnalyzer())
    ok(api.client.put("/v1/routing/policy", content=POLICY,
                      headers={**api.headers, "Content-Type": "application/yaml"}))
    email = _task(api, "z@example.com", channel="email")
    chat = _task(api, "z@example.com", channel="chat")
    _say(api, "z@example.com", "Quiero subir el límite de mi tarjeta",
         event_type="email.received", channel="email", subject="Tarjeta")
    ok(api.post("/v1/text/inbox/run"))
    moved = ok(api.get(f"/v1/tasks/{email}"))
    assert moved["queue"] == "tarjetas" and moved["attributes"]["intent"] == "credit_limit"
    assert ok(api.get(f"/v1/tasks/{chat}"))["queue"] == "atencion"  # another contact


def test_an_intent_naming_a_queue_the_policy_lacks_changes_no_queue(api: Api,
                                                                    ctx: AppContext) -> None:
    worker_of(ctx, KeywordAnalyzer())
    ok(api.client.put("/v1/routing/policy", content=POLICY.replace("tarjetas", "otras"),
                      headers={**api.headers, "Content-Type": "application/yaml"}))
    email = _task(api, "z@example.com", channel="email")
    _say(api, "z@example.com", "el límite", event_type="email.received", channel="email")
    ok(api.post("/v1/text/inbox/run"))
    assert ok(api.get(f"/v1/tasks/{email}"))["queue"] == "atencion"


def test_inbox_status(api: Api, ctx: AppContext) -> None:
    worker_of(ctx, KeywordAnalyzer())
    _say(api, "a@example.com", "hola")
    status = ok(api.get("/v1/text/inbox"))
    assert status["waiting"] == 1 and status["failed"] == 0
    assert status["oldest_waiting_at"] is not None
    ok(api.post("/v1/text/inbox/run"))
    assert ok(api.get("/v1/text/inbox")) == {"waiting": 0, "failed": 0,
                                             "oldest_waiting_at": None}


def _alerts(ctx: AppContext) -> list[Any]:
    with ctx.db.unit_of_work(write=False) as session:
        config = dispatcher_of(ctx).config(session)
        now = ctx.clock.now()
        return console.board(session, now, now - timedelta(hours=10), config.queues,
                             console.BoardRules()).alerts


def test_the_angry_customer_alert_fires_from_the_analysis(api: Api, ctx: AppContext,
                                                          clock: FixedClock) -> None:
    worker_of(ctx, KeywordAnalyzer())
    ok(api.client.put("/v1/routing/policy", content=POLICY,
                      headers={**api.headers, "Content-Type": "application/yaml"}))
    plain = _task(api, "plain@example.com")
    urgent = _task(api, "urgent@example.com")
    clock.advance(timedelta(seconds=5))
    _say(api, "plain@example.com", "esto es una vergüenza")  # no sentiment from the sender
    _say(api, "urgent@example.com", "Estoy furioso, me doy de baja")
    _say(api, "calm@example.com", "gracias")
    assert _alerts(ctx) == []  # not read yet
    ok(api.post("/v1/text/inbox/run"))
    alerts = [(a.kind, a.task_id, a.urgent) for a in _alerts(ctx)]
    assert alerts == [("angry", urgent, True), ("angry", plain, False)]  # urgent first


def test_the_card_shows_the_trend_the_last_negative_contact_and_urgency(
        api: Api, ctx: AppContext, clock: FixedClock) -> None:
    worker_of(ctx, KeywordAnalyzer())
    _say(api, "m@example.com", "gracias, genial")
    clock.advance(timedelta(minutes=5))
    _say(api, "m@example.com", "Estoy furioso, me doy de baja", event_type="email.received",
         channel="email")
    ok(api.post("/v1/text/inbox/run"))
    for lang, trend, channel, badge in (("es", "Empeorando", "Correo", "Mensaje urgente"),
                                        ("en", "Worsening", "Email", "Urgent message")):
        card = api.card(lang, email="m@example.com", role="support")["card"]
        shown = {i["key"]: i["value"] for i in card["indicators"]}
        assert shown["sentiment_trend"] == trend
        assert shown["last_negative_channel"] == channel
        assert shown["last_negative_at"] == clock.now().isoformat()
        assert shown["urgent_7d"] == 1
        assert shown["sentiment_30d"] == round((0.7 - 0.8) / 2, 3)
        labels = {b["code"]: b["label"] for b in card["badges"]}
        assert labels["urgent_message"] == badge and "mood_worsening" in labels
    sales = api.card("en", email="m@example.com", role="sales")["card"]
    assert {i["key"] for i in sales["indicators"]} >= {"sentiment_trend", "last_negative_at"}
    assert "urgent_message" not in {b["code"] for b in sales["badges"]}


def test_the_s16_example_journey_hands_a_customer_who_threatens_to_leave_to_rescue(
        database: Database, clock: FixedClock) -> None:
    with center(database, clock) as api:
        load(api, "s16-urgent-message.yaml")
        api.send({"type": "chat.message", "source": "web", "channel": "chat",
                  "identifiers": {"email": "leaving@example.com"},
                  "properties": {"text": "Es la tercera vez que escribo. Si no me lo "
                                         "solucionáis hoy me doy de baja."}},
                 {"type": "chat.message", "source": "web", "channel": "chat",
                  "identifiers": {"email": "happy@example.com"},
                  "properties": {"text": "Muchas gracias, todo perfecto"}})
        assert ok(api.post("/v1/text/inbox/run"))["derived"] == 2  # the real engine
        run(api)
        callbacks = ok(api.get("/v1/tasks", params={"queue": "rescate"}))
        items = callbacks["items"] if isinstance(callbacks, dict) else callbacks
        assert len(items) == 1 and items[0]["reason"] == "urgent_message_retention"
        leaving = api.card(email="leaving@example.com")["card"]
        assert leaving["customer_id"] == items[0]["customer_id"]


def _gauge(api: Api, name: str) -> float:
    text = api.get("/metrics").text
    line = next(line for line in text.splitlines() if line.startswith(name + " "))
    return float(line.split()[1])


def test_metrics_show_the_analysis_backlog_lag_and_failures(api: Api, ctx: AppContext,
                                                            clock: FixedClock) -> None:
    worker_of(ctx, KeywordAnalyzer())
    _say(api, "a@example.com", "hola")
    _say(api, "b@example.com", "POISON")
    clock.advance(timedelta(seconds=30))
    assert _gauge(api, "circulo_text_inbox") == 2
    assert _gauge(api, "circulo_text_inbox_lag_seconds") == 30
    ctx.settings.text_max_attempts = 1
    ok(api.post("/v1/text/inbox/run"))
    assert (_gauge(api, "circulo_text_inbox"), _gauge(api, "circulo_text_failed")) == (0, 1)
    assert _gauge(api, "circulo_text_inbox_lag_seconds") == 0
