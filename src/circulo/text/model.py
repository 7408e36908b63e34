"""What reading a customer's message yields: the typed result every analyser returns and the
interface callers use (ingest's analysis worker, the API, routing, journeys). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

SentimentLabel = Literal["negative", "neutral", "positive"]
SENTIMENT_LABELS: tuple[SentimentLabel, ...] = ("negative", "neutral", "positive")
LANGUAGES = ("es", "en")
UNKNOWN_LANGUAGE = "und"  # BCP 47 "undetermined": empty text, emoji only, too short to tell
# Why a message is urgent, as stable codes (labels for people live in the catalogues).
URGENCY_REASONS = ("churn_threat", "legal_threat", "fraud", "safety", "shouting", "repetition",
                   "insult")


@dataclass(frozen=True, slots=True)
class Sentiment:
    label: SentimentLabel
    score: float  # signed strength in [-1, 1]: -1 very negative, 0 neutral, 1 very positive


@dataclass(frozen=True, slots=True)
class Urgency:
    urgent: bool
    reasons: tuple[str, ...]  # codes from URGENCY_REASONS, in that order


@dataclass(frozen=True, slots=True)
class Intent:
    name: str | None  # a configured contact reason, or None when none is confident enough
    confidence: float  # in [0, 1]
    queue: str | None = None  # where the reason's configuration sends it
    skill: str | None = None


@dataclass(frozen=True, slots=True)
class Analysis:
    language: str  # "es", "en" or UNKNOWN_LANGUAGE
    sentiment: Sentiment
    urgency: Urgency
    intent: Intent
    redacted: str  # the text as analysed and stored: personal data masked
    engine: str  # which analyser produced it, e.g. "lexicon-1"

    def as_dict(self) -> dict[str, Any]:
        """The public shape (``POST /v1/text/analyze`` and what is stored on an event)."""
        return {
            "language": self.language,
            "sentiment": {"label": self.sentiment.label, "score": round(self.sentiment.score, 3)},
            "urgency": {"urgent": self.urgency.urgent, "reasons": list(self.urgency.reasons)},
            "intent": {"name": self.intent.name, "confidence": round(self.intent.confidence, 3),
                       "queue": self.intent.queue, "skill": self.intent.skill},
            "redacted": self.redacted,
            "engine": self.engine,
        }


class Analyzer(Protocol):
    """Anything that reads a message. ``language`` forces the language instead of detecting
    it. Must never raise on any ``str`` (empty, emoji only, 100 KB, mixed languages)."""

    name: str

    def analyze(self, text: str, *, language: str | None = None) -> Analysis: ...
