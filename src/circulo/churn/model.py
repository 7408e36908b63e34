"""The churn model: an additive logistic model, kept as plain JSON. Pure (numpy; scikit-learn
only to fit).

Each numeric feature becomes a clipped, scaled linear term plus a hinge at each of its
quantiles (a continuous piecewise-linear curve that bends where the data bends) and a flag
for "unknown"; each categorical feature a one-hot of its frequent levels. A logistic
regression (L2) over those columns gives the coefficients. Because the model is a sum over
features, a customer's risk splits exactly into per-feature contributions (coefficient x
(column - training mean), summed over the feature's columns): the explanation is the model,
not an approximation of it (ADR 0027).

The stored form is JSON numbers and strings only: loading it executes nothing (no pickle).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

FAMILY = "additive-logit/1"
Row = Mapping[str, float | str | None]


@dataclass(frozen=True, slots=True)
class Params:
    """How a model is fitted: pieces per numeric feature (bins - 1 hinges), L2 strength
    (C, larger = weaker), the least rows a categorical level needs to get its own column."""

    bins: int = 5
    c: float = 1.0
    min_level_count: int = 10


@dataclass(slots=True)
class Term:
    """One feature's columns and coefficients."""

    name: str
    kind: str  # numeric | category
    coefs: list[float] = field(default_factory=list)
    col_means: list[float] = field(default_factory=list)
    # numeric
    fill: float = 0.0
    low: float = 0.0
    high: float = 0.0
    mean: float = 0.0
    scale: float = 1.0
    edges: list[float] = field(default_factory=list)
    # category
    levels: list[str] = field(default_factory=list)

    def columns(self, values: Sequence[float | str | None]) -> NDArray[np.float64]:
        if self.kind == "category":
            out = np.zeros((len(values), len(self.levels) + 1))
            index = {level: n for n, level in enumerate(self.levels)}
            for row, value in enumerate(values):
                out[row, index.get(_level(value), len(self.levels))] = 1.0
            return out
        raw = np.array([_float(v, self.fill) for v in values], dtype=np.float64)
        clipped = np.clip(raw, self.low, self.high)
        out = np.zeros((len(values), 2 + len(self.edges)))
        out[:, 0] = (clipped - self.mean) / self.scale
        out[:, 1] = np.array([1.0 if _missing(v) else 0.0 for v in values])
        for n, edge in enumerate(self.edges):
            out[:, 2 + n] = np.maximum(0.0, clipped - edge) / self.scale
        return out

    def as_json(self) -> dict[str, Any]:
        base: dict[str, Any] = {"name": self.name, "kind": self.kind, "coefs": self.coefs,
                                "col_means": self.col_means}
        if self.kind == "category":
            return {**base, "levels": self.levels}
        return {**base, "fill": self.fill, "low": self.low, "high": self.high,
                "mean": self.mean, "scale": self.scale, "edges": self.edges}


