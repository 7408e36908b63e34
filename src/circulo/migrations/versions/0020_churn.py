"""churn: versioned churn models and each customer's latest score (issue 17)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from circulo.db import UTCDateTime

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "churn_models",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("trained_on", JSON, nullable=False),
        sa.Column("metrics", JSON, nullable=False),
        sa.Column("feature_names", JSON, nullable=False),
        sa.Column("model", JSON, nullable=False),
    )
    op.create_table(
        "churn_scores",
        sa.Column("customer_id", sa.String(32), primary_key=True),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("factors", JSON, nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("scored_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_churn_scores_model", "churn_scores", ["model_version", "scored_at"])


def downgrade() -> None:
    op.drop_index("ix_churn_scores_model", table_name="churn_scores")
    op.drop_table("churn_scores")
    op.drop_table("churn_models")
