"""Erlang C: what a pool of N identical agents should achieve under Poisson arrivals, exponential
handle times and callers who never hang up (docs: MISSION.md, "Words of the trade").

The textbook formula divides Aᴺ/N! by a sum of such terms, which overflows a float beyond
N ≈ 170. The Erlang B recursion B(k) = A·B(k−1) / (k + A·B(k−1)) stays between 0 and 1 at every
step, so it is exact to rounding for any N, and C follows from B:
C = N·B / (N − A·(1 − B)). Pure functions of numbers; time in seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def offered_load(calls_per_hour: float, handle_seconds: float) -> float:
    """Erlangs: the arrival rate times the average handle time, in the same unit of time."""
    if calls_per_hour < 0 or handle_seconds < 0:
        raise ValueError("arrival rate and handle time cannot be negative")
    return calls_per_hour * handle_seconds / 3600.0


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of N servers and no queue (the recursion C is built on)."""
    _check(agents, load)
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def wait_probability(agents: int, load: float) -> float:
    """Erlang C: the share of callers who find every agent busy and wait. 1 when the load
    reaches the number of agents (the queue grows without bound)."""
    _check(agents, load)
    if load >= agents:
        return 1.0
    if load == 0:
        return 0.0
    blocking = erlang_b(agents, load)
    return agents * blocking / (agents - load * (1.0 - blocking))


def service_level(agents: int, load: float, handle_seconds: float, threshold: float) -> float:
    """Share of callers answered within ``threshold`` seconds (0–1)."""
    if handle_seconds <= 0:
        raise ValueError("handle time must be positive")
    waiting = wait_probability(agents, load)
    if load >= agents:
        return 0.0
    return 1.0 - waiting * math.exp(-(agents - load) * threshold / handle_seconds)


def average_speed_of_answer(agents: int, load: float, handle_seconds: float) -> float:
    """ASA in seconds over every caller (those answered at once count as zero); infinite
    when the load reaches the number of agents."""
    if handle_seconds <= 0:
        raise ValueError("handle time must be positive")
    if load >= agents:
        return math.inf
    return wait_probability(agents, load) * handle_seconds / (agents - load)


@dataclass(frozen=True, slots=True)
class Prediction:
    agents: int
    load: float
    wait_probability: float
    service_level: float
    asa: float
    occupancy: float


def predict(calls_per_hour: float, handle_seconds: float, agents: int,
            threshold: float = 20.0) -> Prediction:
    """Everything Erlang C says about one staffing level, for reports and benchmarks."""
    load = offered_load(calls_per_hour, handle_seconds)
    return Prediction(
        agents=agents, load=load,
        wait_probability=wait_probability(agents, load),
        service_level=service_level(agents, load, handle_seconds, threshold),
        asa=average_speed_of_answer(agents, load, handle_seconds),
        occupancy=min(1.0, load / agents),
    )


def _check(agents: int, load: float) -> None:
    if agents < 1:
        raise ValueError("need at least one agent")
    if load < 0 or math.isnan(load):
        raise ValueError("the offered load cannot be negative")
