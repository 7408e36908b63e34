"""Card templates and card rendering. Pure: takes the profile's data, returns the card.

Templates come from a YAML file (``card_templates.yaml`` here, or ``CIRCULO_CARD_TEMPLATES``).
They are checked when loaded: unknown fields, indicators or badges, and CEL rules that do not
compile, are refused with the file and the reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import cel
from pydantic import Field

from circulo import docmodels, yaml_files
from circulo.customers.traits import WELL_KNOWN
from circulo.docmodels import CelText, Doc, between
from circulo.documents import Where
from circulo.i18n import t

log = logging.getLogger(__name__)
DEFAULT_TEMPLATES = Path(__file__).with_name("card_templates.yaml")


class TemplateError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Badge:
    code: str
    label: dict[str, str]
    tone: str
    rule: Any  # compiled CEL program
    source: str


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    title: dict[str, str]
    fields: tuple[str, ...]
    indicators: tuple[str, ...]
    badges: tuple[str, ...]
    records: tuple[str, ...]
    history: int


@dataclass(frozen=True, slots=True)
class Templates:
    fields: dict[str, dict[str, str]]
    indicators: dict[str, tuple[dict[str, str], tuple[str, ...]]]
    badges: dict[str, Badge]
    roles: dict[str, Role]


class Label(Doc):
    es: str
    en: str


class FieldDoc(Doc):
    label: Label


class IndicatorDoc(Doc):
    label: Label
    path: str = Field(description="where in the indicators, e.g. contacts.30d.total")


class BadgeDoc(Doc):
    label: Label
    tone: str = "grey"
    when: CelText = Field(description="the CEL rule that shows the badge")


class RoleDoc(Doc):
    title: Label
    fields: list[str] | None = None
    indicators: list[str] | None = None
    badges: list[str] | None = None
    records: list[str] | None = None
    history: Annotated[int, between(0, 100)] = 5


class TemplatesDoc(Doc):
    fields: dict[str, FieldDoc] | None = None
    indicators: dict[str, IndicatorDoc] | None = None
    badges: dict[str, BadgeDoc] | None = None
    roles: dict[str, RoleDoc] | None = None


def _labels(label: Label) -> dict[str, str]:
    return {"es": label.es, "en": label.en}


def load_templates(path: Path | None = None) -> Templates:
    """The card templates of a YAML file; errors say ``file: line N: path: reason``."""
    path = path or DEFAULT_TEMPLATES
    try:
        document = yaml_files.load_file(path)
    except (OSError, yaml_files.YamlError) as exc:
        raise TemplateError(f"{path}: cannot read card templates: {exc}") from exc
    where = Where(document.lines, f"{path}: ")
    if not isinstance(document.data, dict):
        raise TemplateError(f"{path}: expected a mapping with fields, indicators, badges, roles")
    doc = docmodels.validate(TemplatesDoc, document.data, where, TemplateError)
    fields = {k: _labels(v.label) for k, v in (doc.fields or {}).items()}
    indicators = {k: (_labels(v.label), tuple(v.path.split(".")))
                  for k, v in (doc.indicators or {}).items()}
    badges = {}
    for code, spec in (doc.badges or {}).items():
        try:
            rule = cel.compile(spec.when)
        except ValueError as exc:
            raise TemplateError(f"{where('badges', code, 'when')}: {exc}") from exc
        badges[code] = Badge(code, _labels(spec.label), spec.tone, rule, spec.when)
    roles = {}
    for name, role_doc in (doc.roles or {}).items():
        role = Role(
            name=name, title=_labels(role_doc.title), fields=tuple(role_doc.fields or ()),
            indicators=tuple(role_doc.indicators or ()), badges=tuple(role_doc.badges or ()),
            records=tuple(role_doc.records or ()), history=role_doc.history,
        )
        for kind, known in (("fields", fields), ("indicators", indicators),
                            ("badges", badges)):
            missing = [x for x in getattr(role, kind) if x not in known]
            if missing:
                raise TemplateError(f"{where('roles', name, kind)}: unknown {missing}")
        roles[name] = role
    if not roles:
        raise TemplateError(f"{where('roles')}: no roles defined")
    return Templates(fields, indicators, badges, roles)


def customer_age_days(traits: dict[str, Any], indicators: dict[str, Any], created_at: datetime,
                      now: datetime) -> int:
    """Days since the customer relationship began: ``customer_since`` (from the CRM) if
    known, else the first event Círculo saw about them, else when the profile was created."""
    since = traits.get("customer_since")
    if isinstance(since, str):
        try:
            start = datetime.fromisoformat(since)
            start = start if start.tzinfo else start.replace(tzinfo=UTC)
            return (now - start).days
        except ValueError:
            pass
    first = indicators.get("first_event_at")
    if isinstance(first, str):
        return (now - datetime.fromisoformat(first)).days
    return (now - created_at).days


def _path(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def evaluate_badges(templates: Templates, codes: tuple[str, ...], traits: dict[str, Any],
                    indicators: dict[str, Any], customer: dict[str, Any], lang: str
                    ) -> list[dict[str, str]]:
    # One CEL context per card: converting the variables once is ~9x cheaper than per rule.
    context = cel.Context(variables={
        "traits": {**dict.fromkeys(WELL_KNOWN), **traits},
        "indicators": indicators,
        "customer": customer,
    })
    out = []
    for code in codes:
        badge = templates.badges[code]
        try:
            hit = badge.rule.execute(context) is True
        except Exception:  # a rule over data this customer lacks is simply not met
            hit = False
        if hit:
            out.append({"code": code, "label": badge.label[lang], "tone": badge.tone})
    return out


def render(
    templates: Templates,
    role_name: str,
    lang: str,
    *,
    customer_id: str,
    created_at: datetime,
    traits: dict[str, Any],
    indicators: dict[str, Any],
    open_records: list[dict[str, Any]],
    history: list[dict[str, Any]],
    links: dict[str, str],
    now: datetime,
) -> dict[str, Any]:
    role = templates.roles[role_name]
    customer = {"id": customer_id,
                "age_days": customer_age_days(traits, indicators, created_at, now)}
    kind_rank = {kind: i for i, kind in enumerate(role.records)}
    shown_records = sorted(
        (r for r in open_records if r["kind"] in kind_rank),
        key=lambda r: (kind_rank[r["kind"]], r["updated_at"]),
    )
    return {
        "customer_id": customer_id,
        "role": role.name,
        "role_title": role.title[lang],
        "language": lang,
        "name": traits.get("name") or " ".join(
            str(traits[k]) for k in ("first_name", "last_name") if traits.get(k)) or None,
        "greeting": greeting(traits, lang),
        "badges": evaluate_badges(templates, role.badges, traits, indicators, customer, lang),
        "fields": [
            {"key": f, "label": templates.fields[f][lang], "value": traits.get(f)}
            for f in role.fields if f != "name" and traits.get(f) not in (None, "")
        ],
        "indicators": [
            {"key": k, "label": templates.indicators[k][0][lang],
             "value": _localised_value(k, _path(indicators, templates.indicators[k][1]), lang)}
            for k in role.indicators
        ],
        "open_records": [_record_view(r, lang) for r in shown_records],
        "history": [_history_view(h, lang) for h in history[: role.history]],
        "links": links,
    }


def _localised_value(key: str, value: Any, lang: str) -> Any:
    if key == "open_records" and isinstance(value, dict):
        return [{"kind": k, "label": t(f"record.{k}", lang), "count": n}
                for k, n in sorted(value.items())]
    if key == "sentiment_trend" and isinstance(value, str):
        return t(f"trend.{value}", lang, value)
    if key == "last_negative_channel" and isinstance(value, str):
        return t(f"channel.{value}", lang, value)
    return value


def _record_view(record: dict[str, Any], lang: str) -> dict[str, Any]:
    return {
        "kind": record["kind"], "kind_label": t(f"record.{record['kind']}", lang),
        "key": record["key"], "status": record["status"],
        "status_label": t(f"status.{record['status']}", lang, record["status"]),
        "title": record.get("title"), "amount": record.get("amount"),
        "currency": record.get("currency"), "since": record["opened_at"],
        "updated_at": record["updated_at"],
    }


def _history_view(event: dict[str, Any], lang: str) -> dict[str, Any]:
    return {
        "at": event["occurred_at"], "type": event["type"],
        "label": t(f"event.{event['type']}", lang, event["type"]),
        "channel": event.get("channel"),
        "channel_label": t(f"channel.{event['channel']}", lang) if event.get("channel") else None,
        "reason": event.get("reason"),
    }


def greeting(traits: dict[str, Any], lang: str) -> str | None:
    """How the agent addresses the customer: preferred name, else title + last name."""
    if traits.get("preferred_name"):
        return str(traits["preferred_name"])
    title, last = traits.get("title"), traits.get("last_name")
    if title and last:
        return f"{title} {last}"
    return None


def new_caller_card(lang: str) -> dict[str, Any]:
    return {
        "customer_id": None, "name": None, "language": lang,
        "badges": [{"code": "new_caller", "label": t("card.new_caller", lang), "tone": "blue"}],
        "hint": t("card.new_caller.hint", lang),
        "fields": [], "indicators": [], "open_records": [], "history": [], "links": {},
    }
