"""The simulator: scenarios refused with the line and the field, reproducible runs, Erlang C met
by a single-skill pool, patience, shifts and wrap-up honoured, the customer-centric policy ahead
of FIFO for VIPs, and ``circulo simulate`` writing its chart."""

from __future__ import annotations

import random
import statistics
from pathlib import Path

import pytest
from typer.testing import CliRunner

from circulo.cli import app as cli
from circulo.routing.erlang import predict
from circulo.routing.scenario import Distribution, ScenarioError, load_scenario, parse_scenario
from circulo.routing.simulator import (
    RunResult,
    compare,
    day_rng,
    erlang_reference,
    generate_day,
    run_day,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "routing"

# 480 calls an hour of 60 s on average: 8 Erlangs on 10 agents. Erlang C: SL(20 s) 79.0%,
# ASA 12.3 s; with 9 agents it would be 53%, with 11 agents 91%.
SMALL = """\
name: small
routing:
  skills: [general]
  queues:
    general: {wrap_up: 0s}
day: {opens: "00:00", closes: "24:00", interval: 1h, calls_per_hour: 480}
reasons:
  - queue: general
    handle: {distribution: exponential, mean: 60s}
agents:
  - group: pool
    count: 10
"""

# A two-hour day to break in many ways; line numbers below refer to this text.
BASE = """\
routing:
  skills: [general]
  queues:
    general: {wrap_up: 0s}
day: {opens: "08:00", closes: "10:00", interval: 30m, calls_per_hour: 100}
reasons:
  - queue: general
    handle: {distribution: exponential, mean: 60s}
agents:
  - group: pool
    count: 2
    shift: {start: "08:00", end: "10:00"}
"""


def day_text(rates: str = "[60, 60, 60, 60]", patience: str = "", handle: str = "",
             shift: str = '{start: "08:00", end: "10:00"}', wrap_up: str = "0s",
             group_extra: str = "", sl_seconds: int = 20, count: int = 1) -> str:
    return f"""\
routing:
  skills: [general]
  queues:
    general: {{wrap_up: {wrap_up}, service_level: {{seconds: {sl_seconds}}}}}
day: {{opens: "08:00", interval: 30m, calls_per_hour: {rates}}}
reasons:
  - queue: general
    handle: {handle or "{distribution: exponential, mean: 60s}"}
    {f"patience: {patience}" if patience else ""}
agents:
  - group: pool
    count: {count}
    shift: {shift}
    {group_extra}
"""


def run(text: str, seed: int = 1, days: int = 1) -> RunResult:
    scenario = parse_scenario(text)
    result = RunResult("policy")
    for day in range(days):
        run_day(scenario, scenario.routing, generate_day(scenario, day_rng(seed, day)), result)
    return result


# -- loading ---------------------------------------------------------------------------------

def test_the_examples_load() -> None:
    single = load_scenario(EXAMPLES / "single_skill.yaml")
    reference = erlang_reference(single)
    assert reference is not None
    assert (reference.agents, reference.load) == (55, 48.0)
    mixed = load_scenario(EXAMPLES / "mixed_day.yaml")
    assert set(mixed.routing.queues) == {"billing", "tech"}  # from policy.yaml beside it
    assert sum(g.count for g in mixed.groups) == 100
    assert mixed.languages == {"es": 0.7, "en": 0.3}
    assert erlang_reference(mixed) is None


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("calls_per_hour: 100", "calls_per_hour: -5",
     "line 5: day.calls_per_hour: cannot be negative"),
    ('end: "10:00"', 'end: "07:30"',
     "line 12: agents[0].shift.end: the shift ends (07:30) before it starts (08:00)"),
    ('start: "08:00", end', 'start: "07:00", end',
     "line 12: agents[0].shift.start: the shift starts before the day opens"),
    ("- queue: general", "- queue: sales",
     "line 7: reasons[0].queue: unknown queue 'sales' (the policy has general)"),
    ("    count: 2", "    count: 2\n    skills: {cooking: 2}",
     "line 12: agents[0].skills.cooking: unknown skill 'cooking'"),
    ('end: "10:00"}\n', 'end: "10:00"}\n    languages: [es]\nlanguages: {es: 0.6, fr: 0.4}\n',
     "line 14: languages.fr: no agent group speaks 'fr'"),
    ("mean: 60s}", "mean: 60s}\n    skills: {general: 3}",
     "line 7: reasons[0]: no agent group takes queue 'general' with the skills it needs"),
    ("exponential", "gamma",
     "line 8: reasons[0].handle.distribution: unknown distribution 'gamma' "
     "(expected one of exponential, lognormal, fixed)"),
    ("{distribution: exponential, mean: 60s}", "{distribution: lognormal, mean: 60s}",
     "line 8: reasons[0].handle: a lognormal needs 'sd'"),
    ("- queue: general", "- queue: general\n    share: 0.5",
     "reasons: the shares of the reasons add up to 0.5, expected 1"),
    ("    count: 2", "    count: 2\n    colour: red",
     "line 12: agents[0].colour: unknown field"),
    ("    count: 2", "    count: 0", "line 11: agents[0].count: expected a whole number"),
    ('closes: "10:00"', 'closes: "09:45"',
     "day.interval: the day is not a whole number of intervals"),
    ("{wrap_up: 0s}", "{wrap_up: 0s, steps: [{skills: {general: 9}}]}",
     "line 4: queues.general.steps[0].skills.general: must be between 1 and 5"),
    ("    general: {wrap_up: 0s}", "    general: {wrap_up: 0s}\n  colour: red",
     "line 5: colour: unknown field"),
    ("routing:\n  skills: [general]\n  queues:\n    general: {wrap_up: 0s}\n",
     "routing: missing.yaml\n", "line 1: routing: cannot read the routing policy"),
])
def test_a_bad_scenario_names_line_field_and_reason(old: str, new: str, expected: str) -> None:
    assert old in BASE
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(BASE.replace(old, new), "day.yaml", EXAMPLES)
    message = str(caught.value)
    assert message.startswith("day.yaml: ")
    assert expected in message
    assert "\n" not in message


