"""identity review: suggested pairs for review, why an identifier is shared, dedupe runs

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 23:03:12.990341
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import circulo.db

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dedupe_pairs",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("profile_a", sa.String(length=32), nullable=False),
        sa.Column("profile_b", sa.String(length=32), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column(
            "evidence",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("run_id", "seq"),
        sa.UniqueConstraint("run_id", "profile_a", "profile_b", name="uq_dedupe_pairs_pair"),
    )
    op.create_table(
        "dedupe_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column(
            "options",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("profiles", sa.Integer(), nullable=False),
        sa.Column("compared", sa.BigInteger(), nullable=False),
        sa.Column("candidates", sa.Integer(), nullable=False),
        sa.Column("suggested", sa.Integer(), nullable=False),
        sa.Column("merged", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("started_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", circulo.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "identity_suggestions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("pair_key", sa.String(length=65), nullable=False),
        sa.Column("profile_a", sa.String(length=32), nullable=False),
        sa.Column("profile_b", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("origin", sa.String(length=12), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.Column(
            "evidence",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "shared",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=32), nullable=True),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", circulo.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("merge_id", sa.String(length=32), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pair_key"),
    )
    with op.batch_alter_table("identity_suggestions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_suggestions_profile_a"), ["profile_a"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_identity_suggestions_profile_b"), ["profile_b"], unique=False
        )
        batch_op.create_index(
            "ix_identity_suggestions_status_time", ["status", "created_at"], unique=False
        )

    with op.batch_alter_table("shared_identifiers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reason", sa.String(length=16), server_default="limit", nullable=False)
        )

    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contacts", JSON_TYPE, server_default="{}", nullable=False))
    _backfill_contacts()


def _backfill_contacts() -> None:
    """Which source stated which e-mail and phone, replayed from the stored events that
    describe the person (those with traits), as ingest keeps it from now on: the last five
    values per source and kind."""
    connection = op.get_bind()
    events = sa.table("events", sa.column("profile_id"), sa.column("source"),
                      sa.column("identifiers", JSON_TYPE), sa.column("traits", JSON_TYPE),
                      sa.column("occurred_at"), sa.column("id"))
    profiles = sa.table("profiles", sa.column("id"), sa.column("contacts", JSON_TYPE))
    rows = connection.execute(  # streamed, by the statement (the connection goes on)
        sa.select(events.c.profile_id, events.c.source, events.c.identifiers)
        .where(events.c.profile_id.is_not(None), events.c.traits.is_not(None))
        .order_by(events.c.occurred_at, events.c.id)
        .execution_options(yield_per=10_000)
    )
    contacts: dict[str, dict[str, dict[str, list[str]]]] = {}
    for profile_id, source, identifiers in rows:
        for kind in ("email", "phone"):
            given = (identifiers or {}).get(kind)
            values = [given] if isinstance(given, str) else list(given or [])
            if not values:
                continue
            kept = contacts.setdefault(profile_id, {}).setdefault(source, {}).setdefault(
                kind, [])
            for value in values:
                if value not in kept:
                    kept[:] = [*kept, value][-5:]
    update = (sa.update(profiles).where(profiles.c.id == sa.bindparam("pid"))
              .values(contacts=sa.bindparam("value", type_=JSON_TYPE)))
    items = [{"pid": pid, "value": value} for pid, value in contacts.items()]
    for start in range(0, len(items), 1000):
        connection.execute(update, items[start : start + 1000])


def downgrade() -> None:
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.drop_column("contacts")

    with op.batch_alter_table("shared_identifiers", schema=None) as batch_op:
        batch_op.drop_column("reason")

    with op.batch_alter_table("identity_suggestions", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_suggestions_status_time")
        batch_op.drop_index(batch_op.f("ix_identity_suggestions_profile_b"))
        batch_op.drop_index(batch_op.f("ix_identity_suggestions_profile_a"))

    op.drop_table("identity_suggestions")
    op.drop_table("dedupe_runs")
    op.drop_table("dedupe_pairs")
