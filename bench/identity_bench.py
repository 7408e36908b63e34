"""Identity resolution (issue 14): how often streaming resolution links one person's records
and keeps different people apart, and what the evidence checks cost ingest.

    python bench/identity_bench.py accuracy   [--people 4000]
    python bench/identity_bench.py throughput [--base-ref d8636d7] [--repeat 3]

``accuracy`` ingests the generated multi-source set (``bench/identity_data.py``: families on
one landline, colleagues on a switchboard or a shared e-mail, typos, nicknames, initials,
people changing e-mail, placeholders; Spanish and English names) in time order, in batches,
once with the evidence rules off (the rules before this issue) and once on, and reports
pairwise precision and recall over the systems' records, and wrong pops: a lookup of an
identifier several people share that pops one card, and a call from a shared number filed
under the wrong person.

``throughput`` posts the ingest benchmark's workload (``bench/workload.py``: 60,000 events
about 20,000 customers, batches of 1,000) to ``circulo serve``, alternating the code of
``--base-ref`` (before the evidence checks; checked out from git into a temporary folder)
and the current code, in the same run; medians and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from io import BytesIO
from itertools import combinations
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, ROOT, machine, median, post_all, server
from bench.workload import make_events

BASE_REF = "d8636d7"  # main before issue 14: identity decided on identifier kinds alone

PREPARE = """
import sys
from pathlib import Path
from circulo.auth import service as auth
from circulo.config import Settings
from circulo.context import AppContext
from circulo.migrate import upgrade
try:
    from circulo.wiring import build_context
except ImportError:  # a base ref from before the start-up wiring (issue 15)
    build_context = AppContext.build
ctx = build_context(Settings(data_dir=Path(sys.argv[1])))
upgrade(ctx.db.engine)
with ctx.db.unit_of_work() as session:
    _, secret = auth.create_key(session, "bench", ["ingest"], ctx.clock.now())
