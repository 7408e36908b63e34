"""Loading the routing configuration: what a valid file becomes, and every refusal naming the
line and the reason. Pure: text in, a ``RoutingConfig`` or a ``PolicyError`` out."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from circulo.routing.policy import (
    DEFAULT_CAPACITY,
    PolicyError,
    RoutingConfig,
    duration,
    parse_data,
    parse_yaml,
)

# Line numbers matter to the refusal tests below: keep this text's layout stable.
POLICY = """\
skills: [billing, tech, sales]
queues:
  support:
    channels: [voice, chat]
    service_level: {seconds: 30s, target: 90}
    ageing: {points: 2, every: 1m}
    reservation_timeout: 15s
    wrap_up: 1m
    priority:
      - when: customer.tier == 'gold'
        add: 10
      - when: customer.churn_risk > 0.7
        add: 5
    steps:
      - name: owner of the open case
        when: has(customer.owner)
        agents: agent.id == customer.owner
        timeout: 30s
      - name: last agents
        agents: agent.id in customer.last_agents
        skills: {billing: 2}
        timeout: 2m
        order: proficiency
      - name: everyone
        skills: {billing: 1}
        language: false
        order: least_occupied
  sales:
    channels: [email]
abandoned:
  short_abandon: 10s
  rules:
    - when: customer.tier == 'gold'
      action: callback
      queue: support
      priority: 20
      delay: 1m
agents:
  - id: ana
    name: Ana
    site: madrid
    skills: {billing: 4, tech: 2}
    languages: [ES, en]
    queues: [support, sales]
    teams: [retention]
    capacity: {chat: 2}
  - id: bob
    queues: [support]
"""


def load(text: str = POLICY) -> RoutingConfig:
    return parse_yaml(text, "routing.yaml")


def edited(old: str, new: str, text: str = POLICY) -> str:
    """The policy with one passage replaced; the passage must be there exactly once."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def refusal(text: str) -> str:
    with pytest.raises(PolicyError) as caught:
        load(text)
    return str(caught.value)


# -- a valid file ---------------------------------------------------------------------------

def test_a_valid_file_loads_queues_with_their_settings() -> None:
    config = load()

    assert config.skills == {"billing", "tech", "sales"}
    assert list(config.queues) == ["support", "sales"]
    support = config.queue("support")
    assert support.channels == ("voice", "chat")
    assert (support.sl_seconds, support.sl_target) == (30.0, 90.0)
    assert support.ageing_rate == pytest.approx(2 / 60)
    assert (support.reservation_timeout, support.wrap_up) == (15.0, 60.0)
    assert [rule.add for rule in support.priority] == [10, 5]
    assert support.priority[0].when is not None
    assert support.priority[0].when.source == "customer.tier == 'gold'"
    assert config.exclusive_channels == {"voice"}


def test_a_valid_file_loads_ordered_steps() -> None:
    owner, last, everyone = load().queue("support").steps

    assert (owner.name, owner.timeout, owner.order, dict(owner.skills)) == (
        "owner of the open case", 30.0, "longest_idle", {})
    assert owner.when is not None and owner.when.variables == {"customer"}
    assert owner.agents is not None and owner.agents.variables == {"agent", "customer"}
    assert not owner.agent_only
    assert (last.timeout, last.order, dict(last.skills), last.language) == (
        120.0, "proficiency", {"billing": 2}, True)
    assert (everyone.timeout, everyone.order, everyone.language) == (
        None, "least_occupied", False)


def test_a_queue_without_steps_has_one_step_for_everyone() -> None:
    sales = load().queue("sales")

    assert sales.channels == ("email",)
    assert [(s.name, s.timeout, s.agents, dict(s.skills)) for s in sales.steps] == [
        ("all", None, None, {})]
    assert sales.ageing_rate == pytest.approx(0.1)  # 1 point every 10 s by default


def test_a_step_without_a_name_is_named_by_its_place() -> None:
    config = load(edited("      - name: last agents\n", "      -\n"))

    assert config.queue("support").steps[1].name == "step 2"


def test_a_condition_reading_only_the_agent_is_agent_only() -> None:
    config = load(edited("agents: agent.id in customer.last_agents", "agents: agent.site == 'x'"))

    assert config.queue("support").steps[1].agent_only


def test_a_valid_file_loads_the_abandoned_policy() -> None:
    abandoned = load().abandoned

    assert abandoned.short_abandon == 10.0
    assert abandoned.recontact_window == 4 * 3600.0
    assert (abandoned.callback_attempts, abandoned.retry_after) == (3, 900.0)
    [rule] = abandoned.rules
    assert (rule.action, rule.queue, rule.priority, rule.delay) == ("callback", "support", 20, 60.0)


