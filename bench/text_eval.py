"""Scoring text analysers against the labelled set (bench/data/text/*.jsonl): shared by the
training script (which sees only the TRAIN split) and the benchmark (which reads TEST)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from circulo.text.model import SENTIMENT_LABELS, URGENCY_REASONS, Analysis

DATA = Path(__file__).parent / "data" / "text"
TRAIN = DATA / "messages-train.jsonl"
TEST = DATA / "messages-test.jsonl"
INTENTS = Path(__file__).parents[1] / "examples" / "text" / "intents.yaml"


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


@dataclass
class Scores:
    language: str
    count: int
    sentiment_accuracy: float
    sentiment_macro_f1: float
    urgency_precision: float
    urgency_recall: float
    urgency_f1: float
    reason_recall: dict[str, tuple[int, int]]  # reason -> (found, labelled)
    intent_accuracy: float  # top-1 over messages whose label is a reason
    intent_count: int
    null_kept: float  # share of null-intent messages answered None
    null_count: int


def sentiment_scores(gold: Sequence[str], predicted: Sequence[str]) -> tuple[float, float]:
    return (float(accuracy_score(gold, predicted)),
            float(f1_score(gold, predicted, labels=list(SENTIMENT_LABELS), average="macro",
                           zero_division=0)))


def score(rows: Sequence[dict[str, Any]], results: Sequence[Analysis],
          language: str) -> Scores:
    picked = [(r, a) for r, a in zip(rows, results, strict=True)
              if language == "all" or r["language"] == language]
    gold = [r["sentiment"] for r, _ in picked]
    predicted = [a.sentiment.label for _, a in picked]
    accuracy, macro = sentiment_scores(gold, predicted)
    p, r, f, _ = precision_recall_fscore_support(
        [bool(r["urgent"]) for r, _ in picked], [a.urgency.urgent for _, a in picked],
        average="binary", zero_division=0)
    reasons = {}
    for code in URGENCY_REASONS:
        labelled = [(r, a) for r, a in picked if code in r["urgency_reasons"]]
        reasons[code] = (sum(1 for _, a in labelled if code in a.urgency.reasons), len(labelled))
    with_intent = [(r, a) for r, a in picked if r["intent"]]
    nulls = [(r, a) for r, a in picked if not r["intent"]]
    hits = sum(1 for r, a in with_intent if a.intent.name == r["intent"])
    kept = sum(1 for _, a in nulls if a.intent.name is None)
    return Scores(language, len(picked), accuracy, macro, float(p), float(r), float(f), reasons,
                  hits / len(with_intent) if with_intent else 0.0, len(with_intent),
                  kept / len(nulls) if nulls else 0.0, len(nulls))


def analyse_all(analyze: Callable[[str], Analysis],
                rows: Sequence[dict[str, Any]]) -> list[Analysis]:
    return [analyze(r["text"]) for r in rows]


def report(scores: Scores) -> str:
    reasons = ", ".join(f"{code} {found}/{total}" for code, (found, total)
                        in scores.reason_recall.items() if total)
    return (f"[{scores.language}] n={scores.count} sentiment acc {scores.sentiment_accuracy:.3f}"
            f" macro-F1 {scores.sentiment_macro_f1:.3f} | urgency P {scores.urgency_precision:.3f}"
            f" R {scores.urgency_recall:.3f} F1 {scores.urgency_f1:.3f} | intent top-1 "
            f"{scores.intent_accuracy:.3f} (n={scores.intent_count}), null kept "
            f"{scores.null_kept:.2f} (n={scores.null_count})\n    reasons recall: {reasons}")
