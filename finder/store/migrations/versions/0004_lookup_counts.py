"""Lookups counted per ward, day and surface (pages, API, embed): no postcode, place, address or cookie.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 15:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lookup_count",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("ward_code", sa.String(length=9), nullable=False),
        sa.Column(
            "surface",
            sa.Enum("page", "api", "embed", name="surface", native_enum=False, create_constraint=True, length=8),
            nullable=False,
        ),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "ward_code", "surface", name=op.f("pk_lookup_count")),
    )


def downgrade() -> None:
    op.drop_table("lookup_count")
