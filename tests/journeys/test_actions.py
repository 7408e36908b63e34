"""Actions of one pass: the events they leave are ingested together, tags from several
journeys on the same customer add up, and an event the pipeline refuses fails its action."""

from __future__ import annotations

from circulo.clock import FixedClock
from circulo.context import AppContext
from circulo.db import Database
from circulo.journeys import runtime
from circulo.journeys.actions import Scene, flush
from tests.conftest import ok
from tests.journeys.helpers import center, customer, of_type, run


def _tagger(key: str, tag: str) -> bytes:
    return f"""
journey: {key}
trigger: device.alert
steps:
  - name: tag
    do: [{{tag: {tag}}}, {{set_trait: {{last_alert: "{{{{event.properties.kind}}}}"}}}}]
    end: true
""".encode()


def test_two_journeys_tagging_one_customer_in_one_pass_keep_both_tags(
        database: Database, clock: FixedClock) -> None:
    with center(database, clock) as api:
        for key, tag in (("tag-a", "alerted"), ("tag-b", "proactive")):
            ok(api.post("/v1/journeys", params={"activate": "true"}, content=_tagger(key, tag),
                        headers={"Content-Type": "application/yaml"}))
        who = customer(api, "+34600000077", first_name="Jon", tags=["vip"])
        api.send({"type": "device.alert", "source": "iot", "id": "a1",
                  "identifiers": {"customer_id": who}, "properties": {"kind": "airbag"}})
        run(api)
        traits = ok(api.get(f"/v1/customers/{who}/export"))["traits"]
        assert sorted(traits["tags"]) == ["alerted", "proactive", "vip"]
        assert traits["last_alert"] == "airbag"
        assert len(of_type(api, who, "journey.tagged")) == 2


def test_an_event_the_pipeline_refuses_names_its_action(ctx: AppContext) -> None:
    with ctx.db.unit_of_work() as session:
        scene = Scene(session, ctx.settings, ctx.policies, ctx.clock.now(), lambda: None)  # type: ignore[arg-type, return-value]
        good = {"type": "journey.tagged", "source": "circulo", "id": "journey:i1:s:0",
                "identifiers": {"phone": "+34600000078"}}
        bad = {**good, "id": "journey:i2:s:0", "occurred_at": "not a time"}
        scene.pending += [("i1:s:0", good), ("i2:s:0", bad)]
        refused = flush(scene)
        assert list(refused) == ["i2:s:0"] and "occurred_at" in refused["i2:s:0"]
        assert scene.pending == []


def test_events_from_sources_mark_ingest_busy_and_the_runners_own_do_not(
        database: Database, clock: FixedClock) -> None:
    with center(database, clock) as api:
        ok(api.post("/v1/journeys", params={"activate": "true"}, content=_tagger("t", "x"),
                    headers={"Content-Type": "application/yaml"}))
        who = customer(api, "+34600000079", first_name="Ane")
        api.send({"type": "device.alert", "source": "iot", "id": "b1",
                  "identifiers": {"customer_id": who}, "properties": {"kind": "smoke"}})
        runtime._last_ingest = 0.0  # as if the source had gone quiet long ago
        run(api)  # the runner ingests its tag and trait events
        assert len(of_type(api, who, "journey.tagged")) == 1
        assert not runtime.ingest_active(60.0)
        api.send({"type": "device.alert", "source": "iot", "id": "b2",
                  "identifiers": {"customer_id": who}, "properties": {"kind": "smoke"}})
        assert runtime.ingest_active(1.0)
