"""Queries of the agent desktop's customer side: notes, viewers, a channel's timeline, the
events before a contact, customers by name."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from circulo.customers.indicators import TEXT_ANALYZED
from circulo.customers.models import CustomerNote, CustomerViewer, Event, Profile


def _insert(session: Session) -> Any:
    return (postgresql_insert if session.get_bind().dialect.name == "postgresql"
            else sqlite_insert)


def add_note(session: Session, note: CustomerNote) -> None:
    """Written once: the same note id sent twice at once (a double click) is one note."""
    session.execute(_insert(session)(CustomerNote).values(
        id=note.id, customer_id=note.customer_id, author_id=note.author_id,
        author_name=note.author_name, text=note.text, created_at=note.created_at,
    ).on_conflict_do_nothing(index_elements=["id"]))


def note(session: Session, note_id: str) -> CustomerNote | None:
    return session.get(CustomerNote, note_id)


def notes_of(session: Session, customer_ids: Sequence[str], limit: int) -> list[CustomerNote]:
    return list(session.scalars(
        select(CustomerNote).where(CustomerNote.customer_id.in_(list(customer_ids)))
        .order_by(CustomerNote.created_at.desc(), CustomerNote.id.desc()).limit(limit)))


def seen(session: Session, customer_id: str, user_id: str, name: str, now: datetime) -> None:
    """The user has the card open now (one row per customer and user, whatever the process)."""
    session.execute(_insert(session)(CustomerViewer).values(
        customer_id=customer_id, user_id=user_id, name=name, first_seen_at=now, seen_at=now,
    ).on_conflict_do_nothing(index_elements=["customer_id", "user_id"]))
    session.execute(update(CustomerViewer).where(
        CustomerViewer.customer_id == customer_id, CustomerViewer.user_id == user_id,
        CustomerViewer.seen_at < now).values(seen_at=now, name=name))


def viewers_since(session: Session, customer_id: str, since: datetime
                  ) -> list[CustomerViewer]:
    return list(session.scalars(
        select(CustomerViewer).where(CustomerViewer.customer_id == customer_id,
                                     CustomerViewer.seen_at >= since)
        .order_by(CustomerViewer.first_seen_at, CustomerViewer.user_id)))


def forget_closed(session: Session, user_id: str, before: datetime) -> None:
    """The user's cards not refreshed since ``before``: closed, so their rows go (the table
    holds only the cards open now)."""
    session.execute(delete(CustomerViewer).where(CustomerViewer.user_id == user_id,
                                                 CustomerViewer.seen_at < before))


def erase(session: Session, customer_ids: Sequence[str]) -> dict[str, int]:
    ids = list(customer_ids)
    notes = session.execute(delete(CustomerNote).where(CustomerNote.customer_id.in_(ids)))
    viewers = session.execute(
        delete(CustomerViewer).where(CustomerViewer.customer_id.in_(ids)))
    return {"customer_notes": int(notes.rowcount or 0),  # type: ignore[attr-defined]
            "customer_viewers": int(viewers.rowcount or 0)}  # type: ignore[attr-defined]


def timeline(session: Session, profile_id: str, *, channel: str | None, limit: int
             ) -> list[Event]:
    # A message's analysis shows as badges on the message itself, not as a line of its own.
    query = select(Event).where(Event.profile_id == profile_id, Event.type != TEXT_ANALYZED)
    if channel == "none":
        query = query.where(Event.channel.is_(None))
    elif channel:
        query = query.where(Event.channel == channel)
    return list(session.scalars(
        query.order_by(Event.occurred_at.desc(), Event.id.desc()).limit(limit)))


def channels_of(session: Session, profile_id: str) -> list[str]:
    return sorted(c for c in session.scalars(
        select(Event.channel).where(Event.profile_id == profile_id,
                                    Event.channel.is_not(None)).distinct()) if c)


def events_between(session: Session, profile_id: str, since: datetime, until: datetime,
                   limit: int) -> list[Event]:
    """The customer's events in a window, newest first."""
    return list(session.scalars(
        select(Event).where(Event.profile_id == profile_id, Event.occurred_at >= since,
                            Event.occurred_at <= until)
        .order_by(Event.occurred_at.desc(), Event.id.desc()).limit(limit)))


def event_by_client_id(session: Session, source: str, client_id: str) -> Event | None:
    return session.scalars(select(Event).where(Event.source == source,
                                               Event.client_id == client_id)).first()


def profiles_named(session: Session, words: Sequence[str], limit: int) -> list[str]:
    """Active customers whose name holds every word (case-insensitive), by name."""
    query = select(Profile.id).where(Profile.status == "active",
                                     Profile.display_name.is_not(None))
    for word in words:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(or_(func.lower(Profile.display_name).like(
            f"%{escaped.lower()}%", escape="\\")))
    return list(session.scalars(query.order_by(Profile.display_name, Profile.id).limit(limit)))
