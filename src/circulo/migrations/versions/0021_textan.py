"""textan: the analysis inbox and each event's analysis (issue 17, ADR 0025)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column(
            "analysis", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()),
                                               "postgresql"), nullable=True))
    op.create_table(
        "text_inbox",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
    )
    op.create_index("ix_text_inbox_customer_id", "text_inbox", ["customer_id"])
    op.create_index("ix_text_inbox_todo", "text_inbox", ["failed_at", "seq"])


def downgrade() -> None:
    op.drop_index("ix_text_inbox_todo", table_name="text_inbox")
    op.drop_index("ix_text_inbox_customer_id", table_name="text_inbox")
    op.drop_table("text_inbox")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("analysis")
