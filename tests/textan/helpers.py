"""An analyser for the worker's tests: plain keyword rules, so a test knows what each message
must yield, and a message containing ``POISON`` raises (the fault the worker must survive).
The real engine is exercised by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from circulo.context import AppContext
from circulo.ingest import service as ingest
from circulo.ingest.schemas import IngestResult
from circulo.text.model import Analysis, Intent, Sentiment, Urgency


class KeywordAnalyzer:
    name = "keywords-test"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def analyze(self, text: str, *, language: str | None = None) -> Analysis:
        self.seen.append(text)
        low = text.lower()
        if "poison" in low:
            raise ValueError("this message breaks the analyser")
        negative = any(w in low for w in ("furioso", "angry", "vergüenza", "fatal"))
        positive = any(w in low for w in ("gracias", "thanks", "genial"))
        reasons = tuple(r for r, words in (("churn_threat", ("baja", "cancel")),
                                           ("legal_threat", ("abogado", "lawyer")))
                        if any(w in low for w in words))
        intent = Intent("credit_limit", 0.9, "tarjetas", None) if "límite" in low \
            else Intent(None, 0.1)
        score = -0.8 if negative else 0.7 if positive else 0.0
        label = "negative" if negative else "positive" if positive else "neutral"
        return Analysis(language or ("en" if "the" in low.split() else "es"),
                        Sentiment(label, score), Urgency(bool(reasons), reasons), intent,
                        text.replace("4111 1111 1111 1111", "[CARD]"), self.name)


def send(ctx: AppContext, events: Sequence[dict[str, Any]], now: datetime | None = None
         ) -> IngestResult:
    with ctx.db.unit_of_work() as session:
        return ingest.ingest(session, {"events": list(events)}, settings=ctx.settings,
                             policies=ctx.policies, now=now or ctx.clock.now(), actor="test")


def chat(text: Any, email: str = "ana@example.com", **extra: Any) -> dict[str, Any]:
    return {"type": "chat.message", "source": "web", "channel": "chat",
            "identifiers": {"email": email}, "properties": {"text": text}, **extra}
