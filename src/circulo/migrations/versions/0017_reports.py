"""reports: tasks by creation time with every column a report reads (issue 16)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 04:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # covering: a month of reports reads this index alone, never the wide task rows
    op.create_index("ix_tasks_report", "tasks", [
        "created_at", "kind", "queue", "channel", "state", "agent_id", "reason", "customer_id",
        "sl_seconds", "queued_at", "assigned_at", "completed_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_tasks_report", table_name="tasks")
