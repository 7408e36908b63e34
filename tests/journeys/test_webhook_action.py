"""A journey's ``webhook`` action, delivered by the outbox worker to a real local receiver:
the journey's body as written (values keep their types), its method and headers, a token read
from the server's environment, Standard Webhooks signatures verified as a receiver would."""

from __future__ import annotations

import asyncio
import base64

import orjson
import pytest
from sqlalchemy import text
from standardwebhooks.webhooks import Webhook

from circulo.clock import FixedClock
from circulo.config import Settings
from circulo.connectors.worker import OutboxWorker
from circulo.db import Database
from circulo.wiring import build_context
from tests.conftest import Api, assert_problem, ok
from tests.connectors.receiver import receiver
from tests.journeys.helpers import center, customer, run

SECRET = "whsec_" + base64.b64encode(b"journey-webhook-secret-32-bytes!").decode()
# What these tests let journeys read and reach: the token, and the receiver on 127.0.0.1.
ALLOWED = {"journey_env_allowlist": ["CIRCULO_TEST_HOOK_TOKEN"], "egress_allow": ["127.0.0.1"]}


def _journey(url: str) -> str:
    return f"""
journey: device-alert-to-field-service
trigger: device.alert
steps:
  - name: tell-field-service
    do:
      - webhook:
          url: {url}
          method: put
          headers: {{Authorization: "env:CIRCULO_TEST_HOOK_TOKEN", X-Origin: circulo}}
          body:
            alert: "{{{{event.properties.kind}}}}"
            score: "{{{{event.properties.score}}}}"
            summary: "Alerta {{{{event.properties.kind}}}} de {{{{customer.traits.first_name}}}}"
            customer: {{id: "{{{{customer.id}}}}", tags: [proactive]}}
    end: true
"""


def _deliver(database: Database, clock: FixedClock, **settings: object) -> int:
    ctx = build_context(Settings(database_url=database.url,  # type: ignore[arg-type]
                                 **{**ALLOWED, **settings}), clock, db=database)

    async def main() -> int:
        async with OutboxWorker(ctx) as worker:
            return await worker.run_once()
    return asyncio.run(main())


def _alert(api: Api, who: str) -> None:
    api.send({"type": "device.alert", "source": "iot", "id": f"alert:{who}",
              "identifiers": {"customer_id": who},
              "properties": {"kind": "airbag", "score": 0.93}})