def _missing(value: float | str | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _float(value: float | str | None, fill: float) -> float:
    if _missing(value) or isinstance(value, str):
        return fill
    return float(value) if value is not None else fill


def _level(value: float | str | None) -> str:
    return "" if _missing(value) else str(value)


@dataclass(slots=True)
class ChurnModel:
    terms: list[Term]
    intercept: float

    @property
    def feature_names(self) -> list[str]:
        return [t.name for t in self.terms]

    def _contributions(self, rows: Sequence[Row]) -> NDArray[np.float64]:
        """Per row and term: how much the term moves the log-odds from the average
        customer's."""
        out = np.zeros((len(rows), len(self.terms)))
        for n, term in enumerate(self.terms):
            cols = term.columns([r.get(term.name) for r in rows])
            out[:, n] = (cols - np.array(term.col_means)) @ np.array(term.coefs)
        return out

    def predict(self, rows: Sequence[Row]) -> NDArray[np.float64]:
        """The probability of churn of each row."""
        if not rows:
            return np.zeros(0)
        logits = self.intercept + self._contributions(rows).sum(axis=1)
        return np.asarray(1.0 / (1.0 + np.exp(-logits)), dtype=np.float64)

    def explain(self, rows: Sequence[Row]) -> list[dict[str, float]]:
        """Each row's contributions by feature name (log-odds; positive raises the risk)."""
        contributions = self._contributions(rows)
        return [{t.name: float(c) for t, c in zip(self.terms, row, strict=True)}
                for row in contributions]

    def as_json(self) -> dict[str, Any]:
        return {"family": FAMILY, "intercept": self.intercept,
                "terms": [t.as_json() for t in self.terms]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChurnModel:
        if data.get("family") != FAMILY:
            raise ValueError(f"unknown model family {data.get('family')!r}")
        terms = []
        for item in data["terms"]:
            term = Term(name=str(item["name"]), kind=str(item["kind"]),
                        coefs=[float(c) for c in item["coefs"]],
                        col_means=[float(c) for c in item["col_means"]])
            if term.kind == "category":
                term.levels = [str(v) for v in item["levels"]]
            else:
                term.fill, term.low, term.high = (float(item["fill"]), float(item["low"]),
                                                  float(item["high"]))
                term.mean, term.scale = float(item["mean"]), float(item["scale"])
                term.edges = [float(e) for e in item["edges"]]
            terms.append(term)
        return cls(terms, float(data["intercept"]))


def _numeric_term(name: str, values: Sequence[float | str | None], bins: int) -> Term:
    present = np.array([v for v in values if isinstance(v, int | float) and not _missing(v)],
                       dtype=np.float64)
    if present.size == 0:
        present = np.zeros(1)
    low, high = (float(x) for x in np.percentile(present, [1, 99]))
    fill = float(np.median(present))
    clipped = np.clip(present, low, high)
    scale = float(clipped.std()) or 1.0
    quantiles: list[float] = [float(q) for q in np.quantile(
        clipped, np.linspace(0, 1, bins + 1)[1:-1])] if bins > 1 else []
    edges = sorted({q for q in quantiles if low < q < high})
    return Term(name, "numeric", fill=fill, low=low, high=high, mean=float(clipped.mean()),
                scale=scale, edges=edges)


def _category_term(name: str, values: Sequence[float | str | None], min_count: int) -> Term:
    counts: dict[str, int] = {}
    for value in values:
        counts[_level(value)] = counts.get(_level(value), 0) + 1
    levels = sorted(level for level, count in counts.items() if count >= min_count)
    return Term(name, "category", levels=levels)


def fit(rows: Sequence[Row], labels: Sequence[bool], names: Sequence[str],
        categorical: Sequence[str], params: Params | None = None) -> ChurnModel:
    """Fit the model on ``rows`` (feature name -> value) and their labels."""
    from sklearn.linear_model import LogisticRegression

    params = params or Params()
    terms = [
        _category_term(n, [r.get(n) for r in rows], params.min_level_count)
        if n in categorical else _numeric_term(n, [r.get(n) for r in rows], params.bins)
        for n in names
    ]
    blocks = [t.columns([r.get(t.name) for r in rows]) for t in terms]
    for term, block in zip(terms, blocks, strict=True):
        term.col_means = [float(m) for m in block.mean(axis=0)]
    design = np.hstack([b - b.mean(axis=0) for b in blocks])
    y = np.array([1 if label else 0 for label in labels])
    fitted = LogisticRegression(C=params.c, max_iter=5000)
    fitted.fit(design, y)
    coefs = fitted.coef_[0]
    start = 0
    for term, block in zip(terms, blocks, strict=True):
        width = block.shape[1]
        term.coefs = [float(c) for c in coefs[start:start + width]]
        start += width
    return ChurnModel(terms, float(fitted.intercept_[0]))


def auc(labels: Sequence[bool], scores: Sequence[float]) -> float:
    """Area under the ROC curve (ties count half), without a library: the Mann-Whitney U."""
    pairs = sorted(zip(scores, labels, strict=True))
    positives = sum(1 for _, y in pairs if y)
    negatives = len(pairs) - positives
    if not positives or not negatives:
        return float("nan")
    rank_sum = 0.0
    n = 0
    while n < len(pairs):
        m = n
        while m < len(pairs) and pairs[m][0] == pairs[n][0]:
            m += 1
        average_rank = (n + m + 1) / 2  # ranks n+1..m
        rank_sum += average_rank * sum(1 for _, y in pairs[n:m] if y)
        n = m
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
