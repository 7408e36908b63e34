"""Bounds on the shape of free-form JSON a client sends (traits, properties, attributes). Pure.

What the schema cannot say about ``dict[str, Any]`` and what would otherwise fail later, inside
a transaction, for the whole batch: nesting deeper than the serialiser takes (orjson stops at
255 levels), integers beyond 64 bits (neither orjson nor PostgreSQL's jsonb round-trips them),
NUL characters (PostgreSQL cannot store them), and keys too long to be names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime

MAX_DEPTH = 32
# Moments a contact center can mean: converting year 1 with a positive offset to UTC overflows.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200
MAX_KEY_LENGTH = 200
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True, slots=True)
class ShapeProblem:
    field: str
    code: str
    detail: str


def _join(path: str, step: object) -> str:
    return f"{path}.{step}" if path else str(step)


def _fine(value: Any, max_depth: int, max_key_length: int) -> bool:
    """The common case, fast: no paths are built (ingest checks every event with this)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        kind = type(node)
        if kind is str:
            if "\x00" in node:
                return False
        elif kind is dict:
            if depth >= max_depth:
                return False
            for key, child in node.items():
                if type(key) is not str or len(key) > max_key_length or "\x00" in key:
                    return False
                if type(child) in (dict, list, str, int):
                    push((child, depth + 1))
        elif kind is list:
            if depth >= max_depth:
                return False
            for child in node:
                if type(child) in (dict, list, str, int):
                    push((child, depth + 1))
        elif kind is int and not INT_MIN <= node <= INT_MAX:
            return False
        elif kind not in (int, float, bool, type(None)):
            return False  # another type (a subclass): let the full check decide
    return True


def check(value: Any, *, path: str = "", max_depth: int = MAX_DEPTH,
          max_key_length: int = MAX_KEY_LENGTH) -> ShapeProblem | None:
    """The first problem found (depth first, in document order), or None. Iterative: a
    pathological depth cannot exhaust the interpreter's stack."""
    if _fine(value, max_depth, max_key_length):
        return None
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        node, where, depth = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return ShapeProblem(where, "nul_character",
                                    "text may not contain the NUL character (\\u0000)")
        elif isinstance(node, bool) or node is None or isinstance(node, float):
            continue
        elif isinstance(node, int):
            if not INT_MIN <= node <= INT_MAX:
                return ShapeProblem(where, "integer_out_of_range",
                                    "integers must fit in 64 bits (send larger numbers as text)")
        elif isinstance(node, dict | list):
            if depth >= max_depth:
                return ShapeProblem(where, "too_deep",
                                    f"objects and lists may be nested at most {max_depth} deep")
            if isinstance(node, dict):
                children: list[tuple[Any, str]] = []
                for key, child in node.items():
                    key_text = str(key)
                    child_path = _join(where, key_text)
                    if "\x00" in key_text:
                        return ShapeProblem(child_path.replace("\x00", "\\u0000"),
                                            "nul_character",
                                            "keys may not contain the NUL character (\\u0000)")
                    if len(key_text) > max_key_length:
                        return ShapeProblem(_join(where, key_text[:40] + "…"), "key_too_long",
                                            f"keys are at most {max_key_length} characters")
                    children.append((child, child_path))
            else:
                children = [(child, _join(where, i)) for i, child in enumerate(node)]
            stack.extend((child, child_path, depth + 1)
                         for child, child_path in reversed(children))
    return None


def _validated(value: Any) -> Any:
    problem = check(value)
    if problem is not None:
        where = f" at '{problem.field}'" if problem.field else ""
        raise ValueError(f"{problem.detail}{where}")
    return value


# A free-form JSON object whose shape is bounded; use it for every ``dict[str, Any]`` input.
JsonObject = Annotated[dict[str, Any], AfterValidator(_validated)]


def _in_range(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC) if value.tzinfo is not None else value
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST_YEAR <= utc.year <= LATEST_YEAR:
        raise ValueError(f"dates must fall between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


# A date and time a client sends, range-checked so that no later arithmetic can overflow.
Moment = Annotated[datetime, AfterValidator(_in_range)]
AwareMoment = Annotated[AwareDatetime, AfterValidator(_in_range)]
