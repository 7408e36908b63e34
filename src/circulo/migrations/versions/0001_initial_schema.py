"""initial schema: profiles, identifiers, events, records, merge log, api keys

Revision ID: 0001
Revises:
Create Date: 2026-11-24 01:40:14.156403
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import circulo.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=100), nullable=False),
        sa.Column("created_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", circulo.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("prefix"),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("occurred_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=True),
        sa.Column("origin_profile_id", sa.String(length=32), nullable=True),
        sa.Column("resolution", sa.String(length=12), nullable=False),
        sa.Column(
            "identifiers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "traits",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "properties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "candidates",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_id", "source", name="uq_events_client_id_source"),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_events_origin_profile_id"), ["origin_profile_id"], unique=False
        )
        batch_op.create_index(
            "ix_events_profile_time", ["profile_id", "occurred_at", "id"], unique=False
        )
        batch_op.create_index("ix_events_type_time", ["type", "occurred_at"], unique=False)

    op.create_table(
        "merge_log",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("survivor_id", sa.String(length=32), nullable=False),
        sa.Column("absorbed_id", sa.String(length=32), nullable=False),
        sa.Column("undoes_id", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("link_kind", sa.String(length=16), nullable=True),
        sa.Column("event_id", sa.String(length=32), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("created_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("undoes_id"),
    )
    with op.batch_alter_table("merge_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_merge_log_absorbed_id"), ["absorbed_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_merge_log_survivor_id"), ["survivor_id"], unique=False)

    op.create_table(
        "profiles",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("merged_into", sa.String(length=32), nullable=True),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column(
            "traits",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "trait_meta",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "consent",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "indicators",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("pin_hash", sa.String(length=128), nullable=True),
        sa.Column("created_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_profiles_merged_into"), ["merged_into"], unique=False)

    op.create_table(
        "shared_identifiers",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("profile_count", sa.Integer(), nullable=False),
        sa.Column("first_flagged_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "value"),
    )
    op.create_table(
        "identifiers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("origin_profile_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("created_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["profile_id"], ["profiles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("identifiers", schema=None) as batch_op:
        batch_op.create_index("ix_identifiers_value_kind", ["value", "kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_identifiers_origin_profile_id"), ["origin_profile_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_identifiers_profile_id"), ["profile_id"], unique=False)

    op.create_table(
        "records",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("origin_profile_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("opened_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", circulo.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["profile_id"], ["profiles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", "kind", "source", name="uq_records_key_kind_source"),
    )
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_records_origin_profile_id"), ["origin_profile_id"], unique=False
        )
        batch_op.create_index(
            "ix_records_profile_open", ["profile_id", "is_open", "updated_at"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index("ix_records_profile_open")
        batch_op.drop_index(batch_op.f("ix_records_origin_profile_id"))

    op.drop_table("records")
    with op.batch_alter_table("identifiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identifiers_profile_id"))
        batch_op.drop_index(batch_op.f("ix_identifiers_origin_profile_id"))
        batch_op.drop_index("ix_identifiers_value_kind")

    op.drop_table("identifiers")
    op.drop_table("shared_identifiers")
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_profiles_merged_into"))

    op.drop_table("profiles")
    with op.batch_alter_table("merge_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merge_log_survivor_id"))
        batch_op.drop_index(batch_op.f("ix_merge_log_absorbed_id"))

    op.drop_table("merge_log")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_type_time")
        batch_op.drop_index("ix_events_profile_time")
        batch_op.drop_index(batch_op.f("ix_events_origin_profile_id"))

    op.drop_table("events")
    op.drop_table("api_keys")
