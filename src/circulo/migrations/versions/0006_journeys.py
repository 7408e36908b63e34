"""journeys: definitions and versions, instances with durable timers, per-customer state,
the inbox, the action log, customer lists and suggestions

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 08:04:11.483132
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import circulo.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_lists",
        sa.Column("list", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("added_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("list", "customer_id"),
    )
    op.create_table(
        "journey_actions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key", sa.String(length=140), nullable=False),
        sa.Column("journey", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=32), nullable=True),
        sa.Column("customer_id", sa.String(length=32), nullable=True),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("elapsed_ms", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("journey_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_journey_actions_instance_id"), ["instance_id"], unique=False
        )
        batch_op.create_index(
            "ix_journey_actions_journey", ["journey", "kind", "outcome"], unique=False
        )

    op.create_table(
        "journey_customers",
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column(
            "state",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.create_table(
        "journey_inbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=True),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_table(
        "journey_instances",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("journey", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=True),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("due_at", circulo.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "waiting_for",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "vars",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("exit", sa.String(length=80), nullable=True),
        sa.Column("entered_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", circulo.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("journey_instances", schema=None) as batch_op:
        batch_op.create_index(
            "ix_journey_instances_customer", ["customer_id", "status"], unique=False
        )
        batch_op.create_index("ix_journey_instances_journey", ["journey", "status"], unique=False)
        batch_op.create_index("ix_journey_instances_timer", ["status", "due_at"], unique=False)

    op.create_table(
        "journey_versions",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "document",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", "version"),
    )
    op.create_table(
        "journeys",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("active_version", sa.Integer(), nullable=True),
        sa.Column("created_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "suggestions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("journey", sa.String(length=64), nullable=False),
        sa.Column("instance_id", sa.String(length=32), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column(
            "text",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", circulo.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("suggestions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_suggestions_customer_id"), ["customer_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("suggestions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suggestions_customer_id"))

    op.drop_table("suggestions")
    op.drop_table("journeys")
    op.drop_table("journey_versions")
    with op.batch_alter_table("journey_instances", schema=None) as batch_op:
        batch_op.drop_index("ix_journey_instances_timer")
        batch_op.drop_index("ix_journey_instances_journey")
        batch_op.drop_index("ix_journey_instances_customer")

    op.drop_table("journey_instances")
    op.drop_table("journey_inbox")
    op.drop_table("journey_customers")
    with op.batch_alter_table("journey_actions", schema=None) as batch_op:
        batch_op.drop_index("ix_journey_actions_journey")
        batch_op.drop_index(batch_op.f("ix_journey_actions_instance_id"))

    op.drop_table("journey_actions")
    op.drop_table("customer_lists")
