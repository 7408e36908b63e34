"""Sentiment of a message: lexicon and rules, then a small linear model over them. Pure.

1. ``tokens``: the folded words and emoji of a message.
2. ``lexicon``: VADER's way with our own ES/EN words (``circulo.text.lexicon``): each known
   word or phrase has a valence; a negator in the three words before flips and damps it
   ("no estoy nada contento", "not bad at all"), an intensifier strengthens it ("muy mal"),
   what follows "pero"/"but" weighs more than what precedes, praise followed by "otra vez",
   "another", "sin"... is sarcasm ("genial, otra semana sin lavadora") and counts against,
   "!!!" and capitals amplify.
3. ``features``: those lexicon sums, the words (marked ``NOT_`` inside a negation's reach),
   their pairs, punctuation and capitals, for the linear model.
4. ``SentimentModel``: multinomial logistic regression weights learned by
   ``bench/train_text.py`` on the TRAIN split of the project's labelled set only, shipped as
   JSON (``sentiment_model.json``) and applied here with plain dictionaries (no scikit-learn
   at run time: a few microseconds per message). Without the file, the lexicon alone decides.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import orjson

from circulo.text import lexicon, urgency
from circulo.text.model import SentimentLabel

MODEL_FILE = Path(__file__).with_name("sentiment_model.json")
_WORD = re.compile(r"[a-zñ0-9]+|[:;x][-]?[)(dp]|<3")
_NEGATION_REACH = 3
_NEGATION_SCALE = -0.74  # VADER's N_SCALAR
_ALPHA = 15.0  # VADER's normalisation


def _split(table: dict[str, float]) -> tuple[dict[str, float], dict[int, dict[str, float]],
                                              dict[str, float]]:
    words: dict[str, float] = {}
    stems: dict[int, dict[str, float]] = {}
    phrases: dict[str, float] = {}
    for entry, value in table.items():
        if entry.endswith("*"):
            stems.setdefault(len(entry) - 1, {})[entry[:-1]] = value
        elif " " in entry:
            phrases[entry] = value
        else:
            words[entry] = value
    return words, stems, phrases


_WORDS, _STEMS, _PHRASES = _split({**lexicon.POSITIVE, **lexicon.NEGATIVE})
_STEM_LENGTHS = sorted(_STEMS, reverse=True)
_MAX_PHRASE = max(len(p.split()) for p in _PHRASES)
_PHRASE_STARTS = frozenset(p.split()[0] for p in _PHRASES)
_EMOJI = {k: v for k, v in lexicon.EMOJI.items() if not k.isascii()}
_SARCASM_AFTER = {p: len(p.split()) for p in lexicon.SARCASM_AFTER_PRAISE}


def tokens(folded: str) -> list[str]:
    return _WORD.findall(folded)


@lru_cache(maxsize=50_000)
def _valence(word: str) -> float | None:
    value = _WORDS.get(word)
    if value is not None:
        return value
    for length in _STEM_LENGTHS:
        if length <= len(word):
            value = _STEMS[length].get(word[:length])
            if value is not None:
                return value
    return None


@dataclass(frozen=True, slots=True)
class Hit:
    start: int  # token index
    end: int
    valence: float  # after negation, intensifiers, contrast and sarcasm
    negated: bool


def _emoji_valences(text: str) -> list[float]:
    return [value for emoji, value in _EMOJI.items() if emoji in text]


def _sarcastic(words: list[str], end: int) -> bool:
    """Praise whose next few words are what praise never comes with."""
    for at in range(end, min(len(words), end + 3)):
        for phrase, size in _SARCASM_AFTER.items():
            if " ".join(words[at:at + size]) == phrase:
                return True
    return False


def lexicon_hits(words: list[str]) -> list[Hit]:
    hits: list[Hit] = []
    contrast_at = -1
    i = 0
    while i < len(words):
        if words[i] in lexicon.CONTRASTS:
            contrast_at = i
        found: tuple[int, float] | None = None
        if words[i] in _PHRASE_STARTS:
            for size in range(min(_MAX_PHRASE, len(words) - i), 1, -1):
                value = _PHRASES.get(" ".join(words[i:i + size]))
                if value is not None:
                    found = (size, value)
                    break
        if found is None:
            value = _valence(words[i])
            if value is not None:
                found = (1, value)
        if found is None:
            i += 1
            continue
        size, value = found
        before = words[max(0, i - _NEGATION_REACH):i]
        negated = any(w in lexicon.NEGATORS for w in before)
        if i and words[i - 1] in lexicon.INTENSIFIERS:
            value *= 1 + lexicon.INTENSIFIERS[words[i - 1]]
        elif i and words[i - 1] in lexicon.DIMINISHERS:
            value *= 0.6
        if negated:
            value *= _NEGATION_SCALE
        if value > 0 and _sarcastic(words, i + size):
            value = -value
        hits.append(Hit(i, i + size, value, negated))
        i += size
    if contrast_at >= 0:
        hits = [Hit(h.start, h.end, h.valence * (0.5 if h.start < contrast_at else 1.5),
                    h.negated) for h in hits]
    return hits


def lexicon_score(text: str, folded: str, words: list[str], hits: list[Hit],
                  reasons: tuple[str, ...] = ()) -> float:
    """VADER-style compound in [-1, 1]. Each urgency reason but shouting counts as a
    negative word: a threat, a fraud or a danger is never good news."""
    total = sum(h.valence for h in hits) + sum(_emoji_valences(text))
    total -= 1.5 * sum(1 for r in reasons if r != "shouting")
    if any(p in folded for p in lexicon.SARCASM_PHRASES):
        total -= 2.5
    if total:
        emphasis = min(text.count("!"), 4) * 0.292 \
            + (0.5 if urgency.caps_ratio(text) > 0.6 else 0.0)
        total += math.copysign(emphasis, total)
    return total / math.sqrt(total * total + _ALPHA)


def features(text: str, folded: str, words: list[str], hits: list[Hit],
             compound: float, reasons: tuple[str, ...] = ()) -> dict[str, float]:
    """What the linear model weighs: lexicon sums, urgency reasons, marked words and pairs,
    emphasis."""
    out: dict[str, float] = {
        "_lex": compound,
        "_lex_pos": sum(h.valence for h in hits if h.valence > 0) / 4,
        "_lex_neg": sum(h.valence for h in hits if h.valence < 0) / 4,
        "_negated": float(sum(1 for h in hits if h.negated)),
        "_excl": min(text.count("!"), 5) / 5,
        "_quest": min(text.count("?"), 5) / 5,
        "_caps": urgency.caps_ratio(text),
        "_sarcasm": float(any(p in folded for p in lexicon.SARCASM_PHRASES)),
        "_emoji": sum(_emoji_valences(text)) / 3,
        "_bias_short": 1.0 if len(words) <= 3 else 0.0,
        "_urgent": 1.0 if reasons else 0.0,
    }
    for reason in reasons:
        out["_urgency_" + reason] = 1.0
    reach = 0
    previous = "^"
    for word in words:
        if word in lexicon.NEGATORS:
            reach = _NEGATION_REACH
            marked = word
        elif reach:
            reach -= 1
            marked = "NOT_" + word
        else:
            marked = word
        out[marked] = 1.0
        out[previous + " " + word] = 1.0
        previous = word
    return out


@dataclass(frozen=True, slots=True)
class SentimentModel:
    """Multinomial logistic regression over ``features`` (classes in SENTIMENT order)."""

    classes: tuple[SentimentLabel, ...]
    weights: dict[str, tuple[float, ...]]
    intercept: tuple[float, ...]

    def probabilities(self, feats: dict[str, float]) -> list[float]:
        scores = list(self.intercept)
        for name, value in feats.items():
            row = self.weights.get(name)
            if row is not None:
                for k, w in enumerate(row):
                    scores[k] += w * value
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return [e / total for e in exps]

    def to_json(self) -> bytes:
        return orjson.dumps({"classes": list(self.classes), "intercept": list(self.intercept),
                             "weights": {k: list(v) for k, v in sorted(self.weights.items())}},
                            option=orjson.OPT_APPEND_NEWLINE)


def load_model(path: Path = MODEL_FILE) -> SentimentModel | None:
    """The shipped model, or None when there is none (the lexicon decides alone)."""
    try:
        raw = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    return SentimentModel(tuple(raw["classes"]),
                          {k: tuple(v) for k, v in raw["weights"].items()},
                          tuple(raw["intercept"]))


@lru_cache(maxsize=1)
def shipped_model() -> SentimentModel | None:
    return load_model()


# Without a model: the compound's thresholds (VADER's ±0.05 is too eager for service
# messages, where "hola, ¿dónde está mi pedido?" is neutral).
LEXICON_THRESHOLD = 0.3


def label_of(score: float, threshold: float = LEXICON_THRESHOLD) -> SentimentLabel:
    if score >= threshold:
        return "positive"
    if score <= -threshold:
        return "negative"
    return "neutral"


def classify(text: str, folded: str, words: list[str], model: SentimentModel | None,
             reasons: tuple[str, ...] = ()) -> tuple[SentimentLabel, float]:
    """The label and a signed score in [-1, 1]; ``reasons``: the message's urgency reasons."""
    hits = lexicon_hits(words)
    compound = lexicon_score(text, folded, words, hits, reasons)
    if model is None or not any(w.isalpha() for w in words):
        # no words (emoji only, "!!!"): nothing the model learned from; the lexicon decides
        return label_of(compound), compound
    probs = model.probabilities(features(text, folded, words, hits, compound, reasons))
    best = max(range(len(probs)), key=probs.__getitem__)
    by_class = dict(zip(model.classes, probs, strict=True))
    score = by_class.get("positive", 0.0) - by_class.get("negative", 0.0)
    return model.classes[best], score


def featurise(rows: Iterable[tuple[str, str]]) -> list[dict[str, float]]:
    """``features`` of (text, folded) pairs, for training (``bench/train_text.py``)."""
    out = []
    for text, folded in rows:
        words = tokens(folded)
        hits = lexicon_hits(words)
        reasons = urgency.reasons_of(text, folded)
        out.append(features(text, folded, words, hits,
                            lexicon_score(text, folded, words, hits, reasons), reasons))
    return out
