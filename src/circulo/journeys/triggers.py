"""Which journeys an event can start or wake: an index by trigger, so the cost of an event does
not grow with the journeys that cannot match it. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

from circulo.journeys.definition import type_matches

T = TypeVar("T")


class TriggerIndex(Generic[T]):
    """Items (journeys, waiting instances) filed under the event type patterns they listen to:
    exact types in a dict, ``a.b.*`` under their prefix, ``*`` for everything. A lookup costs
    one dict probe per dot in the event type, whatever the number of items."""

    def __init__(self) -> None:
        self._exact: dict[str, list[T]] = {}
        self._prefix: dict[str, list[T]] = {}  # "call." -> items listening to "call.*"
        self._all: list[T] = []

    def add(self, patterns: Iterable[str], item: T) -> None:
        for pattern in dict.fromkeys(patterns):
            if pattern == "*":
                self._all.append(item)
            elif pattern.endswith(".*"):
                self._prefix.setdefault(pattern[:-1], []).append(item)
            else:
                self._exact.setdefault(pattern, []).append(item)

    def matching(self, event_type: str) -> list[T]:
        """The items listening to this type, each once, in the order they were added."""
        found = list(self._all)
        found += self._exact.get(event_type, ())
        position = event_type.find(".")
        while position != -1:
            found += self._prefix.get(event_type[:position + 1], ())
            position = event_type.find(".", position + 1)
        if len(found) < 2:
            return found
        return list({id(item): item for item in found}.values())  # items may be unhashable


def matches_any(patterns: Iterable[str], event_type: str) -> bool:
    return any(type_matches(pattern, event_type) for pattern in patterns)
