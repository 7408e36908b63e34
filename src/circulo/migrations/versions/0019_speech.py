"""speech: recorded calls, their transcription jobs and transcripts (issue 17)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("customer_id", sa.String(32), nullable=False),
        sa.Column("call_id", sa.String(200), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("detail", sa.String(500), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", _TIME, nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("engine", sa.String(64), nullable=True),
        sa.Column("transcript", sa.Text(), nullable=True),
        sa.Column("segments", _JSON, nullable=True),
        sa.Column("recorded_event_id", sa.String(32), nullable=True),
        sa.Column("event_id", sa.String(32), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
    )
    op.create_index("ix_recordings_status", "recordings", ["status", "created_at"])
    op.create_index("ix_recordings_customer", "recordings", ["customer_id", "created_at"])
    op.create_index("ix_recordings_created", "recordings", ["created_at"])


def downgrade() -> None:
    op.drop_table("recordings")
