"""The one YAML loader for every document people write (routing policies, scenarios, journeys,
inbound mappings, card templates, CRM connectors), from the API or from disk. Pure.

YAML is read as the JSON-shaped data these documents are, and nothing more:

- no anchors or aliases: refused at the first ``&`` or ``*``, before anything is expanded
  (a few hundred bytes of nested aliases otherwise stand for billions of nodes);
- no duplicate keys (otherwise the last silently wins), and keys are always text, as in JSON;
- the YAML 1.2 core schema: ``true``/``false`` are the only booleans, so ``no``, ``yes``,
  ``on``, ``off``, ``y`` and ``n`` stay text (an agent speaking Norwegian speaks "no"), and
  ``16:00`` or ``2024-05-01`` stay text too; only null, booleans, integers that fit in 64
  bits, finite numbers, text, lists and mappings, and no other tags;
- at most ``MAX_BYTES`` bytes, ``MAX_NODES`` values and ``MAX_DEPTH`` levels of nesting.

Every refusal names the line (``line 3, column 5: ...``); ``lines`` maps each place in the
document (``("queues", "general", "steps", 0)``) to the line it is written on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent, CollectionStartEvent, NodeEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

MAX_BYTES = 512 * 1024  # far above any real policy or journey (the examples are < 6 KB)
MAX_NODES = 50_000  # values: scalars, lists and mappings
MAX_DEPTH = 32  # nesting of lists and mappings, as for free-form JSON (circulo.jsonshape)
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1

_Parser: type[Any]
try:  # libyaml reads the events several times faster; composing (where the limits are) stays
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _PurePythonParser(Reader, Scanner, Parser):
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)

    _Parser = _PurePythonParser


class YamlError(ValueError):
    """A document refused: ``line`` and ``column`` (1-based) when the place is known."""

    def __init__(self, reason: str, line: int | None = None, column: int | None = None) -> None:
        self.reason, self.line, self.column = reason, line, column
        place = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(f"{place}{reason}")


@dataclass(frozen=True, slots=True)
class YamlDocument:
    data: Any  # None for an empty document
    lines: dict[tuple[Any, ...], int]  # place -> line (a key's line for a mapping entry)


class _StrictComposer(Composer):
    """Composes nodes while counting them, and refuses anchors and aliases on sight."""

    peek_event: Callable[[], Any]  # the parser's, further along the class's bases

    def __init__(self) -> None:
        Composer.__init__(self)
        self.node_count = 0
        self.depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        mark: Any = event.start_mark  # libyaml's marks or PyYAML's, alike
        if isinstance(event, AliasEvent) or (isinstance(event, NodeEvent)
                                             and event.anchor is not None):
            raise ConstructorError(None, None, "anchors (&) and aliases (*) are not allowed "
                                   "(write the value out)", mark)
        self.node_count += 1
        if self.node_count > MAX_NODES:
            raise ConstructorError(None, None, f"more than {MAX_NODES} values in one "
                                   "document", mark)
        if not isinstance(event, CollectionStartEvent):
            return Composer.compose_node(self, parent, index)
        if self.depth >= MAX_DEPTH:
            raise ConstructorError(None, None, f"lists and mappings nested more than "
                                   f"{MAX_DEPTH} deep", mark)
        self.depth += 1
        try:
            return Composer.compose_node(self, parent, index)
        finally:
            self.depth -= 1


class _CoreConstructor(SafeConstructor):
    """The YAML 1.2 core schema, as JSON-compatible values; keys are text."""

    def construct_mapping(self, node: MappingNode, deep: bool = False
                          ) -> dict[Hashable, Any]:
        mapping: dict[Hashable, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise ConstructorError(None, None, "a key must be text",
                                       key_node.start_mark)
            key = key_node.value
            if key in mapping:
                raise ConstructorError(None, None, f"duplicate key '{key}' (it already "
                                       "appears above in this mapping)", key_node.start_mark)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_core_null(self, node: ScalarNode) -> None:
        return None

    def construct_core_bool(self, node: ScalarNode) -> bool:
        value = str(node.value).lower()
        if value not in ("true", "false"):
            raise ConstructorError(None, None, f"not a boolean: {node.value!r}",
                                   node.start_mark)
        return value == "true"

    def construct_core_int(self, node: ScalarNode) -> int:
        text = node.value
        try:
            if text.startswith("0o"):
                value = int(text[2:], 8)
            elif text.startswith("0x"):
                value = int(text[2:], 16)
            else:
                value = int(text, 10)
        except ValueError:
            raise ConstructorError(None, None, f"not an integer: {text[:40]!r}",
                                   node.start_mark) from None
        if not _INT_MIN <= value <= _INT_MAX:
            raise ConstructorError(None, None, "integers must fit in 64 bits (quote larger "
                                   "numbers as text)", node.start_mark)
        return value

    def construct_core_float(self, node: ScalarNode) -> float:
        try:
            value = float(node.value.lower().replace(".inf", "inf").replace(".nan", "nan"))
        except ValueError:
            raise ConstructorError(None, None, f"not a number: {node.value[:40]!r}",
                                   node.start_mark) from None
        if not math.isfinite(value):
            raise ConstructorError(None, None, "infinity and NaN are not numbers a document "
                                   "may hold", node.start_mark)
        return value

    def construct_core_str(self, node: ScalarNode) -> str:
        value: str = node.value
        if "\x00" in value:
            raise ConstructorError(None, None, "text may not contain the NUL character",
                                   node.start_mark)
        return value

    def construct_undefined(self, node: Node) -> Any:
        raise ConstructorError(None, None, f"the tag {node.tag} is not allowed (only text, "
                               "numbers, true/false, null, lists and mappings)",
                               node.start_mark)


_CoreConstructor.yaml_constructors = {
    "tag:yaml.org,2002:null": _CoreConstructor.construct_core_null,
    "tag:yaml.org,2002:bool": _CoreConstructor.construct_core_bool,
    "tag:yaml.org,2002:int": _CoreConstructor.construct_core_int,
    "tag:yaml.org,2002:float": _CoreConstructor.construct_core_float,
    "tag:yaml.org,2002:str": _CoreConstructor.construct_core_str,
    "tag:yaml.org,2002:seq": SafeConstructor.construct_yaml_seq,
    "tag:yaml.org,2002:map": SafeConstructor.construct_yaml_map,
    None: _CoreConstructor.construct_undefined,
}


class _CoreResolver(Resolver):
    """Plain scalars resolve as in the YAML 1.2 core schema (yaml.org/spec/1.2.2 10.3)."""

    yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 - PyYAML's registry


_CoreResolver.add_implicit_resolver("tag:yaml.org,2002:null",
                                    re.compile(r"^(?:~|null|Null|NULL|)$"),
                                    ["~", "n", "N", ""])
_CoreResolver.add_implicit_resolver("tag:yaml.org,2002:bool",
                                    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                    list("tTfF"))
_CoreResolver.add_implicit_resolver("tag:yaml.org,2002:int",
                                    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
                                    list("-+0123456789"))
_CoreResolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))


class _StrictLoader(_StrictComposer, _Parser, _CoreConstructor, _CoreResolver):  # type: ignore[misc]
    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        _StrictComposer.__init__(self)
        _CoreConstructor.__init__(self)
        _CoreResolver.__init__(self)


def _lines(root: Node) -> dict[tuple[Any, ...], int]:
    """Each place's line; a mapping entry's is its key's. Iterative (the tree is bounded,
    but a walk should not lean on the interpreter's stack)."""
    out: dict[tuple[Any, ...], int] = {}
    stack: list[tuple[Node, tuple[Any, ...], int]] = [(root, (), root.start_mark.line + 1)]
    while stack:
        node, path, line = stack.pop()
        out[path] = line
        if isinstance(node, MappingNode):
            stack.extend((value, (*path, key.value), key.start_mark.line + 1)
                         for key, value in node.value)
        elif isinstance(node, SequenceNode):
            stack.extend((item, (*path, i), item.start_mark.line + 1)
                         for i, item in enumerate(node.value))
    return out


