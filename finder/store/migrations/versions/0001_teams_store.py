"""The teams store: forces, teams keyed by ward code, officers, contact routes, meetings, priorities, places.

Store times (fetched_at, verified_at, started_at, finished_at) are naive UTC; meeting times are
naive London local time, as police.uk gives them.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 08:30:20.777480
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "force",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "policeuk", "officer", "sample", name="source", native_enum=False, create_constraint=True, length=16
            ),
            nullable=False,
        ),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.Column("verified_by", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_force")),
    )
    op.create_table(
        "sync_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("force_id", sa.String(length=40), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "running", "complete", "incomplete", name="status", native_enum=False, create_constraint=True, length=16
            ),
            nullable=False,
        ),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_run")),
    )
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_run_force_id"), ["force_id"], unique=False)

    op.create_table(
        "place",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("force_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "front_counter", "contact_point", name="kind", native_enum=False, create_constraint=True, length=24
            ),
            nullable=False,
        ),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("postcode", sa.String(length=10), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("opening_hours", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "source",
            sa.Enum(
                "policeuk", "officer", "sample", name="source", native_enum=False, create_constraint=True, length=16
            ),
            nullable=False,
        ),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.Column("verified_by", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(["force_id"], ["force.id"], name=op.f("fk_place_force_id_force")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_place")),
        sa.UniqueConstraint("force_id", "key", name=op.f("uq_place_force_id_key")),
    )
    with op.batch_alter_table("place", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_place_force_id"), ["force_id"], unique=False)

    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("force_id", sa.String(length=40), nullable=False),
        sa.Column("ward_code", sa.String(length=9), nullable=True),
        sa.Column("policeuk_id", sa.String(length=40), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("url_force", sa.String(length=500), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("centre_lat", sa.Float(), nullable=True),
        sa.Column("centre_lon", sa.Float(), nullable=True),
        sa.Column("sync_run_id", sa.Integer(), nullable=True),
        sa.Column(
            "source",
            sa.Enum(
                "policeuk", "officer", "sample", name="source", native_enum=False, create_constraint=True, length=16
            ),
            nullable=False,
        ),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.Column("verified_by", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(["force_id"], ["force.id"], name=op.f("fk_team_force_id_force")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team")),
        sa.UniqueConstraint("force_id", "policeuk_id", name=op.f("uq_team_force_id_policeuk_id")),
        sa.UniqueConstraint("ward_code", name=op.f("uq_team_ward_code")),
    )
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_team_force_id"), ["force_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_team_sync_run_id"), ["sync_run_id"], unique=False)

    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "ward_panel",
                "contact_session",
                "meeting",
                "other",
                name="kind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=True),
        sa.Column("place", sa.String(length=500), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "source",
            sa.Enum(
                "policeuk", "officer", "sample", name="source", native_enum=False, create_constraint=True, length=16
            ),
            nullable=False,
        ),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.Column("verified_by", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], name=op.f("fk_meeting_team_id_team"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting")),
        sa.UniqueConstraint("team_id", "key", name=op.f("uq_meeting_team_id_key")),
    )
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_starts_at"), ["starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_meeting_team_id"), ["team_id"], unique=False)

    op.create_table(
        "officer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=220), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("rank", sa.String(length=120), nullable=True),
        sa.Column(
            "role",
            sa.Enum(
                "sergeant",
                "police_constable",
                "pcso",
                "special_constable",
                "other",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("collar_number", sa.String(length=20), nullable=True),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("display_order", sa.Integer(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "policeuk", "officer", "sample", name="source", native_enum=False, create_constraint=True, length=16
            ),
            nullable=False,
        ),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.Column("verified_by", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], name=op.f("fk_officer_team_id_team"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officer")),
        sa.UniqueConstraint("team_id", "key", name=op.f("uq_officer_team_id_key")),
    )
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_officer_team_id"), ["team_id"], unique=False)

    op.create_table(
        "priority",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("issue", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("action_date", sa.Date(), nullable=True),
        sa.Column("display_order", sa.Integer(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "policeuk", "officer", "sample", name="source", native_enum=False, create_constraint=True, length=16
            ),
            nullable=False,
        ),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.Column("verified_by", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], name=op.f("fk_priority_team_id_team"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_priority")),
        sa.UniqueConstraint("team_id", "key", name=op.f("uq_priority_team_id_key")),
    )
    with op.batch_alter_table("priority", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_priority_team_id"), ["team_id"], unique=False)

    op.create_table(
        "team_place",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["place_id"], ["place.id"], name=op.f("fk_team_place_place_id_place"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], name=op.f("fk_team_place_team_id_team"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("team_id", "place_id", name=op.f("pk_team_place")),
    )
    op.create_table(
        "contact_route",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(length=700), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "email",
                "phone",
                "mobile",
                "web",
                "online_form",
                "social",
                "textphone",
                name="kind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.Column("hours", sa.String(length=300), nullable=True),
        sa.Column("display_order", sa.Integer(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "policeuk", "officer", "sample", name="source", native_enum=False, create_constraint=True, length=16
            ),
            nullable=False,
        ),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.Column("verified_by", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officer.id"], name=op.f("fk_contact_route_officer_id_officer"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_contact_route_team_id_team"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_route")),
        sa.UniqueConstraint("team_id", "key", name=op.f("uq_contact_route_team_id_key")),
    )
    with op.batch_alter_table("contact_route", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_route_officer_id"), ["officer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contact_route_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contact_route", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_route_team_id"))
        batch_op.drop_index(batch_op.f("ix_contact_route_officer_id"))

    op.drop_table("contact_route")
    op.drop_table("team_place")
    with op.batch_alter_table("priority", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_priority_team_id"))

    op.drop_table("priority")
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_officer_team_id"))

    op.drop_table("officer")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_team_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_starts_at"))

    op.drop_table("meeting")
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_team_sync_run_id"))
        batch_op.drop_index(batch_op.f("ix_team_force_id"))

    op.drop_table("team")
    with op.batch_alter_table("place", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_place_force_id"))

    op.drop_table("place")
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_run_force_id"))

    op.drop_table("sync_run")
    op.drop_table("force")
