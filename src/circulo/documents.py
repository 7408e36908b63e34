"""Configuration documents people write (routing policies, scenarios, journeys): where an
error is (``line 12: queues.general.steps[0]`` for YAML text, the path for JSON), and the
values every such document uses. Pure."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import cel

from circulo import yaml_files

_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$")
_UNITS = {None: 1.0, "ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_UNDEFINED = re.compile(r"Undefined variable or function: '([^']+)'")
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


class RuleErrors:
    """How often a condition failed to evaluate, and the last reason: a manager's rule with
    a type error would otherwise be silently false forever. Kept with the compiled rule (so
    per process, since the document was loaded); the lock is taken only on a failure."""

    __slots__ = ("_lock", "count", "last")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0
        self.last: str | None = None

    def add(self, reason: str) -> None:
        with self._lock:
            self.count += 1
            self.last = reason


@dataclass(frozen=True, slots=True)
class Condition:
    source: str
    program: Any  # compiled CEL
    variables: frozenset[str]
    where: str = ""  # the rule's place in its document: ``line 7: queues.general.priority[0]``
    errors: RuleErrors = field(default_factory=RuleErrors, compare=False, repr=False)

    def holds(self, context: Mapping[str, Any]) -> bool:
        """A condition over missing data does not hold (``customer.tier`` of an unknown
        caller), rather than failing the whole decision; any other failure (a type error)
        does not hold either, and is counted on the rule."""
        return self.evaluate(context)[0]

    def evaluate(self, context: Mapping[str, Any]) -> tuple[bool, str | None]:
        """Whether it holds, and why it could not be evaluated (None for missing data)."""
        try:
            return self.program.execute(context) is True, None
        except Exception as exc:
            if missing_data(exc, self.variables):
                return False, None
            reason = f"{type(exc).__name__}: {exc}"[:500]
            self.errors.add(reason)
            return False, reason


@dataclass(frozen=True, slots=True)
class RuleErrorReport:
    """A rule that failed to evaluate: where it is, its text, how often, the last reason."""

    rule: str
    condition: str
    errors: int
    last_error: str | None


def error_report(conditions: Iterable[Condition]) -> list[RuleErrorReport]:
    return [RuleErrorReport(c.where, c.source, c.errors.count, c.errors.last)
            for c in conditions if c.errors.count]


def missing_data(exc: Exception, variables: frozenset[str] = frozenset()) -> bool:
    """CEL failures that only mean "this customer (event, task) has no such field": a key or
    list item that is not there, or a variable the context does not carry."""
    if isinstance(exc, KeyError | IndexError):
        return True
    match = _UNDEFINED.search(str(exc))
    return match is not None and match.group(1) in variables


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
    return Condition(source, program, variables, where)
