"""The company's contact reasons (intents) and the classifier that recognises them. Pure.

The catalogue is a YAML file (``CIRCULO_INTENTS_FILE``; without it, the one shipped beside
this module, the same as ``examples/text/intents.yaml``)::

    intents:
      - name: card_limit
        label: {es: Límite de la tarjeta, en: Card limit}
        examples:
          es: ["quiero subir el límite de mi tarjeta", ...]
          en: ["I'd like a higher limit on my card", ...]
        keywords: {es: [límite, ampliar crédito], en: [credit limit]}
        queue: atencion
        skill: billing

It is read by the strict loader (``circulo.yaml_files``: no aliases, no duplicate keys) and
checked (``circulo.docmodels``: unknown fields, missing examples, duplicate names are refused
with the line).

The classifier is a nearest centroid over TF-IDF of character n-grams (4–6, within words, on
folded text: typos and missing accents still share most n-grams) and whole words of each
reason's examples and keywords (n-gram sizes, word weight, bonus and threshold chosen on the
labelled set's train split, bench/train_text.py). A message's confidence is its cosine
similarity to the closest centroid, raised by ``KEYWORD_BONUS`` when one of that reason's
keywords is in the message; below ``threshold`` the name is None (greetings, thanks, a
message about nothing configured). Pure Python dictionaries: about 0.1 ms a message, no model
to download, rebuilt whenever the file changes.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import numpy as np
from pydantic import Field

from circulo import docmodels, yaml_files
from circulo.docmodels import Doc, check
from circulo.documents import Where
from circulo.text.model import Intent
from circulo.text.prep import fold

DEFAULT_FILE = Path(__file__).with_name("intents.yaml")
MAX_INTENTS = 200
NGRAMS = (4, 5, 6)
KEYWORD_BONUS = 0.25
THRESHOLD = 0.1
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_SPLIT = re.compile(r"[^a-zñ0-9]+")


class IntentsError(ValueError):
    """An intents file refused: names the file, the line and the reason."""


Phrases = Annotated[list[Annotated[str, check(lambda s: 0 < len(s.strip()) <= 500,
                                              "must be 1 to 500 characters")]],
                    Field(max_length=500)]


class Label(Doc):
    es: str
    en: str


class ByLanguage(Doc):
    es: Phrases = Field(default_factory=list)
    en: Phrases = Field(default_factory=list)


class IntentDoc(Doc):
    name: Annotated[str, check(lambda s: bool(_NAME.match(s)),
                               "must be lower case letters, digits and _ (e.g. card_limit)")]
    label: Label
    examples: ByLanguage = Field(description="example phrases per language (es, en)")
    keywords: ByLanguage = Field(default_factory=ByLanguage,
                                 description="words or phrases that point to this reason")
    queue: str | None = Field(default=None, description="the routing queue it goes to")
    skill: str | None = Field(default=None, description="the skill an agent needs for it")


class IntentsDoc(Doc):
    intents: Annotated[list[IntentDoc], Field(min_length=1, max_length=MAX_INTENTS)]
    threshold: Annotated[float, docmodels.between(0, 1)] = THRESHOLD


@dataclass(frozen=True, slots=True)
class IntentDef:
    name: str
    label: dict[str, str]
    examples: dict[str, tuple[str, ...]]
    keywords: dict[str, tuple[str, ...]]
    queue: str | None
    skill: str | None


@lru_cache(maxsize=50_000)
def _word_grams(word: str) -> tuple[str, ...]:
    """A word's character n-grams (padded with spaces) and the word itself."""
    padded = f" {word} "
    grams = [padded[at:at + n] for n in NGRAMS if len(padded) >= n
             for at in range(len(padded) - n + 1)]
    grams.append("w:" + word)  # the whole word too, however short
    return tuple(grams)


def _ngrams(folded: str) -> Counter[str]:
    grams: Counter[str] = Counter()
    for word in _SPLIT.split(folded):
        if word:
            grams.update(_word_grams(word))
    return grams


def _weighted(grams: Counter[str], idf: dict[str, float]) -> dict[str, float]:
    vector = {g: (1 + math.log(c)) * idf[g] for g, c in grams.items() if g in idf}
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    return {g: v / norm for g, v in vector.items()}