def test_a_broken_yaml_file_is_one_line_with_its_place() -> None:
    with pytest.raises(ScenarioError, match=r"^x\.yaml: line 2, column 1: not valid YAML"):
        parse_scenario("day: [\n", "x.yaml")


def test_unquoted_clock_times_mean_what_they_say() -> None:
    # YAML 1.1 alone would read 16:00 as 960 (base 60) and 08:00 as text
    scenario = parse_scenario(BASE.replace('{start: "08:00", end: "10:00"}',
                                           "{start: 08:30, end: 9:45}"))
    assert (scenario.groups[0].start, scenario.groups[0].end) == (1800.0, 6300.0)


def test_lognormal_handle_times_have_the_mean_and_spread_asked_for() -> None:
    draw = Distribution("lognormal", 300.0, 150.0).sampler(random.Random(5))
    values = [draw() for _ in range(40_000)]
    assert statistics.fmean(values) == pytest.approx(300, rel=0.02)
    assert statistics.stdev(values) == pytest.approx(150, rel=0.05)


def test_arrivals_follow_the_rate_of_each_interval() -> None:
    scenario = parse_scenario(day_text(rates="[0, 600, 0, 120]"))
    counts = [0, 0, 0, 0]
    for day in range(5):
        for call in generate_day(scenario, day_rng(3, day)):
            assert call.interval == int(call.arrival // 1800)
            counts[call.interval] += 1
    # Poisson: 5 days x 300 calls (sd 39) and 5 x 60 (sd 17); 4 sd either side
    assert counts[0] == counts[2] == 0
    assert 1345 < counts[1] < 1655
    assert 230 < counts[3] < 370


# -- running ---------------------------------------------------------------------------------

def test_the_same_seed_gives_the_same_day() -> None:
    scenario = load_scenario(EXAMPLES / "mixed_day.yaml")
    first = compare(scenario, seed=7)
    again = compare(scenario, seed=7)
    other = compare(scenario, seed=8)
    assert first.policy.segments == again.policy.segments
    assert first.fifo.intervals == again.fifo.intervals
    assert first.policy.segments != other.policy.segments
    # both runs answer the very same calls
    assert first.policy.tally("tier", "vip").offered == first.fifo.tally("tier", "vip").offered


def test_a_single_skill_pool_meets_erlang_c() -> None:
    expected = predict(480, 60, 10, 20)
    result = run(SMALL, seed=11, days=12)  # ~138,000 calls: SL sd ~0.8 point, ASA sd ~5%
    overall = result.tally("all")
    assert overall.abandoned == 0
    assert overall.service_level is not None and overall.asa is not None
    # one agent more or less would move the SL by 12 to 26 points and the ASA by 2.5 times
    assert overall.service_level == pytest.approx(100 * expected.service_level, abs=2.5)
    assert overall.asa == pytest.approx(expected.asa, rel=0.15)
    assert result.occupancy() == pytest.approx(80, abs=1.5)


def test_callers_hang_up_when_their_patience_runs_out() -> None:
    # overloaded: 120 calls an hour of 60 s each on one agent; everyone waits at most 30 s
    text = day_text(rates="[120, 120, 120, 120]", patience="{distribution: fixed, mean: 30s}",
                    sl_seconds=30, shift='{start: "08:00", end: "12:00"}')
    overall = run(text, days=3).tally("all")
    assert overall.abandoned > 0.2 * overall.offered
    assert overall.service_level == 100.0  # nobody still on the line after 30 s
    assert overall.asa is not None and overall.asa < 30


def test_agents_answer_only_during_their_shift() -> None:
    # calls from 08:00 to 10:00, never hanging up; one agent from 08:30 to 09:30
    result = run(day_text(shift='{start: "08:30", end: "09:30"}', count=3), days=2)
    first, _, _, last = result.intervals
    assert first.answered == first.offered > 0
    assert first.within == 0  # they all waited for 08:30
    assert last.answered == 0  # after 09:30 nobody is left to answer
    assert last.abandoned == last.offered > 0


def test_wrap_up_keeps_the_agent_busy() -> None:
    fixed = "{distribution: fixed, mean: 60s}"
    queue_wrap = run(day_text(handle=fixed, wrap_up="30s"))
    own_wrap = run(day_text(handle=fixed, wrap_up="30s", group_extra="wrap_up: 10s"))
    for result, per_call in ((queue_wrap, 90.0), (own_wrap, 70.0)):
        answered = result.tally("all").answered
        assert answered > 0
        assert result.busy["pool"] == pytest.approx(answered * per_call)


def test_the_customer_centric_policy_serves_vips_first() -> None:
    scenario = load_scenario(EXAMPLES / "mixed_day.yaml")
    result = compare(scenario, seed=3, days=1)
    vip, vip_fifo = result.policy.tally("tier", "vip"), result.fifo.tally("tier", "vip")
    assert vip.asa is not None and vip_fifo.asa is not None
    assert vip.asa < 0.65 * vip_fifo.asa
    assert vip.abandon_rate is not None and vip_fifo.abandon_rate is not None
    assert vip.abandon_rate < vip_fifo.abandon_rate
    at_risk = result.policy.tally("customer", "at_risk").asa
    at_risk_fifo = result.fifo.tally("customer", "at_risk").asa
    assert at_risk is not None and at_risk_fifo is not None and at_risk < at_risk_fifo
    overall, overall_fifo = result.policy.tally("all"), result.fifo.tally("all")
    assert overall.service_level is not None and overall_fifo.service_level is not None
    assert overall.service_level > overall_fifo.service_level - 2


# -- the command -----------------------------------------------------------------------------

def test_the_command_prints_the_comparison_and_writes_the_chart(tmp_path: Path) -> None:
    scenario = tmp_path / "small.yaml"
    scenario.write_text(SMALL.replace("24:00", "04:00"), encoding="utf-8")
    chart = tmp_path / "out" / "chart.html"
    chart.parent.mkdir()
    result = CliRunner().invoke(cli, ["simulate", str(scenario), "--seed", "2",
                                      "--chart", str(chart)], env={"LANG": "en_US.UTF-8"})
    assert result.exit_code == 0, result.output
    assert "Simulation: small" in result.output
    assert "Erlang C with 10 agents and 8.0 Erlangs: SL 79.0%" in result.output
    page = chart.read_text(encoding="utf-8")
    assert page.count("<svg") == 4
    assert "<script" not in page and "href=" not in page and "src=" not in page
    assert "Service level by interval" in page


def test_the_command_speaks_spanish(tmp_path: Path) -> None:
    scenario = tmp_path / "small.yaml"
    scenario.write_text(SMALL.replace("24:00", "01:00"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["simulate", str(scenario), "--chart",
                                      str(tmp_path / "c.html")], env={"LANG": "es_ES.UTF-8"})
    assert result.exit_code == 0, result.output
    assert "Simulación: small" in result.output and "Nivel de servicio por intervalo" in (
        tmp_path / "c.html").read_text(encoding="utf-8")


def test_a_bad_scenario_exits_2_with_one_line(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(BASE.replace('end: "10:00"', 'end: "07:00"'), encoding="utf-8")
    result = CliRunner().invoke(cli, ["simulate", str(scenario), "--chart",
                                      str(tmp_path / "c.html")], env={"LANG": "en_US.UTF-8"})
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "Invalid scenario" in result.stderr and "line 12: agents[0].shift.end" in result.stderr
    assert not (tmp_path / "c.html").exists()
    missing = CliRunner().invoke(cli, ["simulate", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "cannot read the scenario" in missing.stderr
