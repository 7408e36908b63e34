"""The shape of the configuration documents people write (routing policies, scenarios,
journeys, inbound mappings, card templates) as pydantic models, and the one mapping from a
pydantic error to ``file: line N: path: reason``. Pure.

Each document's models say which fields exist (``extra="forbid"``: a misspelt field is an
error, not ignored), their types (``strict``: ``"5"`` is not a number, ``"no"`` is not false)
and the checks a single value can make; what needs the rest of the document (an unknown queue,
a skill the policy does not declare) is checked after, by the module that builds the document.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, TypeVar, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from circulo.documents import Where, seconds


class Doc(BaseModel):
    """A part of a document: unknown fields and loose types are refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    field_kind: ClassVar[str] = "field"  # what an unknown key is called: field, action...


D = TypeVar("D", bound=BaseModel)


def check(holds: Callable[[Any], bool], reason: str) -> AfterValidator:
    """A check of one value, refused with ``reason`` (``Annotated[int, check(...)]``)."""

    def validate(value: Any) -> Any:
        if not holds(value):
            raise PydanticCustomError("invalid", reason)
        return value

    return AfterValidator(validate)


def between(low: float, high: float) -> AfterValidator:
    return check(lambda v: low <= v <= high, f"must be between {low:g} and {high:g}")


def one_of(what: str, options: tuple[str, ...]) -> AfterValidator:
    def validate(value: str) -> str:
        if value not in options:
            raise PydanticCustomError("unknown", f"unknown {what} {value!r} (expected one of "
                                      f"{', '.join(options)})")
        return value

    return AfterValidator(validate)


def _cel_text(value: Any) -> Any:
    if isinstance(value, bool):  # ``when: true``
        return str(value).lower()
    if not isinstance(value, str) or not value.strip():
        raise PydanticCustomError("cel", "expected a CEL expression")
    return value


# Seconds, written as 30, "30s", "2m", "4h" or "1d"; never negative.
Duration = Annotated[float, BeforeValidator(seconds)]
PositiveDuration = Annotated[float, BeforeValidator(seconds),
                             check(lambda v: v > 0, "must be longer than zero")]
# A CEL expression, compiled (with the variables allowed where it stands) by the builder.
CelText = Annotated[str, BeforeValidator(_cel_text)]


def validate(model: type[D], data: Any, where: Where, error: type[ValueError]) -> D:
    """``data`` as ``model``, or ``error`` naming the line and the field of the first
    problem (``where`` knows the lines of a YAML document; for JSON it names the path)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(explain(exc.errors(include_url=False), model, data, where)) from None


def explain(problems: list[ErrorDetails], model: type[BaseModel], data: Any,
            where: Where) -> str:
    """``where: reason`` for the first problem: the place in the document its location leads
    to, and its reason in the documents' own words. A value that may be one of several kinds
    (a rate or a list of rates) fails once per kind: the kind it is tells what is wrong."""
    first = problems[0]
    path, union_at = _place(first["loc"], data, first["type"])
    if union_at is not None:
        prefix = tuple(first["loc"][:union_at])
        alike = [p for p in problems if tuple(p["loc"][:union_at]) == prefix]
        first = next((p for p in alike if not p["type"].endswith("_type")), first)
        path, _ = _place(first["loc"], data, first["type"])
    return f"{where(*path)}: {_reason(first, model, tuple(first['loc']))}"


def _place(loc: tuple[Any, ...], data: Any, kind: str) -> tuple[list[Any], int | None]:
    """The document path of a pydantic location (which also names the members of unions),
    and where the first such name was (a missing field's name is no such name)."""
    path: list[Any] = []
    union_at = None
    node = data
    for index, part in enumerate(loc):
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            if union_at is None and (index < len(loc) - 1 or kind != "missing"):
                union_at = index
            continue
        path.append(part)
    return path, union_at


def _reason(problem: ErrorDetails, model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    kind = problem["type"]
    if kind == "missing":
        field = _fields(model, loc[:-1])[1].get(str(loc[-1]))
        about = f" ({field})" if field else ""
        return f"needs '{loc[-1]}'{about}"
    if kind == "extra_forbidden":
        what, fields = _fields(model, loc[:-1])
        names = sorted(fields)
        return f"unknown {what}" + (f" (expected one of {', '.join(names)})" if names else "")
    if kind in ("value_error", "assertion_error"):
        return str(problem["msg"]).split(", ", 1)[-1]
    fixed = {"int_type": "expected a whole number", "int_parsing": "expected a whole number",
             "int_from_float": "expected a whole number", "float_type": "expected a number",
             "float_parsing": "expected a number", "bool_type": "expected true or false",
             "bool_parsing": "expected true or false", "string_type": "expected text",
             "dict_type": "expected a mapping", "model_type": "expected a mapping",
             "model_attributes_type": "expected a mapping", "list_type": "expected a list",
             "tuple_type": "expected a list", "literal_error": "expected one of "
             + str((problem.get("ctx") or {}).get("expected", "")).replace("'", "")
             .replace(" or ", ", ")}
    if kind in fixed:
        return fixed[kind]
    message = str(problem["msg"])
    return message[:1].lower() + message[1:]


def _fields(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[str, dict[str, str]]:
    """What the keys of the model at ``loc`` are called, and its fields (by the name written
    in documents) with their descriptions; none when the location leads to no model."""
    annotation: Any = model
    for part in loc:
        annotation = _inside(annotation, part)
    target = _unwrap(annotation)
    if not (isinstance(target, type) and issubclass(target, BaseModel)):
        return "field", {}
    return getattr(target, "field_kind", "field"), {
        info.alias or name: info.description or ""
        for name, info in target.model_fields.items()}


def _unwrap(annotation: Any) -> Any:
    """``X`` from ``Annotated[X, ...]`` and from ``X | None``."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _inside(annotation: Any, part: Any) -> Any:
    annotation = _unwrap(annotation)
    if get_origin(annotation) in (Union, types.UnionType):  # pydantic names the member
        return next((a for a in get_args(annotation)
                     if getattr(a, "__name__", None) == part), None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, info in annotation.model_fields.items():
            if (info.alias or name) == part:
                return info.annotation
        return None
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (list, tuple) and args and isinstance(part, int):
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None
