"""The access log carries a request id (the caller's when sane), and /metrics shows requests,
latency, ingestion and the backlogs an operator watches, to a key with the metrics scope."""

from __future__ import annotations

import json
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

from circulo.clock import FixedClock
from circulo.connectors import service as connectors
from circulo.context import AppContext
from circulo.db import Database
from circulo.observability import JsonLines, RequestIdFilter
from tests.conftest import Api, assert_problem, custom_api, make_key, ok
from tests.factories import event
from tests.journeys.helpers import center


def _samples(api: Api, key: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = api.client.get("/metrics", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples}


@pytest.mark.parametrize(("given", "kept"), [
    ("3f2c1a9e-5b7d-4c1e-9a0b-2d4e6f8a0b1c", True), ("trace:abc.123_x", True),
    ("a b", False), ("x" * 129, False), ("id\u00e9", False), ("", False), (None, False)])
def test_the_request_id_is_echoed_and_logged(api: Api, caplog: pytest.LogCaptureFixture,
                                             given: str | None, kept: bool) -> None:
    caplog.set_level(logging.INFO, logger="circulo.access")
    headers = {"X-Request-ID": given.encode("utf-8")} if given is not None else {}
    response = api.get("/v1/cards", params={"phone": "600123456"}, headers=headers)
    answered = response.headers["x-request-id"]
    if kept:
        assert answered == given
    else:
        assert answered != given and len(answered) == 16 and int(answered, 16) >= 0
    [line] = [r for r in caplog.records if r.name == "circulo.access"]
    assert line.getMessage().startswith("GET /v1/cards 200 ")
    assert RequestIdFilter().filter(line) is True  # outside the request: no id any more
    assert line.access["route"] == "/v1/cards"  # type: ignore[attr-defined]


def test_json_lines_carry_the_request_id(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="circulo.access")
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Keep()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonLines())
    logging.getLogger("circulo.access").addHandler(handler)
    try:
        api.get("/v1/customers/nobody", headers={"X-Request-ID": "req-42"})
    finally:
        logging.getLogger("circulo.access").removeHandler(handler)
    [line] = [json.loads(r) for r in records]
    assert line["request_id"] == "req-42"
    assert (line["method"], line["route"], line["status"]) == (
        "GET", "/v1/customers/{customer_id}", 404)
    assert line["duration_ms"] >= 0


def test_metrics_need_the_metrics_scope_unless_made_public(
        api: Api, ctx: AppContext, database: Database, clock: FixedClock) -> None:
    assert_problem(api.client.get("/metrics"), 401, "unauthorized")
    reader = make_key(ctx, ["read"])
    assert_problem(api.client.get("/metrics", headers={"Authorization": f"Bearer {reader}"}),
                   403, "forbidden")
    assert _samples(api, make_key(ctx, ["metrics"]))
    with custom_api(database, clock, metrics_public=True) as public:
        assert public.client.get("/metrics").status_code == 200


def test_metrics_count_requests_ingestion_and_backlogs(database: Database,
                                                       clock: FixedClock) -> None:
    with center(database, clock) as api:
        key = make_key(api.client.app.state.ctx, ["metrics"])  # type: ignore[attr-defined]
        before = _samples(api, key)
        ok(api.post("/v1/journeys", params={"activate": "true"}, headers={
            "Content-Type": "application/yaml"}, content=b"""
journey: tag-callers
trigger: call.completed
steps:
  - name: tag
    do: [{tag: caller}]
"""))
        first = event(identifiers={"phone": "+34600000001"}, id="m-1")
        response = api.post("/v1/events", json={"events": [
            first, first, {"type": "call.completed", "source": "pbx", "occurred_at": "x"}]})
        assert response.status_code == 207, response.text
        ingested = _samples(api, key)
        ok(api.post("/v1/tasks", json={"queue": "atencion", "channel": "voice",
                                       "identifiers": {"phone": "+34600000002"}}), 201)
        ctx = api.client.app.state.ctx  # type: ignore[attr-defined]
        with ctx.db.unit_of_work() as session:
            connectors.enqueue_request(session, "journey:webhook", "journey.webhook",
                                       {"url": "https://example.com"}, ordering_key="",
                                       now=clock.now())
        assert api.get("/wp-admin/setup.php").status_code == 404
        after = _samples(api, key)

    def delta(name: str, **labels: str) -> float:
        index = (name, tuple(sorted(labels.items())))
        return after.get(index, 0.0) - before.get(index, 0.0)

    for outcome in ("accepted", "duplicate", "rejected"):
        index = ("circulo_events_ingested_total", (("outcome", outcome),))
        assert ingested.get(index, 0.0) - before.get(index, 0.0) == 1, outcome
    assert delta("circulo_http_requests_total", route="/v1/events", method="POST",
                 status="207") == 1
    assert delta("circulo_http_request_duration_seconds_count", route="/v1/events",
                 method="POST") == 1
    assert after[("circulo_outbox_backlog", ())] == 1
    assert after[("circulo_journeys_inbox", ())] == 1
    assert after[("circulo_journeys_inbox_lag_seconds", ())] >= 0
    assert after[("circulo_routing_waiting_tasks", (("queue", "atencion"),))] == 1
    # An unknown path is one label, not one per path tried.
    assert delta("circulo_http_requests_total", route="unmatched", method="GET",
                 status="404") == 1
    assert not [labels for (name, labels) in after if "wp-admin" in str(labels)]
