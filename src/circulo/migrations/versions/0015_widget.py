"""widget tokens: the CRM widget's short-lived, scoped tokens (issue 16)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import circulo.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "widget_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("scopes", sa.String(length=100), nullable=False),
        sa.Column("minted_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", circulo.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_widget_tokens_prefix", "widget_tokens", ["prefix"])
    op.create_index("ix_widget_tokens_user_id", "widget_tokens", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_widget_tokens_user_id", table_name="widget_tokens")
    op.drop_index("ix_widget_tokens_prefix", table_name="widget_tokens")
    op.drop_table("widget_tokens")
