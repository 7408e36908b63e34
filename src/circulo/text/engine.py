"""The default analyser, "lexicon-1": fast, always installed, pure.

``default_analyzer(intents)`` reads a message in this order: make it safe and bounded
(``prep``: surrogates, HTML, the first 20,000 characters), mask personal data (``redaction``),
detect the language (``language``: lingua, Spanish or English), then on the redacted text:
sentiment (``sentiment``: lexicon + rules + a linear model shipped with the package), urgency
(``urgency``: seven rules) and the contact reason (``intents``: the configured catalogue).
``analyze`` never raises on a ``str``: a failure in one part (a bug, a pathological input)
yields that part's neutral answer and is logged, never an exception to the ingest path.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from circulo.text import intents as intents_module
from circulo.text import language as lang
from circulo.text import sentiment, urgency
from circulo.text.intents import Catalogue
from circulo.text.model import (
    UNKNOWN_LANGUAGE,
    Analysis,
    Analyzer,
    Intent,
    Sentiment,
    Urgency,
)
from circulo.text.prep import fold, prepare
from circulo.text.redaction import redact

log = logging.getLogger(__name__)
ENGINES = ("default", "embeddings")
NEUTRAL = Sentiment("neutral", 0.0)
NOT_URGENT = Urgency(False, ())
NO_INTENT = Intent(None, 0.0)


class LexiconAnalyzer:
    """Lexicons, rules and a small linear model: under 1 ms a message, no extra needed."""

    name = "lexicon-1"

    def __init__(self, catalogue: Catalogue | None = None,
                 model: sentiment.SentimentModel | None = None, *,
                 use_shipped_model: bool = True) -> None:
        self.catalogue = catalogue or intents_module.empty()
        self.model = model if model is not None or not use_shipped_model \
            else sentiment.shipped_model()

    def analyze(self, text: str, *, language: str | None = None) -> Analysis:
        try:
            prepared = prepare(text if isinstance(text, str) else str(text))
            redacted = redact(prepared.text).text
        except Exception:  # never raise: the text is dropped rather than stored unmasked
            log.exception("text preparation failed")
            return Analysis(UNKNOWN_LANGUAGE, NEUTRAL, NOT_URGENT, NO_INTENT, "", self.name)
        return self.read(redacted, language=language)

    def read(self, redacted: str, *, language: str | None = None) -> Analysis:
        """The analysis of text already prepared and redacted."""
        folded = fold(redacted)
        try:
            forced = lang.checked(language)
        except ValueError:
            forced = None  # the API refuses a bad code first; here it is simply detected
        code = forced or self.language(redacted)
        urgent = self.urgency(redacted, folded)
        return Analysis(code, self.sentiment(redacted, folded, urgent.reasons), urgent,
                        self.intent(folded), redacted, self.name)

    def language(self, text: str) -> str:
        try:
            return lang.detect(text)
        except Exception:
            log.exception("language detection failed")
            return UNKNOWN_LANGUAGE

    def sentiment(self, text: str, folded: str, reasons: tuple[str, ...] = ()) -> Sentiment:
        try:
            label, score = sentiment.classify(text, folded, sentiment.tokens(folded),
                                              self.model, reasons)
            return Sentiment(label, max(-1.0, min(1.0, score)))
        except Exception:
            log.exception("sentiment failed")
            return NEUTRAL

    def urgency(self, text: str, folded: str) -> Urgency:
        try:
            return urgency.assess(text, folded)
        except Exception:
            log.exception("urgency failed")
            return NOT_URGENT

    def intent(self, folded: str) -> Intent:
        try:
            return self.catalogue.classify(folded)
        except Exception:
            log.exception("intent failed")
            return NO_INTENT


def default_analyzer(intents: Catalogue | None = None) -> LexiconAnalyzer:
    """The fast engine, with the given contact reasons (none: every intent is None)."""
    return LexiconAnalyzer(intents)


@lru_cache(maxsize=4)
def analyzer_for(engine: str = "default", intents_file: Path | None = None) -> Analyzer:
    """The analyser a setting names (``CIRCULO_TEXT_ENGINE``), with the intents of
    ``CIRCULO_INTENTS_FILE`` (the shipped catalogue when None), built once per process.
    Raises ``ValueError`` for an unknown engine, ``IntentsError`` for a bad file and
    ``ImportError`` when the embeddings engine's extra is not installed."""
    catalogue = intents_module.load(intents_file)
    if engine == "default":
        return default_analyzer(catalogue)
    if engine == "embeddings":
        from circulo.text.embeddings import embeddings_analyzer

        return embeddings_analyzer(catalogue)
    raise ValueError(f"unknown text engine {engine!r} (expected one of {', '.join(ENGINES)})")
