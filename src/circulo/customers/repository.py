"""Every query of the customer domain: profiles, events (timeline) and records."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from circulo.customers.models import Event, PinAttempts, Profile, Record
from circulo.customers.pins import Attempts
from circulo.customers.state import ProfileState
from circulo.db import bulk_insert, bulk_update

PROFILES = cast(Table, Profile.__table__)
EVENTS = cast(Table, Event.__table__)
RECORDS = cast(Table, Record.__table__)
_STATE_COLUMNS = [c for c in PROFILES.c if c.name in ProfileState.COLUMNS]

CHUNK = 500


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- profiles -------------------------------------------------------------------------------

_ONE_PROFILE = select(*_STATE_COLUMNS).where(PROFILES.c.id == bindparam("id"))
_OPEN_RECORDS = (
    select(Record).where(Record.profile_id == bindparam("profile_id"), Record.is_open.is_(True))
    .order_by(Record.updated_at.desc(), Record.id.desc()).limit(bindparam("limit"))
)
_OPEN_RECORDS_OF = (
    select(Record).where(Record.profile_id.in_(bindparam("ids", expanding=True)),
                         Record.is_open.is_(True))
    .order_by(Record.profile_id, Record.updated_at.desc(), Record.id.desc())
)
_RECENT_OF_TYPES = (
    select(Event).where(Event.profile_id == bindparam("profile_id"),
                        Event.type.in_(bindparam("types", expanding=True)))
    .order_by(Event.occurred_at.desc(), Event.id.desc()).limit(bindparam("limit"))
)


def get_profile_state(session: Session, profile_id: str) -> ProfileState | None:
    row = session.execute(_ONE_PROFILE, {"id": profile_id}).mappings().first()
    return ProfileState(**row) if row else None


def open_records(session: Session, profile_id: str, limit: int) -> list[Record]:
    return list(session.scalars(_OPEN_RECORDS, {"profile_id": profile_id, "limit": limit}))


def open_records_of_kind(session: Session, kind: str) -> Iterator[Record]:
    """Every open record of a kind, newest first, streamed (a journey's audience)."""
    query = select(Record).where(Record.kind == kind, Record.is_open.is_(True)) \
        .order_by(Record.updated_at.desc(), Record.id.desc()) \
        .execution_options(yield_per=1000)
    yield from session.scalars(query)


def open_records_of(session: Session, profile_ids: Sequence[str], limit: int
                    ) -> dict[str, list[Record]]:
    """Open records of several profiles, newest first, at most ``limit`` each."""
    found: dict[str, list[Record]] = {}
    for chunk in _chunks(sorted(set(profile_ids))):
        for record in session.scalars(_OPEN_RECORDS_OF, {"ids": list(chunk)}):
            kept = found.setdefault(record.profile_id, [])
            if len(kept) < limit:
                kept.append(record)
    return found


def recent_of_types(session: Session, profile_id: str, types: Sequence[str], limit: int
                    ) -> list[Event]:
    params = {"profile_id": profile_id, "types": list(types), "limit": limit}
    return list(session.scalars(_RECENT_OF_TYPES, params))


def get_profiles(session: Session, ids: Iterable[str], *, for_update: bool = False
                 ) -> dict[str, ProfileState]:
    """Profiles by id, as plain state. ``for_update`` row-locks them in id order (PostgreSQL),
    so concurrent batches touching the same customers queue instead of losing an update."""
    result: dict[str, ProfileState] = {}
    lock = for_update and session.get_bind().dialect.name == "postgresql"
    for chunk in _chunks(sorted(set(ids))):
        query = select(*_STATE_COLUMNS).where(PROFILES.c.id.in_(chunk)).order_by(PROFILES.c.id)
        if lock:
            query = query.with_for_update()
        for row in session.execute(query).mappings():
            state = ProfileState(**row)
            result[state.id] = state
    return result


def save_profiles(session: Session, states: Iterable[ProfileState]) -> None:
    """Write new and changed profiles: one executemany for each kind."""
    new, changed = [], []
    for state in states:
        if state.is_new:
            new.append(state.as_row())
            state.is_new = state.dirty = False
        elif state.dirty:
            changed.append(state.as_row())
            state.dirty = False
    bulk_insert(session, PROFILES, new)
    bulk_update(session, PROFILES, "id", changed)


def created_at_of(session: Session, ids: Sequence[str]) -> dict[str, datetime]:
    result: dict[str, datetime] = {}
    for chunk in _chunks(list(ids)):
        rows = session.execute(select(Profile.id, Profile.created_at).where(Profile.id.in_(chunk)))
        result.update({pid: created for pid, created in rows})
    return result


def evidence_of(session: Session, ids: Sequence[str]
                ) -> dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    result: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {}
    for chunk in _chunks(sorted(set(ids))):
        rows = session.execute(select(Profile.id, Profile.traits, Profile.trait_meta,
                                      Profile.contacts).where(Profile.id.in_(chunk)))
        result.update({pid: (traits or {}, meta or {}, contacts or {})
                       for pid, traits, meta, contacts in rows})
    return result


def active_traits(session: Session) -> Iterator[tuple[str, dict[str, Any]]]:
    """(id, traits) of every active profile, streamed."""
    rows = session.execute(
        select(Profile.id, Profile.traits).where(Profile.status == "active")
        .order_by(Profile.id).execution_options(yield_per=5000))
    for pid, traits in rows:
        yield pid, traits or {}


def merged_into_any(session: Session, profile_ids: Sequence[str]) -> list[tuple[str, str]]:
    """(child, parent) for the profiles merged directly into any of these."""
    found: list[tuple[str, str]] = []
    for chunk in _chunks(sorted(set(profile_ids))):
        rows = session.execute(
            select(Profile.id, Profile.merged_into).where(Profile.merged_into.in_(chunk)))
        found.extend((child, parent) for child, parent in rows if parent)
    return found


def merged_children(session: Session, profile_ids: Sequence[str]) -> list[str]:
    query = select(Profile.id).where(Profile.merged_into.in_(list(profile_ids)))
    return list(session.scalars(query))


def count_profiles(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Profile)) or 0)


