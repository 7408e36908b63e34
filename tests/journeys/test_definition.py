"""Journey definitions: what a valid file gives, and every refusal naming line and reason."""

from __future__ import annotations

import pytest

from circulo.journeys.definition import JourneyError, parse_data, parse_yaml, type_matches

KNOWN = ["call.abandoned", "call.answered", "call.queued", "survey.answered",
         "shipment.delayed", "dispute.opened", "task.completed", "sms.replied"]

S7 = """\
journey: premium-repeated-abandons
name: {es: "Cliente premium que cuelga", en: "Premium customer hanging up"}
trigger: call.abandoned
when: >
  customer.tier == "premium"
  && count("call.abandoned", since="midnight") >= 4
  && count("call.*", within="4h", where="event.channel == 'voice'") >= 4
limits:
  reentry: after_exit
  cap: {max: 1, per: 1d}
steps:
  - name: alert
    do:
      - alert:
          to: advisor
          queue: alertas
          urgency: urgent
          message:
            es: "{{customer.name}} ha colgado {{event.properties.attempts}} veces hoy"
            en: "{{customer.name}} hung up {{event.properties.attempts}} times today"
      - task: {queue: vip, priority: 100, reason: premium_abandons}
        as: urgent
  - name: reached
    wait: {for: call.answered, where: "event.properties.task_id == journey.urgent.id",
           up_to: 1h}
    on_event: done
    on_timeout: sms
  - name: sms
    do:
      - notify:
          channels: [sms]
          text:
            es: "Hemos visto sus llamadas. Elija hora: {{slots}}"
            en: "We saw your calls. Pick a time: {{slots}}"
      - callback: {queue: callbacks, slots: 3, within: 1d}
  - name: done
    end: true
"""


def test_a_journey_loads_with_its_counts_steps_and_actions() -> None:
    journey = parse_yaml(S7, "s7.yaml", KNOWN)
    assert journey.key == "premium-repeated-abandons"
    assert journey.name["en"] == "Premium customer hanging up"
    assert journey.triggers == ("call.abandoned",)
    assert journey.cap == (1, 86400.0) and journey.reentry == "after_exit"
    today, recent = journey.counts
    assert (today.types, today.since_midnight, today.within) == (("call.abandoned",), True, None)
    assert (recent.types, recent.within) == (("call.*",), 4 * 3600.0)
    assert recent.where is not None and recent.where.holds({"event": {"channel": "voice"}})
    assert journey.when is not None and f"counts.{today.key} >= 4" in journey.when.source
    context = {"customer": {"tier": "premium"}, "counts": {today.key: 4, recent.key: 5},
               "event": {}}
    assert journey.when.holds(context)
    assert not journey.when.holds({**context, "counts": {today.key: 3, recent.key: 5}})
    assert [s.name for s in journey.steps] == ["alert", "reached", "sms", "done"]
    alert, task = journey.step("alert").actions
    assert alert.kind == "alert" and alert.params["urgency"] == "urgent"
    assert task.name == "urgent" and task.params["channel"] == "backoffice"
    wait = journey.step("reached").wait
    assert wait is not None and wait.for_types == ("call.answered",) and wait.up_to == 3600.0
    assert journey.step("sms").actions[1].params == {"queue": "callbacks", "slots": 3,
                                                     "priority": 0, "within": 86400.0}


def test_the_same_count_twice_is_kept_once() -> None:
    journey = parse_data({"journey": "j", "trigger": "call.abandoned", "steps": [{"end": True}],
                          "when": 'count("call.abandoned", "4h") > 1 '
                                  '&& count("call.abandoned", within="4h") < 9'})
    [spec] = journey.counts
    assert journey.when is not None and journey.when.source.count(f"counts.{spec.key}") == 2
    other = parse_data({"journey": "k", "trigger": "call.abandoned", "steps": [{"end": True}],
                        "when": 'count("call.abandoned", within="4h") > 2'})
    assert other.counts == journey.counts  # one counter for both journeys