def test_the_webhook_reaches_the_receiver_signed_with_the_journeys_body(
        database: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIRCULO_TEST_HOOK_TOKEN", "Bearer t0ken")
    with receiver() as hook, center(database, clock, **ALLOWED) as api:
        ok(api.post("/v1/journeys", params={"activate": "true"},
                    content=_journey(hook.url).encode(),
                    headers={"Content-Type": "application/yaml"}))
        who = customer(api, "+34600000099", first_name="Jon")
        _alert(api, who)
        run(api)
        assert _deliver(database, clock, journey_webhook_secret=SECRET) == 1
        [got] = hook.requests
        assert got.method == "PUT"
        assert got.json == {"alert": "airbag", "score": 0.93, "summary": "Alerta airbag de Jon",
                            "customer": {"id": who, "tags": ["proactive"]}}
        assert got.headers["authorization"] == "Bearer t0ken"
        assert got.headers["x-origin"] == "circulo"
        assert got.headers["circulo-journey"] == "device-alert-to-field-service"
        assert got.headers["circulo-customer-id"] == who
        Webhook(SECRET).verify(got.body, got.headers)  # raises when the signature is wrong
        [instance] = ok(api.get("/v1/journeys/device-alert-to-field-service/instances"))
        assert instance["status"] == "done"


def test_without_a_secret_it_goes_unsigned_and_a_missing_token_is_dead_with_the_reason(
        database: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CIRCULO_TEST_HOOK_TOKEN", raising=False)
    with receiver() as hook, center(database, clock, **ALLOWED) as api:
        ok(api.post("/v1/journeys", params={"activate": "true"},
                    content=_journey(hook.url).encode(),
                    headers={"Content-Type": "application/yaml"}))
        _alert(api, customer(api, "+34600000098", first_name="Ane"))
        run(api)
        _deliver(database, clock)
        assert hook.requests == []
        with database.unit_of_work(write=False) as session:
            status, error = session.execute(text(
                "SELECT status, last_error FROM outbox WHERE destination = 'journey:webhook'"
            )).one()
        assert status == "dead"
        assert "CIRCULO_TEST_HOOK_TOKEN is not set" in error
        monkeypatch.setenv("CIRCULO_TEST_HOOK_TOKEN", "Bearer t0ken")
        _alert(api, customer(api, "+34600000097", first_name="Iker"))
        run(api)
        _deliver(database, clock)
        [got] = hook.requests
        assert "webhook-signature" not in got.headers
        assert orjson.loads(got.body)["summary"] == "Alerta airbag de Iker"


@pytest.mark.parametrize(("change", "field"), [
    ("method: put", "method: delete"),
    ("X-Origin: circulo", "webhook-id: forged"),
    ("env:CIRCULO_TEST_HOOK_TOKEN", "env:lower-case"),
    ("{{customer.traits.first_name}}", "{{agent.name}}"),
])
def test_bad_webhooks_are_refused_at_load(database: Database, clock: FixedClock,
                                          change: str, field: str) -> None:
    with center(database, clock, **ALLOWED) as api:
        document = _journey("https://example.com/hooks").replace(change, field)
        response = api.post("/v1/journeys", content=document.encode(),
                            headers={"Content-Type": "application/yaml"})
        problem = assert_problem(response, 422, "validation_failed")
        [error] = problem["errors"]
        assert "webhook" in error["field"] and error["code"] == "invalid_journey"


def test_only_allowlisted_variables_may_be_read_and_never_echoed(
        database: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """env:NAME reads the server's environment: without an allowlist an admin key could send
    the database URL or any token of the host to a URL of its choosing."""
    monkeypatch.setenv("CIRCULO_TEST_HOOK_TOKEN", "Bearer t0ken")
    monkeypatch.setenv("CIRCULO_TEST_DB_PASSWORD", "s3cr3t-database-password")
    document = _journey("https://example.com/hooks").replace(
        "env:CIRCULO_TEST_HOOK_TOKEN", "env:CIRCULO_TEST_DB_PASSWORD")
    with center(database, clock, **ALLOWED) as api:
        response = api.post("/v1/journeys", content=document.encode(),
                            headers={"Content-Type": "application/yaml"})
        problem = assert_problem(response, 422, "validation_failed")
        [error] = problem["errors"]
        assert "line 10: steps[0].do[0].webhook.headers.Authorization" in error["field"]
        assert "CIRCULO_JOURNEY_ENV_ALLOWLIST" in error["detail"]
        assert "s3cr3t" not in response.text
    with center(database, clock) as api:  # no allowlist at all: nothing may be read
        assert_problem(api.post("/v1/journeys", content=_journey(
            "https://example.com/hooks").encode(), headers={"Content-Type": "application/yaml"}),
            422, "validation_failed")


def test_a_variable_taken_off_the_allowlist_is_not_sent(
        database: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """Saved while allowed, sent after the allowlist changed: the request never leaves."""
    monkeypatch.setenv("CIRCULO_TEST_HOOK_TOKEN", "Bearer t0ken-never-echoed")
    with receiver() as hook, center(database, clock, **ALLOWED) as api:
        ok(api.post("/v1/journeys", params={"activate": "true"},
                    content=_journey(hook.url).encode(),
                    headers={"Content-Type": "application/yaml"}))
        _alert(api, customer(api, "+34600000096", first_name="Mikel"))
        run(api)
        _deliver(database, clock, journey_env_allowlist=[])
        assert hook.requests == []
        with database.unit_of_work(write=False) as session:
            status, error = session.execute(text(
                "SELECT status, last_error FROM outbox WHERE destination = 'journey:webhook'"
            )).one()
        assert status == "dead"
        assert "CIRCULO_TEST_HOOK_TOKEN" in error and "CIRCULO_JOURNEY_ENV_ALLOWLIST" in error
        assert "t0ken" not in error and "t0ken" not in caplog.text


def test_the_secret_must_be_a_standard_webhooks_secret() -> None:
    with pytest.raises(ValueError, match="whsec_"):
        Settings(journey_webhook_secret="plain-password")