def load(text: str | bytes) -> YamlDocument:
    """Read one YAML document under the rules above, or raise ``YamlError``."""
    if len(text) > MAX_BYTES or (isinstance(text, str) and len(text.encode()) > MAX_BYTES):
        raise YamlError(f"the document is larger than {MAX_BYTES // 1024} KB")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise YamlError("the document is not UTF-8 text") from exc
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(None, {})
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = " ".join(str(exc.problem or exc.context).split())
        if not isinstance(exc, ConstructorError):  # the text is not YAML at all
            reason = f"not valid YAML: {reason}"
        if mark is None:
            raise YamlError(reason) from exc
        raise YamlError(reason, mark.line + 1, mark.column + 1) from exc
    except yaml.YAMLError as exc:
        raise YamlError(f"not valid YAML: {' '.join(str(exc).split())}") from exc
    finally:
        loader.dispose()
    return YamlDocument(data, _lines(node))


def load_file(path: Path) -> YamlDocument:
    """A document from disk; ``OSError`` if it cannot be read, ``YamlError`` if refused."""
    if path.stat().st_size > MAX_BYTES:
        raise YamlError(f"the document is larger than {MAX_BYTES // 1024} KB")
    return load(path.read_bytes())


def load_section(path: Path, key: str, what: str, error: type[ValueError]) -> dict[Any, Any]:
    """The mapping under ``key`` of a YAML file, or ``error`` naming the file and the reason."""
    try:
        raw = load_file(path).data
    except (OSError, YamlError) as exc:
        raise error(f"{path}: cannot read {what}: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get(key), dict):
        raise error(f"{path}: expected a mapping with '{key}'")
    section: dict[Any, Any] = raw[key]
    return section
