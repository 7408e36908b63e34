"""Every query of recordings: the transcription queue, search over transcripts, erasure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from circulo.customers.models import Event
from circulo.speech.models import FAILED, PENDING, PROCESSING, Recording


def add(session: Session, recording: Recording) -> None:
    session.add(recording)
    session.flush()


def get(session: Session, recording_id: str) -> Recording | None:
    return session.get(Recording, recording_id)


def _due(now: datetime) -> Any:
    return or_(Recording.status == PENDING,
               (Recording.status == PROCESSING) & (Recording.lease_until < now))


def any_due(session: Session, now: datetime) -> bool:
    """Whether a recording waits (a read: an idle worker asks this, not ``next_due``)."""
    return session.scalar(select(Recording.id).where(_due(now)).limit(1)) is not None


def next_due(session: Session, now: datetime) -> Recording | None:
    """The oldest recording waiting, or one whose processing was abandoned (its process died
    past the lease): locked, so two workers never take the same one."""
    query = (select(Recording).where(_due(now))
             .order_by(Recording.created_at, Recording.id).limit(1))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query).first()


def search(session: Session, *, text: str | None, customer_ids: Sequence[str] | None,
           status: str | None, limit: int, offset: int) -> tuple[list[Recording], int]:
    """Newest first, with the total that match; ``text`` is a case-insensitive substring of
    the transcript (``%`` and ``_`` are literal)."""
    query = select(Recording)
    if text:
        query = query.where(Recording.transcript.icontains(text, autoescape=True))
    if customer_ids is not None:
        query = query.where(Recording.customer_id.in_(list(customer_ids)))
    if status:
        query = query.where(Recording.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Recording.created_at.desc(), Recording.id.desc())
                           .limit(limit).offset(offset))
    return list(rows), int(total)


def analysis_events(session: Session, customer_ids: Sequence[str], since: datetime,
                    limit: int = 200) -> list[Event]:
    """The customer's ``text.analyzed`` events from ``since`` on (the analysis of a
    transcript arrives after it)."""
    return list(session.scalars(
        select(Event).where(Event.profile_id.in_(list(customer_ids)), Event.type ==
                            "text.analyzed", Event.occurred_at >= since)
        .order_by(Event.occurred_at).limit(limit)))


def delete_of(session: Session, customer_ids: Sequence[str]) -> list[str]:
    """Erasure: the customers' recordings go; the paths of their files are returned."""
    paths = list(session.scalars(select(Recording.path).where(
        Recording.customer_id.in_(list(customer_ids)))))
    session.execute(delete(Recording).where(Recording.customer_id.in_(list(customer_ids))))
    return paths


def failed_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).where(Recording.status == FAILED)) or 0)
