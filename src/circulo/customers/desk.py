"""The agent desktop's customer side (issue 16): notes every agent sees, who else has the
card open, the timeline by channel, and finding a customer by what the caller says.

Notes and viewers are kept on the customer's root profile and read across its merge cluster,
so a merge never hides a note. A viewer is a row refreshed while the card stays open (the
page polls): any process answers "who else is looking" from the database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from circulo.config import Settings
from circulo.customers import desk_repository as repo
from circulo.customers import service as customers
from circulo.customers.models import CustomerNote, Event
from circulo.errors import NotFound, ValidationFailed
from circulo.identity import service as identity
from circulo.ids import new_id

NOTE_LIMIT = 2000  # characters of one note
NOTES_SHOWN = 50
VIEWER_WINDOW = timedelta(seconds=30)  # a card not refreshed for this long is closed
SEARCH_LIMIT = 20
_PHONE_CHARS = re.compile(r"[\s+().\-/]")


@dataclass(frozen=True, slots=True)
class Note:
    id: str
    author: str
    text: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Viewer:
    user_id: str
    name: str
    since: datetime


@dataclass(frozen=True, slots=True)
class Hit:
    customer_id: str
    name: str | None
    matched_by: str  # phone | email | account | customer_id | external_id | name


def root_of(session: Session, customer_id: str) -> str:
    """The customer's active profile (following merges); NotFound if unknown or erased."""
    return customers.active_root(session, customer_id).id


def add_note(session: Session, customer_id: str, text: str, *, author_id: str,
             author_name: str, now: datetime, note_id: str | None = None) -> Note:
    """A note on the customer. ``note_id`` (the form's, fixed when it was drawn) makes a
    resubmission or a double click a no-op: the note already written is answered."""
    if note_id is not None:
        existing = repo.note(session, note_id)
        if existing is not None:
            return Note(existing.id, existing.author_name, existing.text, existing.created_at)
    text = text.strip()
    if not text or len(text) > NOTE_LIMIT:
        raise ValidationFailed(f"a note has 1 to {NOTE_LIMIT} characters", errors=[{
            "field": "text", "code": "empty" if not text else "too_long",
            "detail": f"got {len(text)} characters"}])
    root = root_of(session, customer_id)
    row = CustomerNote(id=note_id or new_id(), customer_id=root, author_id=author_id,
                       author_name=author_name, text=text, created_at=now)
    repo.add_note(session, row)
    return Note(row.id, row.author_name, row.text, row.created_at)


def notes_of(session: Session, customer_id: str) -> list[Note]:
    cluster = customers.cluster_of(session, root_of(session, customer_id))
    return [Note(n.id, n.author_name, n.text, n.created_at)
            for n in repo.notes_of(session, cluster, NOTES_SHOWN)]


def look(session: Session, customer_id: str, *, user_id: str, name: str, now: datetime,
         opened: bool = False) -> list[Viewer]:
    """The user has the card open: recorded, and the others looking now, first come first.
    ``opened`` (the card was just opened, not polled): the user's closed cards are forgotten."""
    root = root_of(session, customer_id)
    if opened:
        repo.forget_closed(session, user_id, now - VIEWER_WINDOW)
    repo.seen(session, root, user_id, name, now)
    return [Viewer(v.user_id, v.name, v.first_seen_at)
            for v in repo.viewers_since(session, root, now - VIEWER_WINDOW)
            if v.user_id != user_id]


def erase(session: Session, customer_ids: Sequence[str], now: datetime) -> dict[str, int]:
    return repo.erase(session, customer_ids)


def timeline(session: Session, customer_id: str, *, channel: str | None, limit: int = 30
             ) -> list[Event]:
    return repo.timeline(session, root_of(session, customer_id), channel=channel or None,
                         limit=limit)


def channels_of(session: Session, customer_id: str) -> list[str]:
    return repo.channels_of(session, root_of(session, customer_id))


def events_between(session: Session, customer_id: str, since: datetime, until: datetime,
                   limit: int = 200) -> list[Event]:
    return repo.events_between(session, root_of(session, customer_id), since, until, limit)


def event_by_client_id(session: Session, source: str, client_id: str) -> Event | None:
    return repo.event_by_client_id(session, source, client_id)


def search(session: Session, query: str, settings: Settings) -> list[Hit]:
    """Customers matching what the agent typed: an e-mail, a phone in any format, an
    account or customer number, a system's id (``crm:C-1``), or words of the name."""
    query = query.strip()[:200]
    if not query:
        return []
    found: dict[str, str] = {}

    def by(kind: str, value: str) -> None:
        try:
            ident = identity.normalize_lookup(kind, value, settings)
        except ValidationFailed:
            return
        for pid in identity.find_customers(session, ident):
            found.setdefault(pid, kind)

    if "@" in query:
        by("email", query)
    elif ":" in query and " " not in query:  # a system's id as Círculo writes it: crm:C-1
        by("external_id", query)
    else:
        digits = _PHONE_CHARS.sub("", query)
        if digits.isdigit() and len(digits) >= 6:
            by("phone", query)
        by("account", query)
        try:
            found.setdefault(root_of(session, query), "customer_id")
        except NotFound:
            pass
        words = query.split()
        if not digits.isdigit() and all(len(w) >= 2 for w in words):
            for pid in repo.profiles_named(session, words, SEARCH_LIMIT):
                found.setdefault(pid, "name")
    roots: dict[str, str] = {}
    for pid, kind in found.items():
        try:
            roots.setdefault(root_of(session, pid), kind)
        except NotFound:
            continue
    profiles = customers.profiles_by_ids(session, list(roots)[:SEARCH_LIMIT])
    return sorted((Hit(p.id, p.display_name, roots[p.id]) for p in profiles),
                  key=lambda h: ((h.name or "").lower(), h.customer_id))
