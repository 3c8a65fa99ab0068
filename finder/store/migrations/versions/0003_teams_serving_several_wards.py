"""Teams serving several wards; police.uk links, event contacts and engagement methods.

A `team_ward` row gives a team a further ward (a merged or force-wide neighbourhood: the City of
London Police may publish one for all 25 City wards). Three nullable JSON text columns keep what
police.uk offers and the sync used to drop. Existing data is kept.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 14:35:41.297679
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "team_ward",
        sa.Column("ward_code", sa.String(length=9), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], name=op.f("fk_team_ward_team_id_team"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ward_code", name=op.f("pk_team_ward")),
    )
    with op.batch_alter_table("team_ward", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_team_ward_team_id"), ["team_id"], unique=False)

    with op.batch_alter_table("force", schema=None) as batch_op:
        batch_op.add_column(sa.Column("engagement_methods", sa.Text(), nullable=True))

    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_details", sa.Text(), nullable=True))

    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.add_column(sa.Column("links", sa.Text(), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+ and PostgreSQL): a batch copy of `force` or `team`
    # would drop a table other tables' rows still point at.
    op.drop_column("team", "links")
    op.drop_column("meeting", "contact_details")
    op.drop_column("force", "engagement_methods")
    with op.batch_alter_table("team_ward", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_team_ward_team_id"))
    op.drop_table("team_ward")
