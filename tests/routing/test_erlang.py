"""Erlang C against independent computations: the textbook sum in exact rational arithmetic,
the M/M/1 closed forms, a published worked example, and a log-space sum for large pools."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import pytest

from circulo.routing.erlang import (
    average_speed_of_answer,
    erlang_b,
    offered_load,
    predict,
    service_level,
    wait_probability,
)


def exact_wait_probability(agents: int, load: Fraction) -> Fraction:
    """The formula as printed (MISSION.md), in exact fractions: no recursion shared with the
    code under test, no rounding."""
    term = Fraction(1)
    total = Fraction(0)
    for k in range(agents):
        total += term  # A^k / k!
        term = term * load / (k + 1)
    top = term * agents / (agents - load)  # A^N / N! · N / (N − A)
    return top / (total + top)


def log_space_wait_probability(agents: int, load: float) -> float:
    """Log-sum-exp of the same terms, for pools whose A^N/N! overflows a float."""
    logs = [k * math.log(load) - math.lgamma(k + 1) for k in range(agents)]
    top = agents * math.log(load) - math.lgamma(agents + 1) + math.log(agents / (agents - load))
    peak = max([*logs, top])
    total = sum(math.exp(x - peak) for x in logs)
    return math.exp(top - peak) / (total + math.exp(top - peak))


def test_the_issue_case_matches_the_exact_formula() -> None:
    load = offered_load(720, 240)
    assert load == 48.0
    exact = float(exact_wait_probability(55, Fraction(48)))
    assert wait_probability(55, load) == pytest.approx(exact, rel=1e-12)
    assert exact == pytest.approx(0.23870, abs=1e-5)
    assert service_level(55, load, 240, 20) == pytest.approx(
        1 - exact * math.exp(-(55 - 48) * 20 / 240), rel=1e-12)
    assert service_level(55, load, 240, 20) == pytest.approx(0.86680, abs=1e-5)
    assert average_speed_of_answer(55, load, 240) == pytest.approx(exact * 240 / 7, rel=1e-12)


@pytest.mark.parametrize(("agents", "expected"), [(11, 0.6821), (12, 0.4494), (14, 0.1741)])
def test_the_call_centre_helper_worked_example(agents: int, expected: float) -> None:
    # 100 calls in 30 minutes of 180 s each: 10 Erlangs (the widely reproduced example)
    assert wait_probability(agents, offered_load(200, 180)) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("agents", [1, 2, 5, 20, 55, 100, 150])
@pytest.mark.parametrize("occupancy", [0.3, 0.7, 0.9, 0.98])
def test_every_pool_matches_the_exact_formula(agents: int, occupancy: float) -> None:
    load = Fraction(occupancy).limit_denominator(1000) * agents
    exact = float(exact_wait_probability(agents, load))
    assert wait_probability(agents, float(load)) == pytest.approx(exact, rel=1e-10)


@pytest.mark.parametrize("rho", [0.1, 0.5, 0.9])
def test_one_agent_is_m_m_1(rho: float) -> None:
    handle = 100.0
    assert wait_probability(1, rho) == pytest.approx(rho)
    assert average_speed_of_answer(1, rho, handle) == pytest.approx(rho * handle / (1 - rho))
    assert service_level(1, rho, handle, 30) == pytest.approx(
        1 - rho * math.exp(-(1 - rho) * 30 / handle))


@pytest.mark.parametrize(("agents", "load"), [(300, 280.0), (500, 480.0), (800, 790.0)])
def test_large_pools_stay_finite_and_exact(agents: int, load: float) -> None:
    value = wait_probability(agents, load)
    assert 0 < value < 1
    assert value == pytest.approx(log_space_wait_probability(agents, load), rel=1e-9)


def test_more_agents_never_wait_longer() -> None:
    levels = [service_level(n, 48.0, 240, 20) for n in range(49, 70)]
    waits = [wait_probability(n, 48.0) for n in range(49, 70)]
    assert levels == sorted(levels)
    assert waits == sorted(waits, reverse=True)
    assert erlang_b(55, 48.0) < wait_probability(55, 48.0)  # waiting is likelier than blocking


def test_an_overloaded_pool_never_catches_up() -> None:
    assert wait_probability(48, 48.0) == 1.0
    assert service_level(40, 48.0, 240, 20) == 0.0
    assert average_speed_of_answer(48, 48.0, 240) == math.inf
    assert wait_probability(10, 0.0) == 0.0


def test_prediction_bundles_the_figures() -> None:
    figures = predict(720, 240, 55, 20)
    assert figures.load == 48.0
    assert figures.occupancy == pytest.approx(48 / 55)
    assert figures.service_level == pytest.approx(service_level(55, 48.0, 240, 20))


@pytest.mark.parametrize(("call", "message"), [
    (lambda: wait_probability(0, 1.0), "at least one agent"),
    (lambda: wait_probability(5, -1.0), "negative"),
    (lambda: service_level(5, 1.0, 0, 20), "positive"),
    (lambda: offered_load(-1, 100), "negative"),
])
def test_impossible_inputs_are_refused(call: Callable[[], float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
