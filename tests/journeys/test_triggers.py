"""The trigger index finds exactly the journeys whose patterns match, without looking at the
others."""

from __future__ import annotations

import random

from circulo.journeys.triggers import TriggerIndex, matches_any


def test_exact_wildcard_and_catch_all_patterns() -> None:
    index: TriggerIndex[str] = TriggerIndex()
    index.add(["call.abandoned"], "abandons")
    index.add(["call.*", "survey.answered"], "calls and surveys")
    index.add(["*"], "everything")
    index.add(["call.abandoned", "call.*"], "twice")
    assert index.matching("call.abandoned") == ["everything", "abandons", "twice",
                                                "calls and surveys"]
    assert index.matching("survey.answered") == ["everything", "calls and surveys"]
    assert index.matching("calls.made") == ["everything"]
    assert index.matching("call") == ["everything"]


def test_items_need_not_be_hashable() -> None:
    index: TriggerIndex[dict[str, str]] = TriggerIndex()
    first, second = {"journey": "a"}, {"journey": "b"}
    index.add(["call.*", "call.abandoned"], first)
    index.add(["call.abandoned"], second)
    assert index.matching("call.abandoned") == [first, second]


def test_the_index_agrees_with_matching_every_pattern() -> None:
    rng = random.Random(7)
    words = ["call", "chat", "survey", "abandoned", "answered", "x"]
    index: TriggerIndex[int] = TriggerIndex()
    patterns: list[list[str]] = []
    for n in range(300):
        mine = []
        for _ in range(rng.randint(1, 3)):
            parts = rng.sample(words, rng.randint(1, 3))
            pattern = ".".join(parts)
            if rng.random() < 0.3:
                pattern = pattern + ".*" if rng.random() < 0.9 else "*"
            mine.append(pattern)
        patterns.append(mine)
        index.add(mine, n)
    for _ in range(500):
        event_type = ".".join(rng.sample(words, rng.randint(2, 4)))
        expected = {n for n, mine in enumerate(patterns) if matches_any(mine, event_type)}
        found = index.matching(event_type)
        assert set(found) == expected and len(found) == len(set(found)), event_type
