"""The analysis inbox's queries."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.orm import Session

from circulo.db import bulk_insert
from circulo.textan.models import TextInbox

INBOX = cast(Table, TextInbox.__table__)


def _chunks(items: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def enqueue(session: Session, rows: list[dict[str, Any]]) -> None:
    bulk_insert(session, INBOX, rows)


def todo(session: Session, limit: int) -> Sequence[TextInbox]:
    """The oldest rows still to analyse (failed ones are left out), in order."""
    return session.scalars(select(TextInbox).where(TextInbox.failed_at.is_(None))
                           .order_by(TextInbox.seq).limit(limit)).all()


def row(session: Session, seq: int) -> TextInbox | None:
    return session.get(TextInbox, seq)


def drop(session: Session, seqs: Sequence[int]) -> None:
    for chunk in _chunks(sorted(seqs)):
        session.execute(delete(TextInbox).where(TextInbox.seq.in_(chunk)))


def count_attempt(session: Session, seq: int, error: str) -> int:
    session.execute(update(TextInbox).where(TextInbox.seq == seq)
                    .values(attempts=TextInbox.attempts + 1, error=error[:500]))
    return int(session.scalar(select(TextInbox.attempts).where(TextInbox.seq == seq)) or 0)


def mark_failed(session: Session, seq: int, now: datetime) -> None:
    session.execute(update(TextInbox).where(TextInbox.seq == seq).values(failed_at=now))


def summary(session: Session) -> tuple[int, int, datetime | None]:
    """(rows to do, rows failed, when the oldest row to do arrived)."""
    todo_count, oldest = session.execute(
        select(func.count(), func.min(TextInbox.created_at))
        .where(TextInbox.failed_at.is_(None))).one()
    failed = session.scalar(select(func.count()).select_from(TextInbox)
                            .where(TextInbox.failed_at.is_not(None)))
    return int(todo_count), int(failed or 0), oldest


def erase_customers(session: Session, customer_ids: Sequence[str]) -> dict[str, int]:
    removed = 0
    for chunk in _chunks(sorted(set(customer_ids))):
        result = session.execute(delete(TextInbox).where(TextInbox.customer_id.in_(chunk)))
        removed += int(getattr(result, "rowcount", 0) or 0)
    return {"text_inbox": removed}
