"""outbound: stored error answers keep their status only

Until now a failed delivery kept the first bytes of what answered (``HTTP 500: <body>``,
``... answered 503: <body>``) and how a connection failed (``cannot connect: <addresses>``),
and the API served both: through a URL someone saved, anything inside the network could be
read. Releases from this one keep the status and a fixed phrase; this scrubs what the earlier
ones stored in outbox.last_error, delivery_attempts.error and campaigns.error.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 02:00:00
"""

from __future__ import annotations

import re
from http import HTTPStatus

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# (table, key column, error column)
COLUMNS = (("outbox", "seq", "last_error"), ("delivery_attempts", "id", "error"),
           ("campaigns", "id", "error"))
_ANSWER = re.compile(r"^(HTTP |.*? answered )(\d{3}): .*$", re.DOTALL)
_CONNECT = re.compile(r"^cannot connect: .*$", re.DOTALL)
BATCH = 1000


def _phrase(status: str) -> str:
    try:
        return f"{status} {HTTPStatus(int(status)).phrase}"
    except ValueError:
        return status


def scrubbed(error: str) -> str | None:
    """The error as this release would have written it, or None when it is already so."""
    answer = _ANSWER.match(error)
    new = f"{answer.group(1)}{_phrase(answer.group(2))}" if answer \
        else "cannot connect: connection failed" if _CONNECT.match(error) else error
    return new if new != error else None


def scrub(connection: sa.engine.Connection) -> int:
    """Rewrite every stored error that holds what answered; returns how many."""
    changed = 0
    for table_name, key_name, column_name in COLUMNS:
        table = sa.table(table_name, sa.column(key_name), sa.column(column_name))
        key, column = table.c[key_name], table.c[column_name]
        last = None
        while True:
            query = sa.select(key, column).where(
                sa.or_(column.like("HTTP %: %"), column.like("% answered %: %"),
                       column.like("cannot connect: %"))).order_by(key).limit(BATCH)
            if last is not None:
                query = query.where(key > last)
            rows = connection.execute(query).all()
            if not rows:
                break
            updates = [{"k": row[0], "e": new} for row in rows
                       if (new := scrubbed(row[1])) is not None]
            if updates:
                connection.execute(sa.update(table).where(key == sa.bindparam("k"))
                                   .values({column_name: sa.bindparam("e")}), updates)
                changed += len(updates)
            last = rows[-1][0]
    return changed


def upgrade() -> None:
    scrub(op.get_bind())


def downgrade() -> None:
    pass  # what was scrubbed is gone, by design
