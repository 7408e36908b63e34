"""What an analysed message changes for the customer's waiting contact (S16, S11's intent
part for e-mail): through the API, the worker, routing's service and the dispatcher."""

from __future__ import annotations

from typing import Any

from circulo.context import AppContext
from circulo.routing.dispatcher import dispatcher_of
from circulo.textan.worker import worker_of
from tests.conftest import Api, ok
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
