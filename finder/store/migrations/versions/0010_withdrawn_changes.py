"""A change waiting for review can be withdrawn: "withdrawn" joins the change sets' statuses.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 16:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

CONSTRAINT = "ck_change_set_change_status"


def upgrade() -> None:
    with op.batch_alter_table("change_set", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CONSTRAINT), type_="check")
        batch_op.create_check_constraint(op.f(CONSTRAINT), "status IN ('applied', 'pending', 'rejected', 'withdrawn')")


def downgrade() -> None:
    # The older schema has no "withdrawn": such a change reads as turned down, and says why.
    op.execute(
        "UPDATE change_set SET status = 'rejected', review_reason = 'Withdrawn before review.' "
        "WHERE status = 'withdrawn'"
    )
    with op.batch_alter_table("change_set", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CONSTRAINT), type_="check")
        batch_op.create_check_constraint(op.f(CONSTRAINT), "status IN ('applied', 'pending', 'rejected')")
