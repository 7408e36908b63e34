"""Declarative mappings from any system's webhook JSON to Círculo events. Pure.

A mapping file names sources; each source has rules. A rule has an optional CEL condition
over ``payload`` and a template: strings starting with ``$`` are JSONPath-style paths into
the payload (``$.ticket.requester.email``, ``$.items[0].sku``), anything else is literal.
The first rule whose condition holds maps the item (docs/inbound-webhooks.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cel
import orjson
from pydantic import Field

from circulo import docmodels, yaml_files
from circulo.docmodels import CelText, Doc
from circulo.documents import Where
from circulo.ingest.signatures import Signing, SigningError, load_signing
from circulo.jsonpath import MISSING, JsonPath, PathError
from circulo.jsonpath import compile_path as _compile_path

TEMPLATE_FIELDS = {"type", "id", "occurred_at", "channel", "identifiers", "traits",
                   "properties", "record", "consent"}


class MappingError(ValueError):
    pass


def compile_path(text: str, where: str) -> JsonPath:
    try:
        return _compile_path(text, where)
    except PathError as exc:
        raise MappingError(str(exc)) from exc


def _compile_template(value: Any, where: str) -> Any:
    if isinstance(value, str) and value.startswith("$"):
        return compile_path(value, where)
    if isinstance(value, dict):
        return {k: _compile_template(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_compile_template(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _render(template: Any, payload: Any) -> Any:
    if isinstance(template, JsonPath):
        return template.get(payload)
    if isinstance(template, dict):
        rendered = {k: _render(v, payload) for k, v in template.items()}
        return {k: v for k, v in rendered.items() if v is not MISSING and v is not None}
    if isinstance(template, list):
        return [v for v in (_render(t, payload) for t in template) if v is not MISSING]
    return template


@dataclass(frozen=True, slots=True)
class Rule:
    where: str
    condition: Any | None  # compiled CEL
    template: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SourceMapping:
    name: str
    source: str
    items: JsonPath | None
    rules: tuple[Rule, ...]
    signing: Signing | None = None

    def map(self, payload: Any) -> list[tuple[dict[str, Any] | None, str | None]]:
        """Per item: (event envelope, None) or (None, why it could not be mapped).

        An event the rules give no id gets one from the payload's content (its SHA-256,
        keys sorted, and the item's position), so a sender that resends the same delivery
        (at-least-once) does not record it twice."""
        if self.items is not None:
            found = self.items.get(payload)
            if not isinstance(found, list):
                return [(None, f"items path {self.items.text} is not a list in this payload")]
            items: list[Any] = found
        else:
            items = [payload]
        mapped = [self._map_one(item) for item in items]
        if any(event is not None and "id" not in event for event, _ in mapped):
            digest = content_digest(payload)
            for index, (event, _) in enumerate(mapped):
                if event is not None and "id" not in event:
                    event["id"] = f"sha256:{digest}" + (f":{index}" if self.items else "")
        return mapped

    def _map_one(self, item: Any) -> tuple[dict[str, Any] | None, str | None]:
        for rule in self.rules:
            if rule.condition is not None:
                try:
                    if rule.condition.execute({"payload": item}) is not True:
                        continue
                except Exception:  # noqa: S112 - a condition over missing data does not hold
                    continue
            event = _render(rule.template, item)
            if not isinstance(event.get("type"), str):
                wanted = rule.template["type"]
                shown = wanted.text if isinstance(wanted, JsonPath) else repr(wanted)
                return None, f"{rule.where}.type: {shown} gave no event type"
            event["source"] = self.source
            if "id" in event:
                event["id"] = str(event["id"])
            return event, None
        return None, "no rule matched this payload"


class RuleDoc(Doc):
    """A rule: an optional condition, then the event's template (``$`` paths or literals)."""

    when: CelText | None = None
    type: Any = Field(description="the event type, or a $ path to it")
    id: Any = None
    occurred_at: Any = None
    channel: Any = None
    identifiers: Any = None
    traits: Any = None
    properties: Any = None
    record: Any = None
    consent: Any = None


class SourceDoc(Doc):
    source: str | None = None
    items: str | None = Field(default=None, description="a $ path to the list of items")
    rules: list[RuleDoc]
    signing: dict[str, Any] | None = Field(
        default=None, description="HMAC signing of deliveries (ingest/signatures.py)")


class MappingsDoc(Doc):
    sources: dict[str, SourceDoc]


def content_digest(payload: Any) -> str:
    """SHA-256 of the payload as canonical JSON (keys sorted, no spaces), in hex."""
    canonical = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def load_mappings(path: Path) -> dict[str, SourceMapping]:
    """The mappings of a YAML file; errors say ``file: line N: path: reason``."""
    try:
        document = yaml_files.load_file(path)
    except (OSError, yaml_files.YamlError) as exc:
        raise MappingError(f"{path}: cannot read inbound mappings: {exc}") from exc
    if not isinstance(document.data, dict) or not isinstance(document.data.get("sources"), dict):
        raise MappingError(f"{path}: expected a mapping with 'sources'")
    where = Where(document.lines, f"{path}: ")
    doc = docmodels.validate(MappingsDoc, document.data, where, MappingError)
    result = {}
    for name, spec in doc.sources.items():
        rules = []
        for i, rule in enumerate(spec.rules):
            place = ("sources", name, "rules", i)
            condition = None
            if rule.when:
                try:
                    condition = cel.compile(rule.when)
                except ValueError as exc:
                    raise MappingError(f"{where(*place, 'when')}: {exc}") from exc
            rule_where = f"sources.{name}.rules[{i}]"
            template = {k: _compile_template(getattr(rule, k), where(*place, k))
                        for k in RuleDoc.model_fields  # the order fields are declared in
                        if k in TEMPLATE_FIELDS and k in rule.model_fields_set}
            rules.append(Rule(rule_where, condition, template))
        try:
            signing = load_signing(spec.signing, where("sources", name, "signing")) \
                if spec.signing is not None else None
        except SigningError as exc:
            raise MappingError(str(exc)) from exc
        result[name] = SourceMapping(
            name=name, source=spec.source or name,
            items=compile_path(spec.items, where("sources", name, "items"))
            if spec.items else None,
            rules=tuple(rules), signing=signing,
        )
    return result
