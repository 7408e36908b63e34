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
