"""customer notes and who is viewing a customer (issue 16, the desk's customer side)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 04:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import circulo.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_notes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_customer_notes_customer", "customer_notes",
                    ["customer_id", "created_at"])
    op.create_table(
        "customer_viewers",
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("first_seen_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seen_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "user_id"),
    )
    op.create_index("ix_customer_viewers_user", "customer_viewers", ["user_id", "seen_at"])


def downgrade() -> None:
    op.drop_index("ix_customer_viewers_user", table_name="customer_viewers")
    op.drop_table("customer_viewers")
    op.drop_index("ix_customer_notes_customer", table_name="customer_notes")
    op.drop_table("customer_notes")
