"""desk: why routing offered a task (the priority rules that held), for the agent's desk

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task_offers") as batch:
        batch.add_column(sa.Column(
            "rules", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()),
                                            "postgresql"), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("task_offers") as batch:
        batch.drop_column("rules")
