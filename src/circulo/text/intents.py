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
from pathlib import Path
from typing import Annotated

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


def _ngrams(folded: str) -> Counter[str]:
    grams: Counter[str] = Counter()
    for word in _SPLIT.split(folded):
        if not word:
            continue
        padded = f" {word} "
        for n in NGRAMS:
            if len(padded) < n:
                break
            for at in range(len(padded) - n + 1):
                grams[padded[at:at + n]] += 1
        grams["w:" + word] += 1  # the whole word too, however short
    return grams


def _weighted(grams: Counter[str], idf: dict[str, float]) -> dict[str, float]:
    vector = {g: (1 + math.log(c)) * idf[g] for g, c in grams.items() if g in idf}
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    return {g: v / norm for g, v in vector.items()}


class Catalogue:
    """The configured reasons and their classifier (built once per file)."""

    def __init__(self, intents: tuple[IntentDef, ...], threshold: float = THRESHOLD) -> None:
        self.intents = intents
        self.threshold = threshold
        self.by_name = {i.name: i for i in intents}
        documents: list[tuple[str, Counter[str]]] = []
        for intent in intents:
            for phrases in (*intent.examples.values(), *intent.keywords.values()):
                documents.extend((intent.name, _ngrams(fold(p))) for p in phrases)
        frequency: Counter[str] = Counter()
        for _, grams in documents:
            frequency.update(grams.keys())
        total = len(documents)
        self.idf = {g: math.log((1 + total) / (1 + df)) + 1 for g, df in frequency.items()}
        sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for name, grams in documents:
            for g, v in _weighted(grams, self.idf).items():
                sums[name][g] += v
        # an inverted index: n-gram -> [(reason, weight in the reason's unit centroid)]
        self.index: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for name, centroid in sums.items():
            norm = math.sqrt(sum(v * v for v in centroid.values())) or 1.0
            for g, v in centroid.items():
                self.index[g].append((name, v / norm))
        self.keywords = [(intent.name, re.compile(r"(?<![a-zñ0-9])" + re.escape(fold(k))
                                                  + r"(?![a-zñ0-9])"))
                         for intent in intents for ks in intent.keywords.values() for k in ks]

    def scores(self, folded: str) -> dict[str, float]:
        """Each reason's score: cosine to its centroid, plus the keyword bonus."""
        vector = _weighted(_ngrams(folded), self.idf)
        out: dict[str, float] = defaultdict(float)
        for g, v in vector.items():
            for name, w in self.index.get(g, ()):
                out[name] += v * w
        for name in {name for name, pattern in self.keywords if pattern.search(folded)}:
            out[name] += KEYWORD_BONUS
        return out

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
