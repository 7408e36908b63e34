"""The five configuration documents (routing policy, scenario, journey, inbound mapping, card
templates) are checked by pydantic models with ``extra="forbid"`` and strict types, and every
refusal goes through one mapping to ``file: line N: path: reason``."""

from __future__ import annotations

from pathlib import Path

import pytest

from circulo.customers.cards import DEFAULT_TEMPLATES, TemplateError, load_templates
from circulo.ingest.mapping import MappingError, load_mappings
from circulo.journeys.definition import JourneyError
from circulo.journeys.definition import parse_data as journey_data
from circulo.journeys.definition import parse_yaml as parse_journey
from circulo.routing.policy import PolicyError
from circulo.routing.policy import parse_data as policy_data
from circulo.routing.policy import parse_yaml as parse_policy
from circulo.routing.scenario import ScenarioError, parse_scenario

SCENARIO = """\
name: 5
routing:
  queues: {general: {}}
day: {opens: "08:00", closes: "10:00", interval: 30m, calls_per_hour: 100}
reasons:
  - {queue: general, handle: {distribution: exponential, mean: 60s}}
agents:
  - {group: pool, count: 2}
"""


def test_policy_a_number_where_text_is_expected_names_field_and_line() -> None:
    with pytest.raises(PolicyError) as refused:
        parse_policy("queues:\n  q:\n    steps:\n      - name: 5\n", "p.yaml")
    assert str(refused.value) == "p.yaml: line 4: queues.q.steps[0].name: expected text"
    with pytest.raises(PolicyError, match=r"^agents\[0\]\.id: expected text$"):
        policy_data({"queues": {"q": {}}, "agents": [{"id": 7}]})


def test_scenario_a_number_where_text_is_expected_names_field_and_line() -> None:
    with pytest.raises(ScenarioError) as refused:
        parse_scenario(SCENARIO, "s.yaml")
    assert str(refused.value) == "s.yaml: line 1: name: expected text"


def test_journey_a_number_where_text_is_expected_names_field_and_line() -> None:
    text = "journey: j\ntrigger: call.queued\nsteps:\n  - do:\n      - task: {queue: 5}\n"
    with pytest.raises(JourneyError) as refused:
        parse_journey(text, "j.yaml")
    assert str(refused.value) == "j.yaml: line 5: steps[0].do[0].task.queue: expected text"
    with pytest.raises(JourneyError, match=r"^steps\[0\]\.do\[0\]\.task\.colour: unknown field"):
        journey_data({"journey": "j", "trigger": "call.queued",
                      "steps": [{"do": [{"task": {"queue": "q", "colour": "red"}}]}]})


def test_card_templates_refuse_unknown_fields_naming_the_line(tmp_path: Path) -> None:
    text = DEFAULT_TEMPLATES.read_text(encoding="utf-8").replace(
        "    tone: gold\n", "    tone: gold\n    colour: red\n", 1)
    path = tmp_path / "cards.yaml"
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("    colour: red") + 1
    with pytest.raises(TemplateError) as refused:
        load_templates(path)
    assert str(refused.value) == (f"{path}: line {line}: badges.vip.colour: unknown field "
                                  "(expected one of label, tone, when)")


def test_inbound_mappings_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("sources:\n  shop:\n    rules:\n      - type: order.placed\n"
                    "        colour: red\n")
    with pytest.raises(MappingError) as refused:
        load_mappings(path)
    assert str(refused.value).startswith(
        f"{path}: line 5: sources.shop.rules[0].colour: unknown field (expected one of ")