def test_a_valid_file_loads_agents_with_default_capacity() -> None:
    ana, bob = load().agents

    assert (ana.id, ana.name, ana.site) == ("ana", "Ana", "madrid")
    assert dict(ana.skills) == {"billing": 4, "tech": 2}
    assert ana.languages == ("es", "en")  # lower-cased
    assert (ana.queues, ana.teams) == (("support", "sales"), ("retention",))
    assert dict(ana.capacity) == {**DEFAULT_CAPACITY, "chat": 2}
    assert (bob.site, bob.languages, dict(bob.skills)) == ("main", (), {})
    assert dict(bob.capacity) == DEFAULT_CAPACITY
    assert (DEFAULT_CAPACITY["voice"], DEFAULT_CAPACITY["chat"], DEFAULT_CAPACITY["email"]) == (
        1, 3, 5)


def test_exclusive_channels_can_be_set_or_emptied() -> None:
    assert load("exclusive_channels: [voice, backoffice]\nqueues: {q: {}}\n"
                ).exclusive_channels == {"voice", "backoffice"}
    assert load("exclusive_channels: []\nqueues: {q: {}}\n").exclusive_channels == frozenset()


def test_parse_data_loads_the_same_document_from_json() -> None:
    from_data = parse_data(yaml.safe_load(POLICY))

    assert from_data.queue("support").steps[2].order == "least_occupied"
    assert [a.id for a in from_data.agents] == ["ana", "bob"]


def test_a_condition_over_missing_data_does_not_hold() -> None:
    when = load().queue("support").priority[1].when
    assert when is not None

    assert when.holds({"task": {}, "customer": {"churn_risk": 0.9}})
    assert not when.holds({"task": {}, "customer": {"churn_risk": 0.2}})
    assert not when.holds({"task": {}, "customer": {}})  # an unknown caller


# -- durations -------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "seconds"), [
    ("30s", 30.0), ("2m", 120.0), ("1h", 3600.0), ("2min", 120.0), ("1d", 86400.0),
    ("500ms", 0.5), ("1.5m", 90.0), (" 45 ", 45.0), (45, 45.0), (2.5, 2.5), (0, 0.0),
])
def test_durations(value: Any, seconds: float) -> None:
    assert duration(value, "x") == seconds


@pytest.mark.parametrize("value", ["soon", "30 seconds", "1h30m", "", True, None])
def test_unreadable_durations_are_refused(value: Any) -> None:
    with pytest.raises(PolicyError, match=r"^here: expected a duration such as 30s, 2m or 1h"):
        duration(value, "here")


def test_a_negative_duration_is_refused() -> None:
    with pytest.raises(PolicyError, match=r"^here: a duration cannot be negative$"):
        duration(-5, "here")


def test_a_negative_duration_with_a_unit_says_it_is_negative() -> None:
    with pytest.raises(PolicyError, match=r"^here: a duration cannot be negative$"):
        duration("-5s", "here")


# -- refusals: each names the file, the line, the path and the reason -------------------------

