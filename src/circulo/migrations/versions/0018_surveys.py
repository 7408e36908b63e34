"""surveys: invitations sent after an interaction and their one response (issue 17)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import circulo.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _common() -> list[sa.Column[object]]:
    return [
        sa.Column("task_id", sa.String(64), nullable=False, unique=True),
        sa.Column("survey", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(32), nullable=True),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("queue", sa.String(64), nullable=True),
        sa.Column("site", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
    ]


def upgrade() -> None:
    when = circulo.db.UTCDateTime(timezone=True)
    op.create_table(
        "survey_invitations",
        sa.Column("id", sa.String(40), primary_key=True),
        *_common(),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("skipped_reason", sa.String(200), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=True),
        sa.Column("message_id", sa.String(40), nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("send_at", when, nullable=False),
        sa.Column("expires_at", when, nullable=False),
        sa.Column("answered_at", when, nullable=True),
    )
    op.create_index("ix_survey_invitations_customer_id", "survey_invitations",
                    ["customer_id"])
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.String(40), primary_key=True),
        *_common(),
        sa.Column("invitation_id", sa.String(40), nullable=True),
        sa.Column("csat", sa.Integer(), nullable=True),
        sa.Column("nps", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", when, nullable=False),
    )
    op.create_index("ix_survey_responses_customer_id", "survey_responses", ["customer_id"])
    op.create_index("ix_survey_responses_answered_at", "survey_responses", ["answered_at"])


def downgrade() -> None:
    op.drop_table("survey_responses")
    op.drop_table("survey_invitations")
