"""replays: vendor webhook event ids already acted on (HubSpot eventId), kept for a window

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 01:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import circulo.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vendor_events_seen",
        sa.Column("connector", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("seen_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connector", "event_id"),
    )
    op.create_index(op.f("ix_vendor_events_seen_seen_at"), "vendor_events_seen", ["seen_at"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_vendor_events_seen_seen_at"), table_name="vendor_events_seen")
    op.drop_table("vendor_events_seen")
