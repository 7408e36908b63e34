"""Every query of churn prediction: customers and their events to learn from and to score,
the stored models and the scores."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from circulo.churn.models import ChurnModelRow, ChurnScore
from circulo.customers.indicators import EventFacts
from circulo.customers.models import Event, Profile

CHUNK = 500


def active_customers(session: Session, *, after: str, limit: int
                     ) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(id, traits, trait meta) of active customers after ``after``, a page in id order."""
    rows = session.execute(
        select(Profile.id, Profile.traits, Profile.trait_meta)
        .where(Profile.status == "active", Profile.id > after)
        .order_by(Profile.id).limit(limit))
    return [(r.id, r.traits or {}, r.trait_meta or {}) for r in rows]


def count_active(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Profile)
                              .where(Profile.status == "active")) or 0)


def events_of(session: Session, customer_ids: Sequence[str], *,
              since: datetime | None = None, also_types: Sequence[str] = ()
              ) -> dict[str, list[EventFacts]]:
    """The customers' events (those since ``since`` and, whenever, those of ``also_types``),
    as the pure features read them."""
    out: dict[str, list[EventFacts]] = {cid: [] for cid in customer_ids}
    query = select(Event.profile_id, Event.type, Event.channel, Event.occurred_at,
                   Event.properties).where(Event.profile_id.in_(customer_ids))
    if since is not None:
        query = query.where((Event.occurred_at >= since) | Event.type.in_(also_types))
    for row in session.execute(query):
        out[row.profile_id].append(EventFacts(row.type, row.channel, row.occurred_at,
                                              row.properties or {}))
    return out


def first_seen(session: Session, customer_ids: Sequence[str]) -> dict[str, datetime]:
    rows = session.execute(select(Event.profile_id, func.min(Event.occurred_at))
                           .where(Event.profile_id.in_(customer_ids))
                           .group_by(Event.profile_id))
    return {pid: at for pid, at in rows if pid is not None}


# -- models --------------------------------------------------------------------------------------

def latest_version(session: Session) -> int:
    return int(session.scalar(select(func.max(ChurnModelRow.version))) or 0)


def add_model(session: Session, row: ChurnModelRow) -> None:
    session.add(row)
    session.flush()


def models(session: Session) -> Sequence[ChurnModelRow]:
    return session.scalars(select(ChurnModelRow).order_by(ChurnModelRow.version.desc())).all()


def get_model(session: Session, version: int) -> ChurnModelRow | None:
    return session.get(ChurnModelRow, version)


def active_model(session: Session) -> ChurnModelRow | None:
    return session.scalars(select(ChurnModelRow).where(ChurnModelRow.active.is_(True))
                           .limit(1)).first()


def activate(session: Session, version: int) -> None:
    session.execute(update(ChurnModelRow).values(active=ChurnModelRow.version == version))


# -- scores --------------------------------------------------------------------------------------

def scores_of(session: Session, customer_ids: Iterable[str]) -> dict[str, ChurnScore]:
    ids = list(customer_ids)
    found: dict[str, ChurnScore] = {}
    for start in range(0, len(ids), CHUNK):
        found.update((s.customer_id, s) for s in session.scalars(
            select(ChurnScore).where(ChurnScore.customer_id.in_(ids[start:start + CHUNK]))))
    return found


def last_scored_at(session: Session, version: int) -> datetime | None:
    return session.scalar(select(func.max(ChurnScore.scored_at))
                          .where(ChurnScore.model_version == version))


def save_scores(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    insert_ = (postgresql_insert if session.get_bind().dialect.name == "postgresql"
               else sqlite_insert)
    statement = insert_(ChurnScore)
    session.execute(statement.on_conflict_do_update(
        index_elements=["customer_id"],
        set_={name: statement.excluded[name]
              for name in ("risk", "factors", "model_version", "scored_at")}), rows)


def delete_scores(session: Session, customer_ids: Sequence[str]) -> int:
    removed = 0
    for start in range(0, len(customer_ids), CHUNK):
        result = session.execute(delete(ChurnScore).where(
            ChurnScore.customer_id.in_(customer_ids[start:start + CHUNK])))
        removed += int(getattr(result, "rowcount", 0) or 0)
    return removed