# --- events ---------------------------------------------------------------------------------

def existing_client_ids(session: Session, pairs: Sequence[tuple[str, str]]
                        ) -> dict[tuple[str, str], tuple[str, str | None, str]]:
    """(source, client id) -> (event id, profile id, resolution) of events already stored."""
    result: dict[tuple[str, str], tuple[str, str | None, str]] = {}
    wanted = set(pairs)
    for chunk in _chunks(sorted({client_id for _, client_id in wanted})):
        rows = session.execute(
            select(Event.source, Event.client_id, Event.id, Event.profile_id, Event.resolution)
            .where(Event.client_id.in_(chunk))
        )
        for source, client_id, event_id, profile_id, resolution in rows:
            if (source, client_id) in wanted:
                result[(source, str(client_id))] = (event_id, profile_id, resolution)
    return result


def insert_events(session: Session, rows: list[dict[str, Any]]) -> None:
    bulk_insert(session, EVENTS, rows)


def get_event(session: Session, event_id: str, *, for_update: bool = False) -> Event | None:
    query = select(Event).where(Event.id == event_id)
    if for_update:
        query = query.with_for_update()
    return session.scalar(query)


def events_by_ids(session: Session, ids: Sequence[str]) -> dict[str, Event]:
    found: dict[str, Event] = {}
    for chunk in _chunks(sorted(set(ids))):
        found.update((e.id, e) for e in session.scalars(select(Event).where(Event.id.in_(chunk))))
    return found


def set_analyses(session: Session, analyses: dict[str, dict[str, Any]]) -> None:
    """Store what reading each event's text found (one executemany)."""
    bulk_update(session, EVENTS, "id", [{"analysis": a, "id": event_id}
                                        for event_id, a in sorted(analyses.items())])


def open_record_counts(session: Session, profile_ids: Sequence[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for chunk in _chunks(sorted(set(profile_ids))):
        rows = session.execute(
            select(Record.profile_id, func.count()).where(
                Record.profile_id.in_(chunk), Record.is_open.is_(True))
            .group_by(Record.profile_id))
        counts.update({pid: int(n) for pid, n in rows})
    return counts


def timeline(session: Session, profile_id: str, *, limit: int,
             before: tuple[datetime, str] | None, types: Sequence[str] | None = None
             ) -> list[Event]:
    query = select(Event).where(Event.profile_id == profile_id)
    if before is not None:
        query = query.where(tuple_(Event.occurred_at, Event.id) < tuple_(*before))
    if types:
        query = query.where(Event.type.in_(list(types)))
    query = query.order_by(Event.occurred_at.desc(), Event.id.desc()).limit(limit)
    return list(session.scalars(query))


def events_in_order(session: Session, profile_id: str) -> list[Event]:
    return list(session.scalars(
        select(Event).where(Event.profile_id == profile_id)
        .order_by(Event.occurred_at, Event.id)
    ))


def count_events(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Event)) or 0)


