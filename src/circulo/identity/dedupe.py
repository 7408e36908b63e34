"""Batch deduplication: ``circulo identity dedupe``.

For the day a company imports 200,000 CRM contacts with typos and duplicates. A run reads
every active profile, trains the probabilistic model on them (``linkage``), and keeps the
pairs scored at or above ``dedupe_suggest_at``. Pairs the rules already settle are left out:
different ids in one system's namespace, pairs a person separated (a merge undone, a
suggestion rejected), pairs already suggested. Each remaining pair becomes a suggestion in the
review queue, or, only when ``dedupe_auto_merge_at`` is set and the pair reaches it, a merge
(reason "dedupe", undoable) when the evidence of streaming resolution does not say two
people.

A run is a job of several transactions: the scored pairs are stored first (one
transaction), then applied a chunk at a time, each chunk one transaction that records each
pair's outcome. Interrupted, the next run resumes with the first pair without an outcome;
no merge is ever half done. A dry run writes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from circulo.clock import Clock
from circulo.config import Settings
from circulo.customers import service as customers
from circulo.db import Database
from circulo.errors import NotFound
from circulo.identity import linkage, service
from circulo.identity import repository as repo
from circulo.identity.evidence import Evidence, Facts, compare, profile_facts
from circulo.identity.linkage import LinkRecord, ScoredPair
from circulo.identity.models import DedupeRun
from circulo.ids import new_id

CHUNK = 200  # pairs applied per transaction
KINDS = ("email", "external_id")

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class Options:
    suggest_at: float
    auto_merge_at: float | None
    decline_at: float
    dry_run: bool = False
    fresh: bool = False  # abandon an unfinished run instead of resuming it


@dataclass(slots=True)
class Planned:
    pair: ScoredPair
    evidence: Evidence
    action: str  # suggest | merge


@dataclass(slots=True)
class Summary:
    run_id: str | None
    resumed: bool
    dry_run: bool
    profiles: int = 0
    compared: int = 0
    candidates: int = 0  # scored at or above the threshold
    excluded: dict[str, int] = field(default_factory=dict)  # settled by the rules
    suggested: int = 0
    merged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # at apply time, with the reason
    columns: list[str] = field(default_factory=list)
    seconds: float = 0.0
    planned: list[Planned] = field(default_factory=list)  # dry run: what would happen


class Interrupted(RuntimeError):
    """A run was interrupted with other options than these: resume it with the same, or
    abandon it (``fresh``)."""

    def __init__(self, run_id: str, started_at: datetime, options: dict[str, object]) -> None:
        super().__init__(f"run {run_id} (started {started_at.isoformat()}) was interrupted "
                         f"with {options}")
        self.run_id, self.started_at, self.options = run_id, started_at, options


def _chosen(options: Options) -> dict[str, object]:
    return {"suggest_at": options.suggest_at, "auto_merge_at": options.auto_merge_at,
            "decline_at": options.decline_at}


def _options_of(dedupe_run: DedupeRun) -> dict[str, object]:
    return {k: dedupe_run.options.get(k) for k in ("suggest_at", "auto_merge_at", "decline_at")}


def options_from(settings: Settings, **overrides: object) -> Options:
    values: dict[str, object] = {
        "suggest_at": settings.dedupe_suggest_at, "auto_merge_at": settings.dedupe_auto_merge_at,
        "decline_at": settings.identity_decline_at,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Options(**values)  # type: ignore[arg-type]


def read_records(session: Session, roles: frozenset[str] = frozenset()) -> list[LinkRecord]:
    identifiers: dict[str, list[tuple[str, str]]] = {}
    for profile_id, kind, value in repo.all_identifiers(session, KINDS):
        identifiers.setdefault(profile_id, []).append((kind, value))
    return [linkage.record_from(pid, traits, identifiers.get(pid, []), roles)
            for pid, traits in customers.active_traits(session)]


def _facts(session: Session, ids: Sequence[str]) -> dict[str, Facts]:
    """What each profile says, with sources: the evidence shown to reviewers."""
    facts: dict[str, Facts] = {pid: Facts() for pid in ids}
    for pid, known in customers.evidence_of(session, ids).items():
        facts[pid] = profile_facts(known.traits, known.trait_meta, known.contacts)
    return facts


def plan(session: Session, records: Sequence[LinkRecord], pairs: Sequence[ScoredPair],
         options: Options) -> tuple[list[Planned], dict[str, int]]:
    """Leave out what the rules settle; weigh the rest for reviewers and the merge guard."""
    by_id = {r.id: r for r in records}
    ids = sorted({p for pair in pairs for p in (pair.a, pair.b)})
    separated = service.separations(session, ids)
    known = repo.live_pair_keys(session, [f"{p.a}:{p.b}" for p in pairs])
    excluded: dict[str, int] = {}
    kept: list[ScoredPair] = []
    for pair in sorted(pairs, key=lambda p: (-p.probability, p.a, p.b)):
        reason = None
        if linkage.conflicting_ids(by_id[pair.a], by_id[pair.b]):
            reason = "different_ids"
        elif frozenset((pair.a, pair.b)) in separated:
            reason = "known_apart"
        elif f"{pair.a}:{pair.b}" in known:
            reason = "already_suggested"
        if reason:
            excluded[reason] = excluded.get(reason, 0) + 1
        else:
            kept.append(pair)
    facts = _facts(session, sorted({p for pair in kept for p in (pair.a, pair.b)}))
    planned = []
    for pair in kept:
        evidence = compare(facts[pair.a], facts[pair.b])
        # Merging without review also needs the evidence of streaming resolution not to
        # say two people (another given name, another date of birth).
        merge = (options.auto_merge_at is not None and pair.probability >= options.auto_merge_at
                 and not evidence.declines(options.decline_at))
        planned.append(Planned(pair, evidence, "merge" if merge else "suggest"))
    return planned, excluded


def run(db: Database, settings: Settings, clock: Clock, options: Options, *, actor: str,
        progress: Progress | None = None) -> Summary:
    report = progress or (lambda stage, done, total: None)
    started = time.monotonic()
    policies = customers.policies_for(settings)
    if not options.dry_run:
        with db.unit_of_work() as session:
            pending = repo.unfinished_run(session)
            if pending is not None and options.fresh:
                pending.status, pending.finished_at = "abandoned", clock.now()
                repo.clear_pair_evidence(session, pending.id)
                pending = None
            if pending is not None and _options_of(pending) != _chosen(options):
                raise Interrupted(pending.id, pending.started_at, _options_of(pending))
            resume_id = pending.id if pending is not None else None
        if resume_id is not None:
            summary = Summary(resume_id, resumed=True, dry_run=False)
            _apply(db, resume_id, policies, clock, actor, summary, report)
            summary.seconds = time.monotonic() - started
            return summary

    with db.unit_of_work(write=False) as session:
        report("read", 0, 1)
        records = read_records(session, frozenset(settings.role_mailboxes))
        report("read", 1, 1)
    linked = linkage.link(records, threshold=options.suggest_at, progress=report)
    with db.unit_of_work(write=False) as session:
        planned, excluded = plan(session, records, linked.pairs, options)
    summary = Summary(None, resumed=False, dry_run=options.dry_run, profiles=len(records),
                      compared=linked.compared, candidates=len(linked.pairs),
                      excluded=excluded, columns=linked.columns)
    if options.dry_run:
        summary.planned = planned
        summary.suggested = sum(1 for p in planned if p.action == "suggest")
        summary.merged = sum(1 for p in planned if p.action == "merge")
        summary.seconds = time.monotonic() - started
        return summary

    now = clock.now()
    with db.unit_of_work() as session:
        dedupe_run = DedupeRun(
            id=new_id(), status="scored", dry_run=False, actor=actor, started_at=now,
            options={**_chosen(options), "columns": linked.columns, "excluded": excluded},
            profiles=len(records), compared=linked.compared, candidates=len(linked.pairs),
            suggested=0, merged=0, skipped=0,
        )
        repo.add_run(session, dedupe_run)
        repo.add_pairs(session, [
            {"run_id": dedupe_run.id, "seq": seq, "profile_a": p.pair.a, "profile_b": p.pair.b,
             "probability": p.pair.probability, "weight": p.pair.weight,
             "evidence": [f.as_dict() for f in p.evidence.fields],
             "outcome": None}
            for seq, p in enumerate(planned)
        ])
        summary.run_id = dedupe_run.id
    _apply(db, summary.run_id, policies, clock, actor, summary, report)
    summary.seconds = time.monotonic() - started
    return summary


def _apply(db: Database, run_id: str, policies: customers.Policies, clock: Clock, actor: str,
           summary: Summary, report: Progress) -> None:
    with db.unit_of_work(write=False) as session:
        dedupe_run = repo.get_run(session, run_id)
        assert dedupe_run is not None  # noqa: S101 - found or created by the caller
        auto_merge_at = dedupe_run.options.get("auto_merge_at")
        decline_at = float(dedupe_run.options.get("decline_at", -4.0))
        total = dedupe_run.candidates
        summary.profiles, summary.compared = dedupe_run.profiles, dedupe_run.compared
        summary.candidates = dedupe_run.candidates
        summary.excluded = dict(dedupe_run.options.get("excluded", {}))
        summary.columns = list(dedupe_run.options.get("columns", []))
        done = sum(n for outcome, n in repo.outcome_counts(session, run_id).items()
                   if outcome != "None")
    total = max(total - sum(summary.excluded.values()), done)
    report("apply", done, total)
    while True:
        with db.unit_of_work() as session:
            # Locked: a second process applying the same run waits for this chunk.
            dedupe_run = repo.get_run(session, run_id, for_update=True)
            assert dedupe_run is not None  # noqa: S101
            chunk = repo.pending_pairs(session, run_id, CHUNK)
            if not chunk:
                counts = repo.outcome_counts(session, run_id)
                dedupe_run.suggested = counts.get("suggested", 0)
                dedupe_run.merged = counts.get("merged", 0)
                dedupe_run.skipped = sum(n for k, n in counts.items()
                                         if k.startswith("skipped"))
                dedupe_run.status, dedupe_run.finished_at = "applied", clock.now()
                # The suggestions carry the evidence now; the run keeps ids and scores.
                repo.clear_pair_evidence(session, run_id)
                summary.suggested, summary.merged = dedupe_run.suggested, dedupe_run.merged
                summary.skipped = {k.split(":", 1)[1].strip(): n for k, n in counts.items()
                                   if k.startswith("skipped")}
                return
            now = clock.now()
            for pair in chunk:
                score = sum(float(f["weight"]) for f in pair.evidence)
                merge = (auto_merge_at is not None and pair.probability >= float(auto_merge_at)
                         and score > decline_at)
                pair.outcome = _apply_pair(session, pair.profile_a, pair.profile_b, merge,
                                           pair.probability, pair.weight, pair.evidence,
                                           run_id, policies, now, actor)
            done += len(chunk)
        report("apply", done, total)


def _apply_pair(session: Session, a: str, b: str, merge: bool, probability: float,
                weight: float, evidence: list[dict[str, object]], run_id: str,
                policies: customers.Policies, now: datetime, actor: str) -> str:
    try:
        root_a = customers.active_root(session, a)
        root_b = customers.active_root(session, b)
    except NotFound:
        return "skipped: erased"
    if root_a.id == root_b.id:
        return "skipped: already one"
    if service.are_separated(session, root_a.id, root_b.id):  # earlier merges of the run
        return "skipped: known apart"
    first, second = sorted((root_a, root_b), key=lambda p: (p.created_at, p.id))
    if merge:
        try:
            service.merge_manually(session, first.id, second.id, "dedupe", policies, now,
                                   actor)
        except service.DifferentIds:  # acquired through earlier merges of the run
            return "skipped: different ids"
        return "merged"
    key = ":".join(sorted((first.id, second.id)))
    if repo.live_pair_keys(session, [key]):
        return "skipped: already suggested"
    flip = root_a.id != first.id  # the evidence was weighed a against b
    repo.propose(session, [service.suggestion_row(
        key, first.id, second.id, origin="dedupe", score=weight, probability=probability,
        evidence=[_flipped(f) for f in evidence] if flip else evidence, shared=[],
        event_id=None, run_id=run_id, now=now)])
    return "suggested"


def _flipped(field_evidence: dict[str, object]) -> dict[str, object]:
    return {**field_evidence, "left": field_evidence["right"], "right": field_evidence["left"]}
