"""Train the text engines' small models on the TRAIN split of the labelled set, and only on it.

    python bench/train_text.py [--write] [--embeddings]

1. Sentiment of the default engine ("lexicon-1"): multinomial logistic regression over
   ``circulo.text.sentiment.features`` (the lexicon's sums, words marked by negation, word
   pairs, emphasis). The regularisation C is chosen by 5-fold cross-validation within train
   (macro-F1, stratified by language and label); the lexicon alone is scored on the same folds.
   ``--write`` saves the weights to src/circulo/text/sentiment_model.json (shipped).
2. With ``--embeddings``: the same for a logistic regression over multilingual-e5-small
   embeddings (the ``nlp`` extra), saved to src/circulo/text/sentiment_e5.json.
3. Intent thresholds: for each engine, train accuracy (a null label counts as right when the
   answer is None) across thresholds, to choose the catalogue's ``threshold`` and the
   embeddings engine's ``THRESHOLD``.

The test split (messages-test.jsonl) is never read here: run bench/text_bench.py for that.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).parent))

import text_eval as te
from circulo.text import embeddings, intents, sentiment, urgency
from circulo.text.model import SENTIMENT_LABELS
from circulo.text.prep import fold, prepare
from circulo.text.redaction import redact

GRID = (0.1, 0.3, 1.0, 3.0, 10.0)


def clean(text: str) -> str:
    return redact(prepare(text).text).text


def folds(rows: Sequence[dict[str, Any]]) -> list[tuple[np.ndarray, np.ndarray]]:
    strata = [f"{r['language']}-{r['sentiment']}" for r in rows]
    splitter = StratifiedKFold(n_splits=5, shuffle=True, random_state=17)
    return list(splitter.split(np.zeros(len(rows)), strata))


def per_language(rows: Sequence[dict[str, Any]], predicted: Sequence[str]) -> str:
    parts = []
    for language in ("es", "en"):
        idx = [i for i, r in enumerate(rows) if r["language"] == language]
        acc, macro = te.sentiment_scores([rows[i]["sentiment"] for i in idx],
                                         [predicted[i] for i in idx])
        parts.append(f"{language}: acc {acc:.3f} macro-F1 {macro:.3f}")
    return "; ".join(parts)


def cross_validate(rows: Sequence[dict[str, Any]], matrix: Any, c: float) -> list[str]:
    predicted = [""] * len(rows)
    labels = np.array([r["sentiment"] for r in rows])
    for train, held in folds(rows):
        model = LogisticRegression(C=c, max_iter=3000)
        model.fit(matrix[train], labels[train])
        for i, p in zip(held, model.predict(matrix[held]), strict=True):
            predicted[i] = str(p)
    return predicted


def regularised(results: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """The strongest regularisation (smallest C) within 0.01 of the best CV macro-F1: folds
    of one written set flatter a model that memorises its words more than new messages will."""
    best = max(macro for _, macro in results)
    return next((c, macro) for c, macro in sorted(results) if macro >= best - 0.01)


def train_lexicon_model(rows: Sequence[dict[str, Any]], write: bool) -> None:
    texts = [clean(r["text"]) for r in rows]
    lexicon_only = [sentiment.classify(t, fold(t), sentiment.tokens(fold(t)), None,
                                       urgency.reasons_of(t, fold(t)))[0] for t in texts]
    print(f"lexicon alone (all train): {per_language(rows, lexicon_only)}")
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform(sentiment.featurise((t, fold(t)) for t in texts))
    results = []
    for c in GRID:
        predicted = cross_validate(rows, matrix, c)
        _, macro = te.sentiment_scores([r["sentiment"] for r in rows], predicted)
        print(f"lexicon + linear, C={c}: 5-fold CV {per_language(rows, predicted)}")
        results.append((c, macro))
    chosen, macro = regularised(results)
    print(f"chosen C={chosen} (CV macro-F1 {macro:.3f}); {matrix.shape[1]} features")
    model = LogisticRegression(C=chosen, max_iter=3000)
    model.fit(matrix, [r["sentiment"] for r in rows])
    order = [list(model.classes_).index(label) for label in SENTIMENT_LABELS]
    names = vectorizer.get_feature_names_out()
    weights = {str(name): tuple(round(float(model.coef_[k, j]), 5) for k in order)
               for j, name in enumerate(names)
               if max(abs(model.coef_[k, j]) for k in order) >= 1e-4}
    shipped = sentiment.SentimentModel(SENTIMENT_LABELS, weights,
                                       tuple(round(float(model.intercept_[k]), 5)
                                             for k in order))
    if write:
        sentiment.MODEL_FILE.write_bytes(shipped.to_json())
        print(f"wrote {sentiment.MODEL_FILE} ({len(weights)} weights)")


def train_embeddings_head(rows: Sequence[dict[str, Any]], write: bool) -> None:
    analyzer = embeddings.EmbeddingsAnalyzer(intents.empty(), use_shipped_head=False)
    vectors = analyzer.embed([clean(r["text"]) for r in rows])
    results = []
    for c in GRID:
        predicted = cross_validate(rows, vectors, c)
        _, macro = te.sentiment_scores([r["sentiment"] for r in rows], predicted)
        print(f"e5 + linear, C={c}: 5-fold CV {per_language(rows, predicted)}")
        results.append((c, macro))
    chosen, macro = regularised(results)
    print(f"chosen C={chosen} (CV macro-F1 {macro:.3f})")
    model = LogisticRegression(C=chosen, max_iter=3000)
    model.fit(vectors, [r["sentiment"] for r in rows])
    order = [list(model.classes_).index(label) for label in SENTIMENT_LABELS]
    head = embeddings.SentimentHead(model.coef_[order].astype(np.float32),
                                    model.intercept_[order].astype(np.float32))
    if write:
        embeddings.HEAD_FILE.write_bytes(head.to_json())
        print(f"wrote {embeddings.HEAD_FILE}")


def intent_thresholds(rows: Sequence[dict[str, Any]], use_embeddings: bool) -> None:
    catalogue = intents.load(te.INTENTS if te.INTENTS.exists() else None)
    folded = [fold(clean(r["text"])) for r in rows]
    top: list[tuple[str | None, float]] = []
    for f in folded:
        scores = catalogue.scores(f)
        name = max(scores, key=scores.__getitem__) if scores else None
        top.append((name, scores[name] if name else 0.0))
    show_thresholds("lexicon-1 (char n-grams)", rows, top, np.arange(0.05, 0.5, 0.025))
    if use_embeddings:
        analyzer = embeddings.EmbeddingsAnalyzer(catalogue, threshold=0.0,
                                                 use_shipped_head=False)
        vectors = analyzer.embed([clean(r["text"]) for r in rows])
        e5_top = [(i.name, i.confidence) for i in (analyzer.intent_of(v, f)
                                                   for v, f in zip(vectors, folded, strict=True))]
        show_thresholds("e5-small-1 (+ n-grams)", rows, e5_top, np.arange(0.6, 0.8, 0.01))


def show_thresholds(title: str, rows: Sequence[dict[str, Any]],
                    top: Sequence[tuple[str | None, float]], grid: Any) -> None:
    print(f"intent thresholds, {title}:")
    for threshold in grid:
        answered = [name if score >= threshold else None for name, score in top]
        right = sum(1 for r, a in zip(rows, answered, strict=True) if r["intent"] == a)
        named = [(r, a) for r, a in zip(rows, answered, strict=True) if r["intent"]]
        top1 = sum(1 for r, a in named if r["intent"] == a) / len(named)
        nulls = [(r, a) for r, a in zip(rows, answered, strict=True) if not r["intent"]]
        kept = sum(1 for _, a in nulls if a is None) / max(1, len(nulls))
        print(f"  {threshold:.3f}: all {right / len(rows):.3f}  top-1 {top1:.3f}  "
              f"null kept {kept:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="save the trained weights")
    parser.add_argument("--embeddings", action="store_true", help="also the e5 engine")
    args = parser.parse_args()
    rows = te.load(te.TRAIN)
    print(f"train split: {len(rows)} messages "
          f"({sum(r['language'] == 'es' for r in rows)} es)")
    train_lexicon_model(rows, args.write)
    if args.embeddings:
        train_embeddings_head(rows, args.write)
    intent_thresholds(rows, args.embeddings)


if __name__ == "__main__":
    main()
