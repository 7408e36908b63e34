"""Bad input through the ingest API never crashes ingest nor the analysis worker (issue 17's
bad-input list), with the real default engine."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from circulo.context import AppContext
from circulo.customers.models import Event
from tests.conftest import Api, assert_problem, ok


def _email(text: Any, subject: Any = "Consulta") -> dict[str, Any]:
    return {"type": "email.received", "source": "mail", "channel": "email",
            "identifiers": {"email": "bad@example.com"},
            "properties": {"subject": subject, "text": text}}


def _analysis_of(ctx: AppContext, event_id: str) -> dict[str, Any] | None:
    with ctx.db.unit_of_work(write=False) as session:
        return session.scalar(select(Event.analysis).where(Event.id == event_id))


def _run(api: Api) -> dict[str, Any]:
    return ok(api.post("/v1/text/inbox/run"))


def test_empty_text_and_text_not_a_string_are_stored_and_not_analysed(api: Api,
                                                                      ctx: AppContext) -> None:
    body = api.send(_email("", subject=""), _email(None, subject=None),
                    _email(42, subject=["not", "text"]), _email({"html": "<p>x</p>"}, 7),
                    {"type": "chat.message", "source": "web", "identifiers": {"email": "b@x.es"},
                     "properties": {"text": True}})
    assert body["accepted"] == 5
    assert ok(api.get("/v1/text/inbox"))["waiting"] == 0
    assert _run(api)["analysed"] == 0


def test_emoji_only_is_analysed_with_an_undetermined_language(api: Api,
                                                              ctx: AppContext) -> None:
    event_id = api.send({"type": "chat.message", "source": "web", "channel": "chat",
                         "identifiers": {"email": "e@x.es"},
                         "properties": {"text": "😡😡😡🤬"}})["results"][0]["event_id"]
    assert _run(api) == {"analysed": 1, "skipped": 0, "failed": 0, "derived": 1}
    analysis = _analysis_of(ctx, event_id)
    assert analysis is not None and analysis["language"] == "und"
    assert analysis["sentiment"]["label"] in ("negative", "neutral")


def test_an_html_body_is_read_by_its_words(api: Api, ctx: AppContext) -> None:
    html = ("<html><head><style>.x{}</style><script>var angry=1</script></head><body>"
            "<p>Estoy <b>harto</b>: es la tercera vez que os escribo y sigo sin "
            "respuesta.</p><p>Si no me lo solucion&aacute;is hoy me doy de baja.</p>"
            "</body></html>")
    event_id = api.send(_email(html, "Queja"))["results"][0]["event_id"]
    _run(api)
    analysis = _analysis_of(ctx, event_id)
    assert analysis is not None
    assert "<" not in analysis["redacted"] and "script" not in analysis["redacted"]
    assert "solucionáis" in analysis["redacted"]
    assert analysis["sentiment"]["label"] == "negative"
    assert "churn_threat" in analysis["urgency"]["reasons"]


def test_a_60kb_email_is_analysed_by_its_beginning_and_a_100kb_one_refused_clearly(
        api: Api, ctx: AppContext) -> None:
    long = "Quiero darme de baja. " + "bla " * 15_000  # ~60 KB
    event_id = api.send(_email(long))["results"][0]["event_id"]
    _run(api)
    analysis = _analysis_of(ctx, event_id)
    assert analysis is not None
    assert len(analysis["redacted"]) <= ctx.settings.text_max_chars
    huge = api.post("/v1/events", json={"events": [_email("x" * 100_000), _email("hola")]})
    body = ok(huge, 207)  # the batch is taken; the item over the properties cap is refused
    assert body["accepted"] == 1 and body["rejected"] == 1
    assert body["errors"][0]["field"] == "properties"
    assert body["errors"][0]["code"] == "too_large"
    assert _run(api)["analysed"] == 1


def test_a_lone_surrogate_is_refused_as_malformed_json_not_a_crash(api: Api) -> None:
    raw = b'{"type": "chat.message", "source": "web", "identifiers": {"email": "s@x.es"}, ' \
          b'"properties": {"text": "hola \\ud800"}}'
    response = api.post("/v1/events", content=raw,
                        headers={"Content-Type": "application/json"})
    problem = assert_problem(response, 400, "malformed_json")
    assert "surrogate" in problem["detail"]
    assert _run(api)["analysed"] == 0


def test_mixed_languages_and_personal_data_are_stored_redacted(api: Api,
                                                               ctx: AppContext) -> None:
    text = ("Hello, my card 4111 1111 1111 1111 was charged twice; "
            "quiero que me devolváis el dinero, mi DNI es 12345678Z")
    event_id = api.send(_email(text))["results"][0]["event_id"]
    _run(api)
    analysis = _analysis_of(ctx, event_id)
    assert analysis is not None
    assert "4111" not in analysis["redacted"] and "12345678Z" not in analysis["redacted"]
    with ctx.db.unit_of_work(write=False) as session:
        derived = session.scalars(select(Event).where(Event.type == "text.analyzed")).one()
        assert "4111" not in str(derived.properties)  # the derived event carries no text
