"""Every query of the identity domain."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from circulo.db import bulk_insert
from circulo.identity.models import (
    DedupePair,
    DedupeRun,
    ErasedIdentifier,
    IdentifierRow,
    MergeLogEntry,
    SharedIdentifierFlag,
    Suggestion,
)

CHUNK = 500
IDENTIFIERS = cast(Table, IdentifierRow.__table__)


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def lock_identifiers(session: Session, keys: Iterable[str]) -> None:
    """PostgreSQL: serialise concurrent writers that touch the same identifiers, in a fixed
    order so two batches never deadlock. SQLite already serialises writers (BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    lock_ids = sorted(
        {int.from_bytes(hashlib.blake2b(k.encode(), digest_size=8).digest(), "big", signed=True)
         for k in keys}
    )
    for chunk in _chunks(lock_ids, 1000):
        session.execute(
            text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"),
            {"keys": list(chunk)},
        )


def holders(session: Session, pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """``kind:value`` -> distinct profile ids currently holding it."""
    return holders_and_flags(session, pairs, flags=False)[0]


def holders_and_flags(session: Session, pairs: Sequence[tuple[str, str]], *, flags: bool
                      ) -> tuple[dict[str, list[str]], set[str]]:
    """``kind:value`` -> distinct profile ids currently holding it; and, with ``flags``,
    which of the held ones are flagged as shared (joined here: no second query)."""
    result: dict[str, list[str]] = {}
    flagged: set[str] = set()
    wanted = set(pairs)
    columns = [IdentifierRow.kind, IdentifierRow.value, IdentifierRow.profile_id]
    # One-column IN (then the kind filtered here): a tuple IN is recompiled for every size.
    for chunk in _chunks(sorted({value for _, value in wanted})):
        if flags:
            query = select(*columns, SharedIdentifierFlag.kind).outerjoin(
                SharedIdentifierFlag, (SharedIdentifierFlag.kind == IdentifierRow.kind)
                & (SharedIdentifierFlag.value == IdentifierRow.value))
        else:
            query = select(*columns)
        for row in session.execute(query.where(IdentifierRow.value.in_(chunk))):
            kind, value, profile_id = row[0], row[1], row[2]
            if (kind, value) not in wanted:
                continue
            key = f"{kind}:{value}"
            bucket = result.setdefault(key, [])
            if profile_id not in bucket:
                bucket.append(profile_id)
            if flags and row[3] is not None:
                flagged.add(key)
    return result, flagged


_HOLDING = (
    select(IdentifierRow.profile_id)
    .where(IdentifierRow.value == bindparam("value"), IdentifierRow.kind == bindparam("kind"))
    .distinct()
)


def profiles_holding(session: Session, kind: str, value: str) -> list[str]:
    # A prebuilt statement: the card lookup is the hottest read path.
    rows = session.execute(_HOLDING, {"kind": kind, "value": value})
    return sorted(r[0] for r in rows)


def external_ids_of(session: Session, profile_ids: Sequence[str]) -> dict[str, dict[str, str]]:
    result: dict[str, dict[str, str]] = {}
    for chunk in _chunks(list(profile_ids)):
        rows = session.execute(
            select(IdentifierRow.profile_id, IdentifierRow.value).where(
                IdentifierRow.profile_id.in_(chunk), IdentifierRow.kind == "external_id"
            )
        )
        for profile_id, value in rows:
            result.setdefault(profile_id, {}).setdefault(value.split(":", 1)[0], value)
    return result


def identifiers_of(session: Session, profile_id: str) -> list[IdentifierRow]:
    return list(session.scalars(
        select(IdentifierRow).where(IdentifierRow.profile_id == profile_id)
        .order_by(IdentifierRow.kind, IdentifierRow.value, IdentifierRow.id)
    ))


def contact_points_of(session: Session, profile_ids: Sequence[str]
                      ) -> dict[str, list[tuple[str, str]]]:
    """(kind, value) of the phones and emails of many profiles, oldest first."""
    found: dict[str, list[tuple[str, str]]] = {}
    for chunk in _chunks(sorted(set(profile_ids))):
        rows = session.execute(
            select(IdentifierRow.profile_id, IdentifierRow.kind, IdentifierRow.value)
            .where(IdentifierRow.profile_id.in_(chunk),
                   IdentifierRow.kind.in_(("phone", "email")))
            .order_by(IdentifierRow.profile_id, IdentifierRow.id))
        for profile_id, kind, value in rows:
            found.setdefault(profile_id, []).append((kind, value))
    return found


def insert_identifiers(session: Session, rows: list[dict[str, Any]]) -> None:
    bulk_insert(session, IDENTIFIERS, rows)


def move_identifiers(session: Session, from_profile: str, to_profile: str) -> None:
    session.execute(
        update(IdentifierRow).where(IdentifierRow.profile_id == from_profile)
        .values(profile_id=to_profile)
    )


def restore_identifiers(session: Session, origins: Sequence[str], to_profile: str) -> None:
    session.execute(
        update(IdentifierRow).where(IdentifierRow.origin_profile_id.in_(list(origins)))
        .values(profile_id=to_profile)
    )


def delete_identifiers(session: Session, profile_ids: Sequence[str]) -> int:
    result = session.execute(
        delete(IdentifierRow).where(
            IdentifierRow.profile_id.in_(list(profile_ids))
            | IdentifierRow.origin_profile_id.in_(list(profile_ids))
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def add_merge_log(session: Session, entry: MergeLogEntry) -> None:
    session.add(entry)


def get_merge(session: Session, merge_id: str) -> MergeLogEntry | None:
    return session.get(MergeLogEntry, merge_id)


def undo_of(session: Session, merge_id: str) -> MergeLogEntry | None:
    return session.scalar(select(MergeLogEntry).where(MergeLogEntry.undoes_id == merge_id))


def merges_involving(session: Session, profile_ids: Sequence[str] | None,
                     limit: int) -> list[MergeLogEntry]:
    query = select(MergeLogEntry)
    if profile_ids is not None:
        ids = list(profile_ids)
        query = query.where(MergeLogEntry.survivor_id.in_(ids) | MergeLogEntry.absorbed_id.in_(ids))
    return list(session.scalars(
        query.order_by(MergeLogEntry.created_at.desc(), MergeLogEntry.id.desc()).limit(limit)
    ))


def scrub_merge_log(session: Session, profile_ids: Sequence[str]) -> None:
    ids = list(profile_ids)
    session.execute(
        update(MergeLogEntry)
        .where(MergeLogEntry.survivor_id.in_(ids) | MergeLogEntry.absorbed_id.in_(ids))
        .values(reason="[erased]", event_id=None)
    )


def flag_shared(session: Session, flags: dict[tuple[str, str], int], now: datetime,
                reason: str = "limit") -> None:
    for (kind, value), count in flags.items():
        existing = session.get(SharedIdentifierFlag, (kind, value))
        if existing is None:
            session.add(SharedIdentifierFlag(kind=kind, value=value, profile_count=count,
                                             first_flagged_at=now, last_seen_at=now,
                                             reason=reason))
        else:
            existing.profile_count = max(existing.profile_count, count)
            existing.last_seen_at = now


def unflag(session: Session, pairs: Sequence[tuple[str, str]], reason: str) -> None:
    for chunk in _chunks(list(pairs)):
        session.execute(delete(SharedIdentifierFlag).where(
            SharedIdentifierFlag.reason == reason,
            tuple_(SharedIdentifierFlag.kind, SharedIdentifierFlag.value).in_(list(chunk)),
        ))


def holder_counts(session: Session, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    return {(k, v): len(ps) for key, ps in holders(session, pairs).items()
            for k, _, v in [key.partition(":")]}


def list_shared(session: Session, limit: int) -> list[SharedIdentifierFlag]:
    return list(session.scalars(
        select(SharedIdentifierFlag)
        .order_by(SharedIdentifierFlag.profile_count.desc(), SharedIdentifierFlag.kind,
                  SharedIdentifierFlag.value).limit(limit)
    ))


def delete_flags(session: Session, pairs: Sequence[tuple[str, str]]) -> None:
    for chunk in _chunks(list(pairs)):
        session.execute(delete(SharedIdentifierFlag).where(
            tuple_(SharedIdentifierFlag.kind, SharedIdentifierFlag.value).in_(list(chunk))
        ))


def separated_pairs(session: Session, profile_ids: Sequence[str]) -> list[tuple[str, str]]:
    """Pairs involving these profiles that a person said are two people: merges undone
    (the undo entries) and suggestions rejected."""
    pairs: list[tuple[str, str]] = []
    sources = (
        (MergeLogEntry.survivor_id, MergeLogEntry.absorbed_id, MergeLogEntry.action == "undo"),
        (Suggestion.profile_a, Suggestion.profile_b, Suggestion.status == "rejected"),
    )
    for left, right, condition in sources:
        for chunk in _chunks(list(profile_ids)):
            rows = session.execute(select(left, right).where(
                condition, left.in_(chunk) | right.in_(chunk)))
            pairs.extend((a, b) for a, b in rows)
    return pairs


def identifiers_for_erasure(session: Session, profile_ids: Sequence[str]
                            ) -> list[tuple[str, str]]:
    ids = list(profile_ids)
    rows = session.execute(
        select(IdentifierRow.kind, IdentifierRow.value).where(
            IdentifierRow.profile_id.in_(ids) | IdentifierRow.origin_profile_id.in_(ids)
        )
    )
    return [(k, v) for k, v in rows]


# --- suggestions (the review queue) ----------------------------------------------------------

def live_pair_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """The pairs among ``keys`` already suggested and not closed: open, accepted or rejected
    (an obsolete one may be suggested again)."""
    found: set[str] = set()
    for chunk in _chunks(sorted(set(keys))):
        found.update(session.scalars(
            select(Suggestion.pair_key).where(Suggestion.pair_key.in_(chunk),
                                              Suggestion.status != "obsolete")))
    return found


def propose(session: Session, rows: list[dict[str, Any]]) -> None:
    """New suggestions, or obsolete ones of the same pair opened again with new evidence.
    A pair suggested concurrently by another transaction is left to it (no error)."""
    if not rows:
        return
    keys = [r["pair_key"] for r in rows]
    for row in rows:
        session.execute(
            update(Suggestion)
            .where(Suggestion.pair_key == row["pair_key"], Suggestion.status == "obsolete")
            .values(**{k: v for k, v in row.items() if k not in ("id", "pair_key")},
                    decided_at=None, decided_by=None, merge_id=None, note=None))
    existing = set(session.scalars(select(Suggestion.pair_key)
                                   .where(Suggestion.pair_key.in_(keys))))
    fresh = [r for r in rows if r["pair_key"] not in existing]
    if fresh:
        insert = (postgresql_insert if session.get_bind().dialect.name == "postgresql"
                  else sqlite_insert)
        session.execute(insert(Suggestion).on_conflict_do_nothing(
            index_elements=["pair_key"]), fresh)


def get_suggestion(session: Session, suggestion_id: str, *, for_update: bool = False
                   ) -> Suggestion | None:
    query = select(Suggestion).where(Suggestion.id == suggestion_id)
    if for_update:
        query = query.with_for_update()
    return session.scalar(query)


def list_suggestions(session: Session, *, status: str, order: str, limit: int, offset: int,
                     customer_id: str | None) -> list[Suggestion]:
    query = select(Suggestion).where(Suggestion.status == status)
    if customer_id:
        query = query.where((Suggestion.profile_a == customer_id)
                            | (Suggestion.profile_b == customer_id))
    if order == "score":
        query = query.order_by(Suggestion.score.desc(), Suggestion.created_at.desc(),
                               Suggestion.id)
    else:
        query = query.order_by(Suggestion.created_at.desc(), Suggestion.id)
    return list(session.scalars(query.limit(limit).offset(offset)))


def close_after_merge(session: Session, absorbed: Sequence[str], *, now: datetime) -> None:
    """Open suggestions about customers merged away become obsolete: the evidence was
    about a profile that no longer stands on its own (its survivor's stay open)."""
    for chunk in _chunks(sorted(set(absorbed))):
        session.execute(
            update(Suggestion)
            .where(Suggestion.status == "open",
                   Suggestion.profile_a.in_(chunk) | Suggestion.profile_b.in_(chunk))
            .values(status="obsolete", note="merged", decided_at=now))


def scrub_suggestions(session: Session, profile_ids: Sequence[str], now: datetime) -> None:
    """Erasure: the evidence (names, dates, addresses) goes; the pair is closed."""
    ids = list(profile_ids)
    involving = Suggestion.profile_a.in_(ids) | Suggestion.profile_b.in_(ids)
    session.execute(update(Suggestion).where(involving, Suggestion.status == "open")
                    .values(status="obsolete", decided_at=now))
    session.execute(update(Suggestion).where(involving)
                    .values(evidence=[], shared=[], note="erased"))


# --- batch deduplication ---------------------------------------------------------------------

DEDUPE_PAIRS = cast(Table, DedupePair.__table__)


def all_identifiers(session: Session, kinds: Sequence[str]
                    ) -> Iterator[tuple[str, str, str]]:
    """(profile id, kind, value) of every identifier of these kinds, streamed."""
    rows = session.execute(
        select(IdentifierRow.profile_id, IdentifierRow.kind, IdentifierRow.value)
        .where(IdentifierRow.kind.in_(list(kinds)))
        .execution_options(yield_per=10_000))
    yield from ((profile_id, kind, value) for profile_id, kind, value in rows)


def unfinished_run(session: Session) -> DedupeRun | None:
    return session.scalar(select(DedupeRun).where(DedupeRun.status == "scored")
                          .order_by(DedupeRun.started_at.desc()).limit(1))


def get_run(session: Session, run_id: str, *, for_update: bool = False) -> DedupeRun | None:
    query = select(DedupeRun).where(DedupeRun.id == run_id)
    if for_update:
        query = query.with_for_update()
    return session.scalar(query)


def clear_pair_evidence(session: Session, run_id: str) -> None:
    session.execute(update(DedupePair).where(DedupePair.run_id == run_id).values(evidence=[]))


def add_run(session: Session, run: DedupeRun) -> None:
    session.add(run)
    session.flush()


def add_pairs(session: Session, rows: list[dict[str, Any]]) -> None:
    for chunk in _chunks(rows, 1000):
        bulk_insert(session, DEDUPE_PAIRS, list(chunk))


def pending_pairs(session: Session, run_id: str, limit: int) -> list[DedupePair]:
    return list(session.scalars(
        select(DedupePair).where(DedupePair.run_id == run_id, DedupePair.outcome.is_(None))
        .order_by(DedupePair.seq).limit(limit)))


def outcome_counts(session: Session, run_id: str) -> dict[str, int]:
    rows = session.execute(
        select(DedupePair.outcome, func.count()).where(DedupePair.run_id == run_id)
        .group_by(DedupePair.outcome))
    return {str(outcome): int(n) for outcome, n in rows}


def delete_dedupe_pairs_of(session: Session, profile_ids: Sequence[str]) -> None:
    """Erasure: scored pairs carry names and dates."""
    ids = list(profile_ids)
    session.execute(delete(DedupePair).where(
        DedupePair.profile_a.in_(ids) | DedupePair.profile_b.in_(ids)))


# -- the suppression list (erased identifiers, identity/suppression.py) ------------------------


def any_suppressed(session: Session) -> bool:
    return session.scalar(select(ErasedIdentifier.digest).limit(1)) is not None


def suppressed_among(session: Session, digests: Sequence[str]) -> set[str]:
    found: set[str] = set()
    unique = sorted(set(digests))
    for start in range(0, len(unique), CHUNK):
        found.update(session.scalars(select(ErasedIdentifier.digest).where(
            ErasedIdentifier.digest.in_(unique[start:start + CHUNK]))))
    return found


def add_suppressions(session: Session, digests: Sequence[str], now: datetime) -> int:
    new = sorted(set(digests) - suppressed_among(session, digests))
    session.add_all(ErasedIdentifier(digest=d, erased_at=now) for d in new)
    return len(new)


def lift_suppressions(session: Session, digests: Sequence[str]) -> int:
    result = session.execute(delete(ErasedIdentifier).where(
        ErasedIdentifier.digest.in_(list(digests))))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
