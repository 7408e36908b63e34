"""What a person reads of a message's analysis: the timeline's badges (text and an icon,
never colour alone), in Spanish or English. The intents' names come from the configured
catalogue (``CIRCULO_INTENTS_FILE``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from circulo.config import Settings
from circulo.text import intents

SENTIMENT = {
    "negative": ("☹", {"es": "Negativo", "en": "Negative"}, "red"),
    "neutral": ("◦", {"es": "Neutro", "en": "Neutral"}, "grey"),
    "positive": ("☺", {"es": "Positivo", "en": "Positive"}, "green"),
}
URGENCY = {
    "churn_threat": {"es": "amenaza con irse", "en": "threatens to leave"},
    "legal_threat": {"es": "amenaza legal", "en": "legal threat"},
    "fraud": {"es": "posible fraude", "en": "possible fraud"},
    "safety": {"es": "seguridad", "en": "safety"},
    "shouting": {"es": "grita", "en": "shouting"},
    "repetition": {"es": "insiste", "en": "repeated"},
    "insult": {"es": "insultos", "en": "insults"},
}
URGENT = {"es": "Urgente", "en": "Urgent"}
REASON = {"es": "Motivo", "en": "Reason"}


@dataclass(frozen=True, slots=True)
class Badge:
    kind: str  # sentiment, urgent, intent
    tone: str  # for the stylesheet; the text and icon say the same
    icon: str
    text: str


@lru_cache(maxsize=4)
def _intent_labels(path: Path | None) -> dict[str, dict[str, str]]:
    try:
        catalogue = intents.load(path)
    except intents.IntentsError:
        return {}
    return {item.name: dict(item.label) for item in catalogue.intents}


def intent_label(settings: Settings, name: str, lang: str) -> str:
    labels = _intent_labels(settings.intents_file).get(name) or {}
    return labels.get(lang) or labels.get("en") or name.replace("_", " ")


def badges(analysis: dict[str, Any] | None, settings: Settings, lang: str) -> list[Badge]:
    """The badges of one message's stored analysis (none when not analysed yet)."""
    if not isinstance(analysis, dict):
        return []
    out: list[Badge] = []
    label = (analysis.get("sentiment") or {}).get("label")
    if label in SENTIMENT:
        icon, names, tone = SENTIMENT[label]
        out.append(Badge("sentiment", tone, icon, names[lang]))
    urgency = analysis.get("urgency") or {}
    if urgency.get("urgent") is True:
        reasons = [URGENCY[r][lang] for r in urgency.get("reasons") or [] if r in URGENCY]
        out.append(Badge("urgent", "red", "⚠",
                         URGENT[lang] + (": " + ", ".join(reasons) if reasons else "")))
    name = (analysis.get("intent") or {}).get("name")
    if isinstance(name, str) and name:
        out.append(Badge("intent", "blue", "#",
                         f"{REASON[lang]}: {intent_label(settings, name, lang)}"))
    return out
