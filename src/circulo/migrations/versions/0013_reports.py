"""reports: tasks by creation time, the range every report reads (issue 16)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 04:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tasks_created", "tasks", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_tasks_created", table_name="tasks")
