"""agent versions: the dispatcher re-reads only agents whose version it has not seen

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 06:14:23.167497
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1",
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("version")
