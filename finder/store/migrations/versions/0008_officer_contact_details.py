"""Officers' work phone and work email, each with the editor's "show to the public" flag (off by default).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 03:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("work_phone", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("phone_public", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("work_email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("email_public", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.drop_column("email_public")
        batch_op.drop_column("work_email")
        batch_op.drop_column("phone_public")
        batch_op.drop_column("work_phone")
