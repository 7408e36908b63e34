"""console: supervisors' audited actions and acknowledged alerts (issue 16)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import circulo.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_actions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("detail", circulo.db.JSONType, nullable=False),
        sa.Column("created_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_console_actions_subject", "console_actions", ["subject"])
    op.create_table(
        "console_alert_acks",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("acked_by", sa.String(length=100), nullable=False),
        sa.Column("acked_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_console_alert_acks_acked_at", "console_alert_acks", ["acked_at"])


def downgrade() -> None:
    op.drop_index("ix_console_alert_acks_acked_at", table_name="console_alert_acks")
    op.drop_table("console_alert_acks")
    op.drop_index("ix_console_actions_subject", table_name="console_actions")
    op.drop_table("console_actions")