REFUSALS = [
    pytest.param("agents: agent.id == customer.owner", "agents: agent.id ===",
                 17, "queues.support.steps[0].agents", "invalid CEL: Failed to parse",
                 id="invalid CEL"),
    pytest.param("agents: agent.id == customer.owner", "agents: agent.id == owner",
                 17, "queues.support.steps[0].agents",
                 "unknown variable 'owner' (available here: agent, customer, task)",
                 id="unknown variable"),
    pytest.param("when: has(customer.owner)", "when: agent.site == 'madrid'",
                 16, "queues.support.steps[0].when",
                 "unknown variable 'agent' (available here: customer, task)",
                 id="agent in a step's when"),
    pytest.param("when: customer.tier == 'gold'\n        add: 10",
                 "when: agent.site == 'x'\n        add: 10",
                 10, "queues.support.priority[0].when", "unknown variable 'agent'",
                 id="agent in a priority rule"),
    pytest.param("skills: {billing: 2}", "skills: {cooking: 2}",
                 21, "queues.support.steps[1].skills.cooking",
                 "unknown skill 'cooking' (declared: billing, sales, tech)",
                 id="unknown skill in step skills"),
    pytest.param("agents: agent.id == customer.owner", "agents: agent.skills.foo >= 3",
                 17, "queues.support.steps[0].agents", "unknown skill 'foo'",
                 id="unknown skill in CEL, dotted"),
    pytest.param("agents: agent.id == customer.owner", "agents: agent.skills['foo'] >= 3",
                 17, "queues.support.steps[0].agents", "unknown skill 'foo'",
                 id="unknown skill in CEL, indexed"),
    pytest.param("agents: agent.id == customer.owner", "agents: \"'foo' in agent.skills\"",
                 17, "queues.support.steps[0].agents", "unknown skill 'foo'",
                 id="unknown skill in CEL, membership"),
    pytest.param("      queue: support\n", "      queue: billing\n",
                 35, "abandoned.rules[0].queue", "unknown queue 'billing'",
                 id="unknown queue in abandoned rules"),
    pytest.param("      queue: support\n", "      queue: sales\n",
                 35, "abandoned.rules[0].queue",
                 "queue 'sales' takes no voice tasks, so it cannot hold callbacks",
                 id="callback to a queue without voice"),
    pytest.param("      action: callback", "      action: email",
                 34, "abandoned.rules[0].action",
                 "unknown action 'email' (expected one of ignore, callback",
                 id="unknown abandon action"),
    pytest.param("channels: [voice, chat]", "channels: [voice, fax]",
                 4, "queues.support.channels[1]", "unknown channel 'fax' (expected one of voice",
                 id="unknown channel"),
    pytest.param("channels: [voice, chat]", "channels: []",
                 4, "queues.support.channels", "a queue needs at least one channel",
                 id="no channel"),
    pytest.param("order: least_occupied", "order: random",
                 27, "queues.support.steps[2].order",
                 "unknown ordering 'random' (expected one of longest_idle, proficiency, "
                 "least_occupied)", id="bad ordering"),
    pytest.param("        timeout: 30s\n", "",
                 15, "queues.support.steps[0]", "every step but the last needs a timeout",
                 id="missing timeout on a non-last step"),
    pytest.param("timeout: 2m", "timeout: -5",
                 22, "queues.support.steps[1].timeout", "a duration cannot be negative",
                 id="negative timeout"),
    pytest.param("timeout: 2m", "timeout: 0s",
                 22, "queues.support.steps[1].timeout", "must be longer than zero",
                 id="zero timeout"),
    pytest.param("timeout: 2m", "timeout: soon",
                 22, "queues.support.steps[1].timeout", "expected a duration such as 30s",
                 id="unreadable timeout"),
    pytest.param("ageing: {points: 2, every: 1m}", "ageing: {points: 2, every: -1}",
                 6, "queues.support.ageing.every", "a duration cannot be negative",
                 id="negative ageing period"),
    pytest.param("ageing: {points: 2, every: 1m}", "ageing: {points: -1, every: 1m}",
                 6, "queues.support.ageing.points", "a number of at least 0",
                 id="negative ageing points"),
    pytest.param("target: 90", "target: 120",
                 5, "queues.support.service_level.target", "a percentage between 0 and 100",
                 id="service level over 100%"),
    pytest.param("skills: {billing: 2}", "skills: {billing: 0}",
                 21, "queues.support.steps[1].skills.billing", "must be between 1 and 5",
                 id="proficiency 0"),
    pytest.param("skills: {billing: 2}", "skills: {billing: 6}",
                 21, "queues.support.steps[1].skills.billing", "must be between 1 and 5",
                 id="proficiency 6"),
    pytest.param("skills: {billing: 2}", "skills: {billing: high}",
                 21, "queues.support.steps[1].skills.billing", "expected a whole number",
                 id="proficiency not a number"),
    pytest.param("        add: 10\n", "",
                 10, "queues.support.priority[0]", "needs 'add' (priority points)",
                 id="priority rule without add"),
    pytest.param("        order: proficiency\n", "        order: proficiency\n        wait: 3\n",
                 24, "queues.support.steps[1].wait", "unknown field (expected one of agents",
                 id="unknown field in a step"),
]


@pytest.mark.parametrize(("old", "new", "line", "path", "reason"), REFUSALS)
def test_refusals_name_the_line_and_the_reason(old: str, new: str, line: int, path: str,
                                               reason: str) -> None:
    message = refusal(edited(old, new))

    assert message.startswith(f"routing.yaml: line {line}: {path}: {reason}"), message


ANA, BOB = range(39, 47), range(47, 49)  # the lines of each agent's entry

# Agent errors name a line of the agent's entry; the field's own line is tested below.
AGENT_REFUSALS = [
    pytest.param("skills: {billing: 4, tech: 2}", "skills: {billing: 6, tech: 2}",
                 ANA, "agents[0].skills.billing", "must be between 1 and 5",
                 id="agent proficiency 6"),
    pytest.param("skills: {billing: 4, tech: 2}", "skills: {cooking: 1}",
                 ANA, "agents[0].skills.cooking", "unknown skill 'cooking'",
                 id="agent with unknown skill"),
    pytest.param("  - id: bob\n", "  - id: ana\n",
                 BOB, "agents[1].id", "agent 'ana' appears twice", id="duplicate agent"),
    pytest.param("    queues: [support]\n", "    queues: [support, billing]\n",
                 BOB, "agents[1].queues", "unknown queue 'billing'",
                 id="agent with unknown queue"),
    pytest.param("    capacity: {chat: 2}", "    capacity: {chat: -1}",
                 ANA, "agents[0].capacity.chat", "must be between 0 and 100",
                 id="negative capacity"),
    pytest.param("    capacity: {chat: 2}", "    capacity: {fax: 1}",
                 ANA, "agents[0].capacity.fax", "unknown channel",
                 id="capacity of unknown channel"),
    pytest.param("  - id: bob\n", "  - id: bob smith\n",
                 BOB, "agents[1].id", "1-64 letters, digits or _.@-", id="bad agent id"),
]