# --- records --------------------------------------------------------------------------------

def records_by_keys(session: Session, keys: Sequence[tuple[str, str, str]]
                    ) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Existing records as plain rows (changed in memory, written back with update_records)."""
    result: dict[tuple[str, str, str], dict[str, Any]] = {}
    wanted = set(keys)
    for chunk in _chunks(sorted({key for _, _, key in wanted})):
        for row in session.execute(select(RECORDS).where(RECORDS.c.key.in_(chunk))).mappings():
            if (row["kind"], row["source"], row["key"]) in wanted:
                result[(row["kind"], row["source"], row["key"])] = dict(row)
    return result


def insert_records(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(RECORDS), rows)


def update_records(session: Session, rows: list[dict[str, Any]]) -> None:
    bulk_update(session, RECORDS, "id", rows)


def records_of(session: Session, profile_id: str, *, open_only: bool = False,
               kind: str | None = None, limit: int = 100) -> list[Record]:
    query = select(Record).where(Record.profile_id == profile_id)
    if open_only:
        query = query.where(Record.is_open.is_(True))
    if kind:
        query = query.where(Record.kind == kind)
    return list(session.scalars(query.order_by(Record.updated_at.desc(), Record.id.desc())
                                .limit(limit)))


# --- rows owned by a profile (events and records) ---------------------------------------------
# Both carry profile_id (where they are now) and origin_profile_id (where they started).
OWNED: tuple[type[Event] | type[Record], ...] = (Event, Record)


def move_owned(session: Session, from_profile: str, to_profile: str) -> None:
    for model in OWNED:
        session.execute(update(model).where(model.profile_id == from_profile)
                        .values(profile_id=to_profile))


def restore_owned(session: Session, origins: Sequence[str], to_profile: str) -> None:
    for model in OWNED:
        session.execute(update(model).where(model.origin_profile_id.in_(list(origins)))
                        .values(profile_id=to_profile))


def delete_owned(session: Session, profile_ids: Sequence[str]) -> dict[str, int]:
    ids = list(profile_ids)
    removed = {}
    for model in OWNED:
        result = session.execute(delete(model).where(
            model.profile_id.in_(ids) | model.origin_profile_id.in_(ids)
        ))
        removed[model.__tablename__] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    session.execute(delete(PinAttempts).where(PinAttempts.profile_id.in_(ids)))
    return removed


def event_types(session: Session) -> list[str]:
    return list(session.scalars(select(Event.type).distinct()))


def events_since(session: Session, since: datetime, *, after: tuple[datetime, str] | None,
                 limit: int) -> Sequence[Event]:
    """Events in the order they happened, a page at a time (replays), those of no customer
    included (a journey's audience fans them out)."""
    query = select(Event).where(Event.occurred_at >= since)
    if after is not None:
        query = query.where(tuple_(Event.occurred_at, Event.id) > tuple_(*after))
    return session.scalars(query.order_by(Event.occurred_at, Event.id).limit(limit)).all()


# --- wrong PINs -------------------------------------------------------------------------------

def pin_attempts_for_update(session: Session, profile_id: str, now: datetime) -> Attempts:
    """The customer's wrong PINs, their row locked until the transaction ends: concurrent
    checks of one customer's PIN (other workers included) queue here instead of each
    counting from the same number."""
    insert_ = (postgresql_insert if session.get_bind().dialect.name == "postgresql"
               else sqlite_insert)
    session.execute(insert_(PinAttempts).values(
        profile_id=profile_id, failures=0, lockouts=0, locked_until=None, updated_at=now,
    ).on_conflict_do_nothing(index_elements=["profile_id"]))
    row = session.execute(select(PinAttempts.failures, PinAttempts.lockouts,
                                 PinAttempts.locked_until)
                          .where(PinAttempts.profile_id == profile_id).with_for_update()).one()
    return Attempts(row.failures, row.lockouts, row.locked_until)


def save_pin_attempts(session: Session, profile_id: str, attempts: Attempts,
                      now: datetime) -> None:
    session.execute(update(PinAttempts).where(PinAttempts.profile_id == profile_id).values(
        failures=attempts.failures, lockouts=attempts.lockouts,
        locked_until=attempts.locked_until, updated_at=now))


def forget_pin_attempts(session: Session, profile_id: str) -> None:
    session.execute(delete(PinAttempts).where(PinAttempts.profile_id == profile_id))
