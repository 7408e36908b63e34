"""Configuration documents people write (routing policies, scenarios, journeys): where an
error is (``line 12: queues.general.steps[0]`` for YAML text, the path for JSON), and the
values every such document uses. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cel

from circulo import yaml_files

_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$")
_UNITS = {None: 1.0, "ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
# names bound by CEL macros (the r of ``open_records.exists(r, r.owner == agent.id)``), which
# ``Program.variables()`` reports as variables
_BOUND = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")


class Where:
    """Names a place in the document: ``line 12`` for YAML text, the path otherwise."""

    def __init__(self, lines: dict[tuple[Any, ...], int], origin: str) -> None:
        self.lines = lines
        self.origin = origin

    def __call__(self, *path: Any) -> str:
        dotted = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in path)
        dotted = dotted.replace(".[", "[")
        for cut in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:cut]))
            if line is not None:
                return f"{self.origin}line {line}: {dotted}" if dotted \
                    else f"{self.origin}line {line}"
        return f"{self.origin}{dotted}" if dotted else self.origin.rstrip(": ") or "document"


def load_yaml(text: str, origin: str, error: type[ValueError] = ValueError
              ) -> tuple[Any, Where]:
    """The document in ``text`` (read by the one strict loader, ``circulo.yaml_files``) and
    a ``Where`` that names its lines (``origin: line N``); a refused text raises ``error``."""
    prefix = f"{origin}: " if origin else ""
    try:
        document = yaml_files.load(text)
    except yaml_files.YamlError as exc:
        raise error(f"{prefix}{exc}") from exc
    return document.data, Where(document.lines, prefix)


def seconds(value: Any) -> float:
    """Seconds from ``30``, ``"30s"``, ``"2m"``, ``"4h"``, ``"1d"``; negative or unreadable
    raises ``ValueError`` with the reason."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 2m or 1h")
    if isinstance(value, int | float):
        result = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"expected a duration such as 30s, 2m or 1h, got {value!r}")
        result = float(match.group(1)) * _UNITS[match.group(2)]
    if result < 0:
        raise ValueError("a duration cannot be negative")
    return result


def duration(value: Any, where: str, error: type[ValueError] = ValueError) -> float:
    """``seconds``, raising ``error`` naming ``where``."""
    try:
        return seconds(value)
    except ValueError as exc:
        raise error(f"{where}: {exc}") from None


@dataclass(frozen=True, slots=True)
class Condition:
    source: str
    program: Any  # compiled CEL
    variables: frozenset[str]

    def holds(self, context: Mapping[str, Any]) -> bool:
        """A condition over missing data does not hold (``customer.tier`` of an unknown
        caller), rather than failing the whole decision."""
        try:
            return self.program.execute(context) is True
        except Exception:
            return False


def condition(source: str, where: str, allowed: frozenset[str],
              error: type[ValueError] = ValueError) -> Condition:
    """Compile a CEL condition, refusing bad syntax and variables outside ``allowed``."""
    try:
        program = cel.compile(source)
    except ValueError as exc:
        reason = str(exc).splitlines()
        raise error(f"{where}: invalid CEL: {' '.join(r.strip() for r in reason)}") from exc
    variables = frozenset(program.variables()) - frozenset(_BOUND.findall(source))
    unknown = sorted(variables - allowed)
    if unknown:
        raise error(f"{where}: unknown variable '{unknown[0]}' "
                    f"(available here: {', '.join(sorted(allowed))})")
    return Condition(source, program, variables)