print(secret)
"""


# --- accuracy --------------------------------------------------------------------------------

def ingest_dataset(events: list[dict[str, Any]], evidence: bool, batch: int
                   ) -> tuple[dict[str, str | None], float, Any]:
    """Every event's final customer (following merges), the seconds ingest took, and the
    context (to look cards up)."""
    from sqlalchemy import select

    from circulo.clock import FixedClock
    from circulo.config import Settings
    from circulo.customers.models import Event
    from circulo.ingest import service as ingest
    from circulo.ingest.schemas import ItemError
    from circulo.migrate import upgrade
    from circulo.wiring import build_context

    data_dir = Path(tempfile.mkdtemp(prefix="circulo-identity-"))
    settings = Settings(data_dir=data_dir, identity_evidence=evidence)
    ctx = build_context(settings, FixedClock(datetime(2026, 11, 2, tzinfo=UTC)))
    upgrade(ctx.db.engine)
    started = time.perf_counter()
    refused: list[ItemError] = []
    for start in range(0, len(events), batch):
        with ctx.db.unit_of_work() as session:
            result = ingest.ingest(session, {"events": events[start:start + batch]},
                                   settings=ctx.settings, policies=ctx.policies,
                                   now=ctx.clock.now(), actor="bench")
        refused.extend(result.errors)
    seconds = time.perf_counter() - started
    # Refused with a clear error (a foreign number written without its country code): the
    # sending system is told; such records are left out of the measures, and counted.
    ctx.refused = refused
    with ctx.db.unit_of_work(write=False) as session:
        rows = session.execute(select(Event.client_id, Event.profile_id))
        customer_of = {str(client): profile for client, profile in rows}
    return customer_of, seconds, (ctx, data_dir)


def _keys(event: dict[str, Any], junk: frozenset[str]) -> set[str]:
    found = {f"{kind}:{v}" for kind in ("phone", "email") for v in _values(event, kind)
             if v not in junk}
    identifiers = event.get("identifiers") or {}
    if isinstance(identifiers.get("account"), str):
        found.add("account:" + "".join(c for c in identifiers["account"] if c.isalnum()).upper())
    for namespace, value in (identifiers.get("external_ids") or {}).items():
        found.add(f"external_id:{namespace}:{value}")
    return found


def linkable_groups(events: list[dict[str, Any]], person_of: dict[str, str],
                    stored: set[str]) -> dict[str, str]:
    """Record -> a group of that person's records that their own accepted events connect
    through shared identifiers (a chain of e-mails, phones, accounts or ids). Records in
    different groups share nothing: no resolver working on identifiers can link them
    (batch deduplication, on names and dates, can)."""
    from circulo.config import DEFAULT_JUNK_VALUES

    junk = frozenset(DEFAULT_JUNK_VALUES)
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for event in events:
        person = person_of.get(event["id"])
        if person is None or event["id"] not in stored:
            continue
        for key in _keys(event, junk):
            parent[find(f"{person}|{key}")] = find(f"{person}|event:{event['id']}")
    return {e: find(f"{person_of[e]}|event:{e}") for e in stored if e in person_of}


def pairwise(records: list[str], person_of: dict[str, str],
             customer_of: dict[str, str | None], groups: dict[str, str]) -> dict[str, Any]:
    """Precision and recall over pairs of records: a pair is linked when both records ended
    on the same customer, and true when both are about the same person. Recall is given
    over every true pair, and over the pairs their identifiers connect."""
    linkable = linkable_found = 0
    by_group: dict[str, list[str]] = defaultdict(list)
    for record in records:
        by_group[groups[record]].append(record)
    for members in by_group.values():
        linkable += len(members) * (len(members) - 1) // 2
        for a, b in combinations(members, 2):
            if customer_of.get(a) is not None and customer_of.get(a) == customer_of.get(b):
                linkable_found += 1
    true_pairs = linked = both = 0
    by_person: dict[str, list[str]] = defaultdict(list)
    by_customer: dict[str, list[str]] = defaultdict(list)
    for record in records:
        by_person[person_of[record]].append(record)
        customer = customer_of.get(record)
        if customer is not None:
            by_customer[customer].append(record)
    for members in by_person.values():
        true_pairs += len(members) * (len(members) - 1) // 2
    wrong_links: list[tuple[str, str]] = []
    for members in by_customer.values():
        linked += len(members) * (len(members) - 1) // 2
        for a, b in combinations(members, 2):
            if person_of[a] == person_of[b]:
                both += 1
            elif len(wrong_links) < 10:
                wrong_links.append((a, b))
    precision = both / linked if linked else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    return {"records": len(records), "true_pairs": true_pairs, "linked_pairs": linked,
            "correct_pairs": both, "precision": round(precision, 5),
            "recall": round(recall, 5), "linkable_pairs": linkable,
            "recall_of_linkable": round(linkable_found / linkable if linkable else 1.0, 5),
            "wrong_link_examples": wrong_links}


def _phone(raw: str) -> str | None:
    from circulo.identity.normalize import normalize_phone

    try:
        return normalize_phone(raw, "ES")
    except ValueError:  # placeholders and invalid numbers
        return None


def _values(event: dict[str, Any], kind: str) -> list[str]:
    raw = (event.get("identifiers") or {}).get(kind)
    items = [raw] if isinstance(raw, str) else list(raw or [])
    normal = [_phone(v) if kind == "phone" else v.strip().lower() for v in items]
    return [v for v in normal if v]


def wrong_pops(dataset: Any, customer_of: dict[str, str | None], ctx: Any) -> dict[str, Any]:
    """The hard cases: identifiers that several people use *and that Círculo was told so*
    (two or more of them sent it in their own records, accepted, not in calls: a call
    cannot say who is speaking). A wrong pop is a lookup of such an identifier that answers
    one card, or a call from such a number, made after Círculo knew it was shared, filed
    under someone other than the caller. Calls made before the second person ever gave the
    number cannot be told apart by anyone; they are counted on their own."""
    from circulo.customers import card_service

    owner: dict[str, Counter[str]] = defaultdict(Counter)
    for record in dataset.records:
        customer = customer_of.get(record)
        if customer is not None:
            owner[customer][dataset.person_of[record]] += 1
    person_of_customer = {c: counts.most_common(1)[0][0] for c, counts in owner.items()}
    shared = {(lk.kind, _phone(lk.value) if lk.kind == "phone" else lk.value.lower())
              for lk in dataset.lookups}
    told: dict[tuple[str, str], set[str]] = defaultdict(set)
    hard_calls = misfiled = early_calls = early_misfiled = 0
    for event in dataset.events:
        if event["id"] not in customer_of:  # refused
            continue
        person = dataset.person_of.get(event["id"])
        if event["type"].startswith("call."):
            for value in _values(event, "phone"):
                if ("phone", value) not in shared:
                    continue
                customer = customer_of.get(event["id"])
                wrong = customer is not None and person_of_customer.get(customer) != person
                if len(told[("phone", value)]) >= 2:
                    hard_calls += 1
                    misfiled += wrong
                else:
                    early_calls += 1
                    early_misfiled += wrong
            continue
        if person is None:
            continue
        for kind in ("phone", "email"):
            for value in _values(event, kind):
                if (kind, value) in shared:
                    told[(kind, value)].add(person)
    known = [lk for lk in dataset.lookups
             if len(told[(lk.kind, _phone(lk.value) if lk.kind == "phone"
                          else lk.value.lower())]) >= 2]
    popping = []
    app = ctx
    with app.db.unit_of_work(write=False) as session:
        for lookup in known:
            answer = card_service.lookup_card(
                session, query={lookup.kind: lookup.value}, role="support", lang="es",
                postal_code=None, pin=None, settings=app.settings, templates=app.templates,
                policies=app.policies, now=app.clock.now())
            if answer["match"] == "unique":
                popping.append((lookup.case, lookup.kind, lookup.value))
    return {"shared_identifiers": len(dataset.lookups),
            "known_shared": len(known),
            "lookups_popping_one_card": len(popping), "examples": popping[:5],
            "calls_from_known_shared_numbers": hard_calls,
            "calls_filed_under_someone_else": misfiled,
            "calls_before_the_number_was_known_shared": early_calls,
            "of_which_filed_under_someone_else": early_misfiled}


def accuracy(args: argparse.Namespace) -> dict[str, Any]:
    from bench.identity_data import generate

    dataset = generate(people=args.people, seed=args.seed)
    print(f"Generated: {len(dataset.events)} events, {len(dataset.records)} records, "
          f"{len(dataset.lookups)} shared identifiers; {dataset.counts}")
    report: dict[str, Any] = {"people": args.people, "seed": args.seed,
                              "events": len(dataset.events), "counts": dataset.counts}
    for label, evidence in (("before", False), ("after", True)):
        customer_of, seconds, (ctx, data_dir) = ingest_dataset(dataset.events, evidence,
                                                               args.batch)
        stored = [r for r in dataset.records if r in customer_of]
        groups = linkable_groups(dataset.events, dataset.person_of, set(customer_of))
        result = {"pairwise": pairwise(stored, dataset.person_of, customer_of, groups),
                  "records_refused": len(dataset.records) - len(stored),
                  "pops": wrong_pops(dataset, customer_of, ctx),
                  "ingest_events_per_s": round(len(dataset.events) / seconds)}
        ctx.db.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)
        report[label] = result
        pw, pops = result["pairwise"], result["pops"]
        print(f"{label:>6}: precision {pw['precision']:.5f} recall {pw['recall']:.5f}, "
              f"of the pairs their identifiers connect {pw['recall_of_linkable']:.5f} "
              f"({pw['linkable_pairs']}) "
              f"({pw['correct_pairs']}/{pw['linked_pairs']} linked pairs correct, "
              f"{pw['true_pairs']} true); wrong pops: lookups of known shared identifiers "
              f"answering one card {pops['lookups_popping_one_card']}/{pops['known_shared']}"
              f", calls from known shared numbers filed under someone else "
              f"{pops['calls_filed_under_someone_else']}/"
              f"{pops['calls_from_known_shared_numbers']} (before they were known shared: "
              f"{pops['of_which_filed_under_someone_else']}/"
              f"{pops['calls_before_the_number_was_known_shared']}); "
              f"{result['ingest_events_per_s']} events/s in-process")
    return report


# --- throughput ------------------------------------------------------------------------------

def checkout(ref: str) -> Path:
    """The ``src`` folder of ``ref``, extracted from git into a temporary folder."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref, "src"],
                             check=True, capture_output=True).stdout
    target = Path(tempfile.mkdtemp(prefix="circulo-base-"))
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target / "src"


