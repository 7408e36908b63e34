"""Every YAML document (journeys, routing policies, scenarios, mappings, card templates, CRM
connectors) is read by one strict loader: no anchors or aliases, no duplicate keys, YAML 1.2
booleans, and bounded size, count and depth; each refusal names the line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from circulo import yaml_files
from circulo.connectors.registry import ConnectorConfigError, load_connectors
from circulo.context import AppContext
from circulo.customers.cards import TemplateError, load_templates
from circulo.ingest.mapping import MappingError, load_mappings
from circulo.journeys.definition import JourneyError
from circulo.journeys.definition import parse_yaml as parse_journey
from circulo.routing.policy import PolicyError
from circulo.routing.policy import parse_yaml as parse_policy
from circulo.routing.scenario import ScenarioError, parse_scenario
from tests.conftest import Api, assert_problem, make_key

# The audit's alias bomb (373 bytes of nine levels took 11.6 s and 2.35 GB through
# POST /v1/journeys/try), here five levels deep inside a journey.
ALIAS_BOMB = """\
journey: lol
trigger: call.abandoned
steps:
  - do:
      - webhook:
          url: https://example.com/
          body:
            a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
            b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
            c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
            d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
            e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
"""
YAML = {"Content-Type": "application/yaml"}
JOURNEY = """\
journey: welcome
trigger: call.abandoned
steps:
  - do:
      - tag: welcomed
"""
POLICY = """\
skills: [billing]
queues:
  general: {channels: [voice]}
agents:
  - {id: ingrid, languages: [no, es], skills: {billing: 3}}
"""


def test_an_alias_bomb_is_refused_at_once_naming_the_line(api: Api, ctx: AppContext) -> None:
    reader = Api(api.client, make_key(ctx, ["read"], "reader"))  # a read key is enough
    started = time.perf_counter()
    response = reader.post("/v1/journeys/try", content=ALIAS_BOMB, headers=YAML)
    elapsed = time.perf_counter() - started
    problem = assert_problem(response, 422, "validation_failed")
    assert elapsed < 0.5
    assert "line 8" in problem["detail"]
    assert "aliases" in problem["detail"]


def test_an_alias_anywhere_is_refused_before_it_is_expanded() -> None:
    with pytest.raises(yaml_files.YamlError) as refused:
        yaml_files.load("a: 1\nb: *a\n")
    assert refused.value.line == 2


def test_a_duplicate_key_is_refused_naming_the_key_and_the_line(api: Api) -> None:
    twice = JOURNEY + "trigger: call.answered\n"
    problem = assert_problem(api.post("/v1/journeys", content=twice, headers=YAML), 422,
                             "validation_failed")
    assert "line 6" in problem["detail"]
    assert "duplicate key 'trigger'" in problem["detail"]
    with pytest.raises(PolicyError, match=r"line 4, column 3: duplicate key 'general'"):
        parse_policy("skills: []\nqueues:\n  general: {}\n  general: {}\n")


def test_yaml_1_2_booleans_only_so_norwegian_is_a_language() -> None:
    config = parse_policy(POLICY)
    assert config.agents[0].languages == ("no", "es")
    data = yaml_files.load("a: no\nb: yes\nc: on\nd: off\ne: y\nf: n\ng: true\nh: False\n"
                           "i: 16:00\nj: 2024-05-01\n").data
    assert data == {"a": "no", "b": "yes", "c": "on", "d": "off", "e": "y", "f": "n",
                    "g": True, "h": False, "i": "16:00", "j": "2024-05-01"}


def test_a_step_language_flag_must_be_true_or_false() -> None:
    text = "queues:\n  general:\n    steps:\n      - {language: no}\n"
    with pytest.raises(PolicyError, match=r"line 4: queues\.general\.steps\[0\]\.language"):
        parse_policy(text)


def test_a_document_over_the_size_cap_is_refused(api: Api) -> None:
    padding = "# " + "x" * 1000 + "\n"
    big = JOURNEY + padding * (yaml_files.MAX_BYTES // len(padding) + 1)
    problem = assert_problem(api.post("/v1/journeys", content=big, headers=YAML), 422,
                             "validation_failed")
    assert "larger than" in problem["detail"]


def test_too_many_values_or_too_deep_a_nesting_is_refused(api: Api) -> None:
    many = "x: [" + ",".join(["1"] * yaml_files.MAX_NODES) + "]\n"
    with pytest.raises(yaml_files.YamlError, match="more than"):
        yaml_files.load(many)
    deep = JOURNEY + "description: " + "[" * 5000 + "]" * 5000 + "\n"
    problem = assert_problem(api.post("/v1/journeys", content=deep, headers=YAML), 422,
                             "validation_failed")
    assert "line 6" in problem["detail"]


@pytest.mark.parametrize("text", ["x: !!set {a, b}\n", "x: !!binary aGVsbG8=\n",
                                  "x: !!python/object/apply:os.getcwd []\n",
                                  "x: 99999999999999999999\n", "x: .nan\n", 'x: "a\\0b"\n'])
def test_only_json_shaped_values(text: str) -> None:
    with pytest.raises(yaml_files.YamlError) as refused:
        yaml_files.load(text)
    assert refused.value.line == 1


def test_journeys_and_scenarios_use_the_same_loader() -> None:
    with pytest.raises(JourneyError, match=r"^j\.yaml: line 8, column 16: anchors"):
        parse_journey(ALIAS_BOMB, "j.yaml")
    with pytest.raises(ScenarioError, match=r"^s\.yaml: line 2, column 1: duplicate key"):
        parse_scenario("seed: 1\nseed: 2\n", "s.yaml")


def test_files_read_from_disk_get_the_same_loader(tmp_path: Path) -> None:
    mappings = tmp_path / "mappings.yaml"
    mappings.write_text("sources:\n  shop:\n    rules: []\n  shop:\n    rules: []\n")
    with pytest.raises(MappingError, match="line 4, column 3: duplicate key 'shop'"):
        load_mappings(mappings)
    cards = tmp_path / "cards.yaml"
    cards.write_text("fields: &f {}\nindicators: *f\n")
    with pytest.raises(TemplateError, match="line 1, column 9: anchors"):
        load_templates(cards)
    connectors = tmp_path / "connectors.yaml"
    connectors.write_text("connectors:\n  crm: {type: hubspot}\n  crm: {type: hubspot}\n")
    with pytest.raises(ConnectorConfigError, match="line 3, column 3: duplicate key 'crm'"):
        load_connectors(connectors)