@pytest.mark.parametrize(("old", "new", "lines", "path", "reason"), AGENT_REFUSALS)
def test_agent_refusals_name_a_line_of_the_agent_and_the_reason(
        old: str, new: str, lines: range, path: str, reason: str) -> None:
    message = refusal(edited(old, new))

    found = re.match(rf"routing\.yaml: line (\d+): {re.escape(path)}: {re.escape(reason)}",
                     message)
    assert found is not None, message
    assert int(found.group(1)) in lines, message


def test_an_unknown_top_level_field_is_refused() -> None:
    message = refusal("queues: {q: {}}\nroutes: []\n")

    assert message == ("routing.yaml: line 2: routes: unknown field (expected one of abandoned, "
                       "agents, exclusive_channels, queues, skills)")


def test_a_file_without_queues_is_refused() -> None:
    assert refusal("skills: [billing]\n") == (
        "routing.yaml: line 1: queues: define at least one queue")


def test_invalid_yaml_is_refused() -> None:
    assert refusal("queues: [\n").startswith("routing.yaml: line 2, column 1: not valid YAML:")


def test_an_empty_file_is_refused_naming_the_file() -> None:
    assert refusal("") == "routing.yaml: expected a mapping with 'queues'"


def test_a_document_that_is_not_a_mapping_is_refused_cleanly() -> None:
    assert refusal("- queues\n") == "routing.yaml: line 1: expected a mapping with 'queues'"


def test_unknown_exclusive_channel_is_refused() -> None:
    message = refusal("exclusive_channels: [voice, fax]\nqueues: {q: {}}\n")

    assert message.startswith("routing.yaml: line 1: exclusive_channels[1]: unknown channel "
                              "'fax' (expected one of voice, ")


def test_refusals_from_data_name_the_path() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_data({"skills": ["billing"], "queues": {"q": {"steps": [
            {"name": "narrow", "skills": {"billing": 9}, "timeout": "1m"}, {"name": "wide"}]}}})

    assert str(caught.value) == "queues.q.steps[0].skills.billing: must be between 1 and 5"


def test_the_error_names_the_field_line_not_the_line_of_its_queue() -> None:
    # A long queue: the reported line is the one to edit, not the queue's first line.
    message = refusal(edited("order: least_occupied", "order: least_busy"))

    assert re.match(r"routing\.yaml: line 27: ", message)
    assert POLICY.splitlines()[26].strip() == "order: least_occupied"


def test_agent_errors_name_the_line_of_the_field() -> None:
    message = refusal(edited("    capacity: {chat: 2}", "    capacity: {chat: -1}"))

    assert message.startswith("routing.yaml: line 46: agents[0].capacity.chat: "), message


def test_cel_macros_over_open_records_are_accepted() -> None:
    config = load(edited("agents: agent.id == customer.owner",
                         "agents: customer.open_records.exists(r, r.owner == agent.id)"))

    owner = config.queue("support").steps[0]
    assert owner.agents is not None and owner.agents.variables == {"agent", "customer"}
    assert owner.agents.holds({"agent": {"id": "ana"},
                               "customer": {"open_records": [{"owner": "ana"}]}})


# -- the FIFO baseline -------------------------------------------------------------------------

def test_as_fifo_keeps_hard_requirements_and_drops_priority_ageing_and_steps() -> None:
    config = load()

    fifo = config.as_fifo()

    support = fifo.queue("support")
    assert support.priority == ()
    assert support.ageing_points == 0.0 and support.ageing_rate == 0.0
    [step] = support.steps
    assert (step.name, dict(step.skills), step.language, step.timeout, step.agents,
            step.when, step.order) == ("fifo", {"billing": 1}, False, None, None, None,
                                       "longest_idle")
    # everything else stays as loaded
    assert (support.channels, support.sl_seconds, support.reservation_timeout) == (
        ("voice", "chat"), 30.0, 15.0)
    assert fifo.agents == config.agents and fifo.abandoned == config.abandoned
    assert fifo.skills == config.skills and list(fifo.queues) == list(config.queues)
    # and the original is untouched
    assert len(config.queue("support").steps) == 3 and config.queue("support").priority