class Catalogue:
    """The configured reasons and their classifier (built once per file). Scoring a message
    is a few dictionary lookups per word and one small matrix product (numpy)."""

    def __init__(self, intents: tuple[IntentDef, ...], threshold: float = THRESHOLD) -> None:
        self.intents = intents
        self.threshold = threshold
        self.by_name = {i.name: i for i in intents}
        self.names = [i.name for i in intents]
        documents: list[tuple[int, Counter[str]]] = []
        for row, intent in enumerate(intents):
            for phrases in (*intent.examples.values(), *intent.keywords.values()):
                documents.extend((row, _ngrams(fold(p))) for p in phrases)
        frequency: Counter[str] = Counter()
        for _, grams in documents:
            frequency.update(grams.keys())
        total = len(documents)
        self.idf = {g: math.log((1 + total) / (1 + df)) + 1 for g, df in frequency.items()}
        self.vocabulary = {g: column for column, g in enumerate(self.idf)}
        self.idf_array = np.array(list(self.idf.values()))
        # each reason's centroid: the sum of its phrases' unit vectors, made unit length
        self.centroids = np.zeros((len(intents), len(self.vocabulary)))
        for row, grams in documents:
            for g, v in _weighted(grams, self.idf).items():
                self.centroids[row, self.vocabulary[g]] += v
        norms = np.linalg.norm(self.centroids, axis=1, keepdims=True)
        self.centroids /= np.maximum(norms, 1e-12)
        self._columns: dict[str, tuple[int, ...]] = {}
        owners: dict[str, set[int]] = defaultdict(set)
        for row, intent in enumerate(intents):
            for words in intent.keywords.values():
                for keyword in words:
                    owners[fold(keyword).strip()].add(row)
        owners.pop("", None)
        self.keyword_owners = {k: tuple(sorted(v)) for k, v in owners.items()}
        self.keywords = re.compile(
            r"(?<![a-zñ0-9])(?:" + "|".join(re.escape(k) for k in sorted(
                owners, key=len, reverse=True)) + r")(?![a-zñ0-9])") if owners else None

    def _word_columns(self, word: str) -> tuple[int, ...]:
        columns = self._columns.get(word)
        if columns is None:
            columns = tuple(self.vocabulary[g] for g in _word_grams(word)
                            if g in self.vocabulary)
            if len(self._columns) < 100_000:  # bounded: a hostile stream of new words
                self._columns[word] = columns
        return columns

    def scores(self, folded: str) -> dict[str, float]:
        """Each reason's score: cosine to its centroid, plus the keyword bonus."""
        counts: Counter[int] = Counter()
        for word in _SPLIT.split(folded):
            if word:
                counts.update(self._word_columns(word))
        out = np.zeros(len(self.intents))
        if counts:
            columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            weights = (1 + np.log(np.fromiter(counts.values(), dtype=np.float64,
                                              count=len(counts)))) * self.idf_array[columns]
            weights /= np.linalg.norm(weights)
            out = self.centroids[:, columns] @ weights
        if self.keywords is not None:
            found = {row for match in self.keywords.finditer(folded)
                     for row in self.keyword_owners.get(match.group(), ())}
            for row in found:
                out[row] += KEYWORD_BONUS
        return {name: float(score) for name, score in zip(self.names, out, strict=True)
                if score > 0}

    def classify(self, folded: str) -> Intent:
        scores = self.scores(folded)
        if not scores:
            return Intent(None, 0.0)
        name = max(scores, key=scores.__getitem__)
        confidence = min(1.0, scores[name])
        if confidence < self.threshold:
            return Intent(None, round(confidence, 3))
        intent = self.by_name[name]
        return Intent(name, confidence, intent.queue, intent.skill)


def build(doc: IntentsDoc, where: Where) -> Catalogue:
    names: set[str] = set()
    intents = []
    for index, item in enumerate(doc.intents):
        if item.name in names:
            raise IntentsError(f"{where('intents', index, 'name')}: the name {item.name!r} "
                               "appears twice")
        names.add(item.name)
        if not (item.examples.es or item.examples.en):
            raise IntentsError(f"{where('intents', index, 'examples')}: needs at least one "
                               "example phrase (es or en)")
        intents.append(IntentDef(
            item.name, {"es": item.label.es, "en": item.label.en},
            {"es": tuple(item.examples.es), "en": tuple(item.examples.en)},
            {"es": tuple(item.keywords.es), "en": tuple(item.keywords.en)},
            item.queue, item.skill))
    return Catalogue(tuple(intents), doc.threshold)


def load(path: Path | None = None) -> Catalogue:
    """The catalogue of a YAML file; errors say ``file: line N: path: reason``."""
    path = path or DEFAULT_FILE
    try:
        document = yaml_files.load_file(path)
    except (OSError, yaml_files.YamlError) as exc:
        raise IntentsError(f"{path}: cannot read the intents: {exc}") from exc
    where = Where(document.lines, f"{path}: ")
    if not isinstance(document.data, dict):
        raise IntentsError(f"{path}: expected a mapping with 'intents' (a list of reasons)")
    return build(docmodels.validate(IntentsDoc, document.data, where, IntentsError), where)


def empty() -> Catalogue:
    """No configured reasons: every intent is None."""
    return Catalogue(())
