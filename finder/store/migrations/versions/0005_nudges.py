"""Nudges: residents' "no published team" reports per ward and day (no personal data), and the weekly digest's log.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 16:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "no_team_report",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("ward_code", sa.String(length=9), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "ward_code", name=op.f("pk_no_team_report")),
    )
    op.create_table(
        "digest_sent",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_user.id"], name=op.f("fk_digest_sent_user_id_staff_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "week", name=op.f("pk_digest_sent")),
    )


def downgrade() -> None:
    op.drop_table("digest_sent")
    op.drop_table("no_team_report")