def prepare(data_dir: Path, src: Path | None) -> str:
    env = {**os.environ, **({"PYTHONPATH": str(src)} if src else {})}
    done = subprocess.run([sys.executable, "-c", PREPARE, str(data_dir)], env=env,
                          check=True, capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1]


def throughput(args: argparse.Namespace) -> dict[str, Any]:
    events = make_events(args.events, args.customers, datetime.now(UTC))
    bodies = [orjson.dumps({"events": events[i:i + 1000]}) for i in range(0, len(events), 1000)]
    base_src = checkout(args.base_ref)
    rates: dict[str, list[float]] = {"base": [], "current": []}
    try:
        for _ in range(args.repeat):
            for label, src in (("base", base_src), ("current", None)):
                data_dir = Path(tempfile.mkdtemp(prefix="circulo-bench-"))
                key = prepare(data_dir, src)
                env = {"CIRCULO_DATA_DIR": str(data_dir),
                       **({"PYTHONPATH": str(src)} if src else {})}
                with server(env, 1) as url:
                    elapsed, _, errors = post_all(url, "/v1/events", key, bodies, clients=2,
                                                  expect=(200,))
                if errors:
                    raise RuntimeError(f"{label}: {errors} batches were not accepted whole")
                rates[label].append(args.events / elapsed)
                print(f"  {label}: {args.events / elapsed:,.0f} events/s")
                shutil.rmtree(data_dir, ignore_errors=True)
    finally:
        shutil.rmtree(base_src.parent, ignore_errors=True)
    base, current = median(rates["base"]), median(rates["current"])
    print(f"ingest through HTTP (1 worker): before ({args.base_ref}) {base:,.0f} events/s, "
          f"this code {current:,.0f} events/s: ratio {current / base:.2f}")
    return {"base_ref": args.base_ref, "events": args.events,
            "base_events_per_s": round(base), "current_events_per_s": round(current),
            "runs": {k: [round(v) for v in vs] for k, vs in rates.items()},
            "ratio": round(current / base, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["accuracy", "throughput", "all"])
    parser.add_argument("--people", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", type=int, default=500, help="events per ingest batch")
    parser.add_argument("--base-ref", default=BASE_REF)
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"Machine: {machine()}")
    report: dict[str, Any] = {"machine": machine()}
    if args.part in ("accuracy", "all"):
        report["accuracy"] = accuracy(args)
    if args.part in ("throughput", "all"):
        report["throughput"] = throughput(args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"identity-{args.part}.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