def test_wildcards_match_by_prefix() -> None:
    assert type_matches("call.*", "call.abandoned") and not type_matches("call.*", "calls.x")
    assert type_matches("*", "anything.at_all") and type_matches("a.b", "a.b")
    assert parse_data({"journey": "j", "trigger": ["call.*", "survey.answered"],
                       "steps": [{"end": True}]}, KNOWN).triggers == ("call.*",
                                                                      "survey.answered")


def _broken(text: str) -> str:
    with pytest.raises(JourneyError) as refused:
        parse_yaml(text, "j.yaml", KNOWN)
    return str(refused.value)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('customer.tier == "premium"\n', 'customer.tier == \n',
     "line 4: when: invalid CEL (count() calls shown as counts.c…)"),
    ('customer.tier == "premium"', 'agent.tier == "premium"', "unknown variable 'agent'"),
    ("trigger: call.abandoned", "trigger: call.hungup", "line 3: trigger: unknown event type"),
    ('since="midnight"', 'since="noon"', "since=\"midnight\""),
    ('within="4h"', 'within="soon"', "expected a duration"),
    ("{{customer.name}} hung", "{{agent.name}} hung", "unknown template variable"),
    ("    on_timeout: sms", "    on_timeout: smss", "goes to 'smss', which is not a step"),
    ("  - name: done\n    end: true", "  - name: done\n    go: reached",
     "go round in a circle: reached -> done -> reached"),
    ("urgency: urgent", "urgency: extreme", "line 17: steps[0].do[0].alert.urgency"),
    ("      - task: {queue: vip,", "      - tsk: {queue: vip,", "unknown action"),
    ("up_to: 1h}", "}", "a wait for an event needs up_to"),
    ("cap: {max: 1, per: 1d}", "cap: {max: 0, per: 1d}", "at least 1"),
    ("  - name: sms\n", "  - name: alert\n", "a second step named 'alert'"),
    ("            en: \"We saw", "            fr: \"We saw", "a text in en is needed"),
    ("channels: [sms]", "channels: [fax]", "expected preferred, or some of"),
])
def test_bad_journeys_are_refused_with_line_and_reason(old: str, new: str,
                                                       expected: str) -> None:
    assert old in S7, old
    message = _broken(S7.replace(old, new, 1))
    assert message.startswith("j.yaml: ") and expected in message, message


def test_an_audience_names_a_record_kind_and_only_it_brings_record_into_conditions() -> None:
    base = {"journey": "j", "trigger": "call.abandoned", "steps": [{"end": True}]}
    with pytest.raises(JourneyError, match=r"audience\.records: expected a record kind"):
        parse_data({**base, "audience": {"records": "parcel"}})
    with pytest.raises(JourneyError, match="unknown variable 'record'"):
        parse_data({**base, "when": 'record.status == "open"'})
    journey = parse_data({**base, "when": 'record.status == "open"',
                          "audience": {"records": "order", "where": "record.amount > 10"}})
    assert journey.audience is not None and journey.audience.kind == "order"


def test_documents_that_are_not_journeys() -> None:
    assert "not valid YAML" in _broken("journey: [")
    assert _broken("journey: j\nsteps: [{end: true}]\n") == "j.yaml: line 1: needs 'trigger'"
    assert "line 3: steps: expected a list" in _broken(
        "journey: j\ntrigger: call.queued\nsteps: 3\n")
    assert "expected a list of steps" in _broken("journey: j\ntrigger: call.queued\nsteps: []\n")
    assert "a step does something" in _broken(
        "journey: j\ntrigger: call.queued\nsteps: [{name: idle}]\n")
    assert "unknown field" in _broken(S7.replace("limits:", "limitz:"))
    with pytest.raises(JourneyError, match="steps\\[0\\]: on_event and on_timeout"):
        parse_data({"journey": "j", "trigger": "call.queued",
                    "steps": [{"wait": {"duration": "1h"}, "on_event": "x"}]})
