"""erasure: the suppression list of erased identifiers (keyed hashes)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 01:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import circulo.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erased_identifiers",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("erased_at", circulo.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )


def downgrade() -> None:
    op.drop_table("erased_identifiers")
