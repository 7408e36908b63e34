"""The routing simulator's two targets (issue 4), each over several seeds; medians and spread.

1. Single skill against Erlang C (examples/routing/single_skill.yaml: 720 calls/h, exponential
   handle times of 240 s, nobody hangs up, 55 agents): the simulated service level within
   20 s must be within 2 points of the formula.
2. Customer-centric policy against plain FIFO on the same calls
   (examples/routing/mixed_day.yaml with policy.yaml): VIP average speed of answer at most half
   of FIFO's, overall service level down by at most 2 points.

    python bench/routing_sim_bench.py [--seeds 10] [--erlang-days 20] [--mixed-days 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, machine, median, percentile

from circulo.routing.scenario import load_scenario
from circulo.routing.simulator import (
    RunResult,
    Tally,
    compare,
    day_rng,
    erlang_reference,
    generate_day,
    run_day,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "routing"


def spread(values: list[float], digits: int = 1) -> str:
    return (f"median {median(values):.{digits}f}, p25–p75 {percentile(values, 25):.{digits}f}–"
            f"{percentile(values, 75):.{digits}f}, min–max {min(values):.{digits}f}–"
            f"{max(values):.{digits}f}")


def erlang_target(seeds: int, days: int) -> dict[str, Any]:
    scenario = load_scenario(EXAMPLES / "single_skill.yaml")
    reference = erlang_reference(scenario)
    assert reference is not None, "single_skill.yaml is no longer the Erlang C case"
    levels, asas, calls, seconds = [], [], 0, 0.0
    all_seeds = Tally()
    for seed in range(1, seeds + 1):
        result = RunResult("policy")
        for day in range(days):
            run_day(scenario, scenario.routing, generate_day(scenario, day_rng(seed, day)),
                    result)
        overall = result.tally("all")
        assert overall.service_level is not None and overall.asa is not None
        levels.append(overall.service_level)
        asas.append(overall.asa)
        calls += result.calls
        seconds += result.seconds
        all_seeds.add(overall)
    predicted = 100 * reference.service_level
    assert all_seeds.service_level is not None
    hours = scenario.length / 3600 * days
    print(f"\n1. Single skill vs Erlang C — {scenario.name}")
    print(f"   {reference.agents} agents, {reference.load:.1f} Erlangs, SL threshold 20 s; "
          f"{seeds} seeds × {days} days of {scenario.length / 3600:.0f} h "
          f"({hours:.0f} h, ~{calls / seeds:,.0f} calls per seed)")
    print(f"   Erlang C:  SL {predicted:.2f}%   ASA {reference.asa:.2f} s   "
          f"P(wait) {100 * reference.wait_probability:.1f}%")
    print(f"   simulated: SL {spread(levels, 2)}")
    print(f"              SL all seeds pooled {all_seeds.service_level:.2f}% "
          f"(sd across seeds {statistics.stdev(levels):.2f})")
    print(f"              ASA {spread(asas, 2)} s")
    gap = median(levels) - predicted
    verdict = "PASS" if abs(gap) <= 2 else "FAIL"
    print(f"   median SL − Erlang C = {gap:+.2f} points (target ±2): {verdict}")
    print(f"   speed: {calls / seconds:,.0f} simulated calls/s ({calls:,} calls in "
          f"{seconds:.1f} s)")
    return {"erlang_sl": predicted, "erlang_asa": reference.asa, "sl": levels, "asa": asas,
            "pooled_sl": all_seeds.service_level, "gap": gap, "calls": calls,
            "seconds": seconds, "verdict": verdict}


def mixed_target(seeds: int, days: int) -> dict[str, Any]:
    scenario = load_scenario(EXAMPLES / "mixed_day.yaml")
    rows: list[dict[str, float]] = []
    calls, seconds = 0, 0.0
    for seed in range(1, seeds + 1):
        result = compare(scenario, seed=seed, days=days)
        figures: dict[str, float] = {}
        for name, run in (("policy", result.policy), ("fifo", result.fifo)):
            for key, segment in (("all", ("all", "")), ("vip", ("tier", "vip")),
                                 ("at_risk", ("customer", "at_risk")),
                                 ("standard", ("customer", "standard"))):
                tally = run.tally(*segment)
                assert tally.service_level is not None and tally.asa is not None
                assert tally.abandon_rate is not None
                figures[f"{name}_{key}_sl"] = tally.service_level
                figures[f"{name}_{key}_asa"] = tally.asa
                figures[f"{name}_{key}_abandon"] = tally.abandon_rate
            occupancy = run.occupancy()
            assert occupancy is not None
            figures[f"{name}_occupancy"] = occupancy
            calls += run.calls
            seconds += run.seconds
        figures["vip_ratio"] = figures["policy_vip_asa"] / figures["fifo_vip_asa"]
        figures["sl_drop"] = figures["fifo_all_sl"] - figures["policy_all_sl"]
        rows.append(figures)

    def col(key: str) -> list[float]:
        return [row[key] for row in rows]

    offered = sum(g.count for g in scenario.groups)
    print(f"\n2. Customer-centric vs FIFO — {scenario.name}")
    print(f"   {offered} agents, ~{scenario.expected_calls():,.0f} calls a day; {seeds} seeds × "
          f"{days} days; both runs answer the same calls")
    print(f"   {'':24}{'policy':>10}{'FIFO':>10}   (medians over seeds)")
    for label, key, unit in (
            ("VIP ASA", "vip_asa", "s"), ("at-risk ASA", "at_risk_asa", "s"),
            ("standard ASA", "standard_asa", "s"), ("overall ASA", "all_asa", "s"),
            ("VIP SL", "vip_sl", "%"), ("standard SL", "standard_sl", "%"),
            ("overall SL", "all_sl", "%"), ("VIP abandonment", "vip_abandon", "%"),
            ("overall abandonment", "all_abandon", "%")):
        print(f"   {label:24}{median(col(f'policy_{key}')):>9.1f}{unit}"
              f"{median(col(f'fifo_{key}')):>9.1f}{unit}")
    print(f"   {'occupancy':24}{median(col('policy_occupancy')):>9.1f}%"
          f"{median(col('fifo_occupancy')):>9.1f}%")
    ratio, drop = col("vip_ratio"), col("sl_drop")
    ratio_ok = median(ratio) <= 0.5
    drop_ok = median(drop) <= 2
    print(f"   VIP ASA policy / FIFO: {spread(ratio, 2)} (target ≤ 0.50): "
          f"{'PASS' if ratio_ok else 'FAIL'}")
    print(f"   overall SL drop, FIFO − policy, points: {spread(drop, 2)} (target ≤ 2): "
          f"{'PASS' if drop_ok else 'FAIL'}")
    change = [p - f for p, f in zip(col("policy_standard_sl"), col("fifo_standard_sl"),
                                    strict=True)]
    print(f"   standard customers' SL change, policy − FIFO, points: {spread(change, 2)}")
    print(f"   speed: {calls / seconds:,.0f} simulated calls/s ({calls:,} calls in "
          f"{seconds:.1f} s)")
    return {"runs": rows, "vip_ratio_median": median(ratio), "sl_drop_median": median(drop),
            "calls": calls, "seconds": seconds,
            "verdict": "PASS" if ratio_ok and drop_ok else "FAIL"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--erlang-days", type=int, default=20, help="10-hour days per seed")
    parser.add_argument("--mixed-days", type=int, default=5, help="12-hour days per seed")
    args = parser.parse_args()
    report: dict[str, Any] = {"machine": machine(), "seeds": args.seeds}
    print(f"Machine: {report['machine']}")
    started = time.perf_counter()
    report["erlang"] = erlang_target(args.seeds, args.erlang_days)
    report["mixed"] = mixed_target(args.seeds, args.mixed_days)
    print(f"\nTotal {time.perf_counter() - started:.0f} s")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "routing_sim.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
