"""Text analysis on the held-out TEST split of the project's labelled set (issue 17 targets:
sentiment macro-F1 >= 0.80 per language, urgency F1 >= 0.85, intent top-1 >= 0.85, default
engine >= 1,000 messages/s), with the VADER baseline in the same run.

    python bench/text_bench.py [--no-embeddings] [--runs 5] [--repeat 5]

Per language (es, en) and in all:
- sentiment accuracy and macro-F1 of the default engine ("lexicon-1"), of the embeddings
  engine ("e5-small-1", when the ``nlp`` extra is installed) and of VADER (vaderSentiment's
  compound with its standard thresholds, >= 0.05 positive, <= -0.05 negative, applied as is to
  Spanish too: it is an English lexicon, which is the point of the comparison);
- urgency precision / recall / F1 (urgent or not) and the recall of each reason;
- intent top-1 accuracy over the messages labelled with a reason (an answer of None counts as
  wrong), and, apart, the share of messages labelled "no reason" that got None;
- throughput of the default engine: messages per second over the whole test set repeated
  ``--repeat`` times, single process, median of ``--runs`` runs (and the embeddings engine's,
  one pass).

The models were trained and tuned on the TRAIN split only (bench/train_text.py); this script
is the only reader of the test split.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).parent))

import text_eval as te
from circulo.text import intents
from circulo.text.engine import default_analyzer
from circulo.text.model import Analysis, Intent, Sentiment, Urgency


def vader_analyses(rows: list[dict[str, object]]) -> list[Analysis]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    out = []
    for row in rows:
        compound = vader.polarity_scores(str(row["text"]))["compound"]
        label = "positive" if compound >= 0.05 else "negative" if compound <= -0.05 \
            else "neutral"
        out.append(Analysis(str(row["language"]), Sentiment(label, compound),  # type: ignore[arg-type]
                            Urgency(False, ()), Intent(None, 0.0), "", "vader"))
    return out


def throughput(analyze: object, texts: list[str], runs: int) -> tuple[float, list[float]]:
    rates = []
    for _ in range(runs):
        start = time.perf_counter()
        for text in texts:
            analyze(text)  # type: ignore[operator]
        rates.append(len(texts) / (time.perf_counter() - start))
    return statistics.median(rates), rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-embeddings", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = te.load(te.TEST)
    catalogue = intents.load(te.INTENTS)
    counts = {lang: sum(r["language"] == lang for r in rows) for lang in ("es", "en")}
    print(f"test split: {len(rows)} messages ({counts['es']} es, {counts['en']} en); "
          f"catalogue: {len(catalogue.intents)} reasons, threshold {catalogue.threshold}")

    engines: dict[str, list[Analysis]] = {}
    default = default_analyzer(catalogue)
    engines[default.name] = te.analyse_all(default.analyze, rows)
    embeddings = None
    if not args.no_embeddings:
        try:
            from circulo.text.embeddings import EmbeddingsAnalyzer

            embeddings = EmbeddingsAnalyzer(catalogue)
        except ImportError as exc:
            print(f"(embeddings engine skipped: {exc})")
    if embeddings is not None:
        engines[embeddings.name] = te.analyse_all(embeddings.analyze, rows)
    engines["vader"] = vader_analyses(rows)

    print("\nSentiment (accuracy / macro-F1):")
    print(f"  {'engine':<12} {'es':>15} {'en':>15} {'all':>15}")
    for name, results in engines.items():
        cells = []
        for lang in ("es", "en", "all"):
            s = te.score(rows, results, lang)
            cells.append(f"{s.sentiment_accuracy:.3f} / {s.sentiment_macro_f1:.3f}")
        print(f"  {name:<12} {cells[0]:>15} {cells[1]:>15} {cells[2]:>15}")

    for name, results in engines.items():
        if name == "vader":
            continue
        print(f"\n{name}:")
        for lang in ("es", "en", "all"):
            print("  " + te.report(te.score(rows, results, lang)).replace("\n", "\n  "))

    texts = [str(r["text"]) for r in rows] * args.repeat
    default.analyze("warm up")
    median, rates = throughput(default.analyze, texts, args.runs)
    print(f"\nthroughput {default.name}: median {median:,.0f} messages/s over {len(texts)} "
          f"messages x {args.runs} runs (runs: {', '.join(f'{r:,.0f}' for r in rates)})")
    if embeddings is not None:
        rate, _ = throughput(embeddings.analyze, [str(r["text"]) for r in rows], 1)
        print(f"throughput {embeddings.name}: {rate:,.1f} messages/s (one pass, "
              f"{len(rows)} messages)")


if __name__ == "__main__":
    main()
