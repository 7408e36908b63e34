"""JSONPath-style paths into JSON data (``$.a.b``, ``$.items[0].sku``, ``$['a b']``). Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_\-]*)|\[(\d+)\]|\['([^']+)'\]")
MISSING = object()


class PathError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class JsonPath:
    text: str
    steps: tuple[str | int, ...]

    def get(self, data: Any) -> Any:
        for step in self.steps:
            if isinstance(step, int):
                if not isinstance(data, list) or step >= len(data):
                    return MISSING
                data = data[step]
            else:
                if not isinstance(data, dict) or step not in data:
                    return MISSING
                data = data[step]
        return data


def compile_path(text: str, where: str) -> JsonPath:
    if not text.startswith("$"):
        raise PathError(f"{where}: a path starts with '$'")
    steps: list[str | int] = []
    position = 1
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None:
            raise PathError(f"{where}: cannot read path '{text}' at position {position}")
        name, index, quoted = match.groups()
        steps.append(int(index) if index is not None else (name or quoted))
        position = match.end()
    return JsonPath(text, tuple(steps))


def nul_path(value: Any, path: str = "") -> str:
    """Where the first NUL character is (keys included): PostgreSQL cannot store it."""
    if isinstance(value, str):
        return path if "\x00" in value else ""
    children: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, child in value.items():
            child_path = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return child_path
            children.append((child_path, child))
    elif isinstance(value, list):
        children = [(f"{path}.{i}" if path else str(i), child) for i, child in enumerate(value)]
    for child_path, child in children:
        found = nul_path(child, child_path)
        if found:
            return found
    return ""
