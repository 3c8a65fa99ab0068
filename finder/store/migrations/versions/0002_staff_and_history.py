"""Staff accounts, one-time links, login throttling, review settings, change history; record versions.

Adds a `version` to teams, officers, contact routes, meetings and priorities (1 for every existing
row), which the ORM checks on each update so two editors cannot overwrite each other unseen.
Existing data is kept.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 14:11:15.211602
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempt")),
    )
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_attempt_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_attempt_key"), ["key"], unique=False)

    op.create_table(
        "staff_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "site_admin",
                "borough_admin",
                "ward_editor",
                name="staff_role",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("borough_code", sa.String(length=9), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("recovery_codes", sa.Text(), nullable=True),
        sa.Column("session_generation", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_user")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_user_email")),
    )
    op.create_table(
        "borough_setting",
        sa.Column("borough_code", sa.String(length=9), nullable=False),
        sa.Column("review_required", sa.Boolean(), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by"],
            ["staff_user.id"],
            name=op.f("fk_borough_setting_changed_by_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("borough_code", name=op.f("pk_borough_setting")),
    )
    op.create_table(
        "change_set",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ward_code", sa.String(length=9), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column(
            "source",
            sa.Enum(
                "officer",
                "policeuk",
                "restore",
                name="change_source",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "applied",
                "pending",
                "rejected",
                name="change_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["reviewed_by"], ["staff_user.id"], name=op.f("fk_change_set_reviewed_by_staff_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_user.id"], name=op.f("fk_change_set_user_id_staff_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_set")),
    )
    with op.batch_alter_table("change_set", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_set_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_change_set_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_change_set_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_change_set_ward_code"), ["ward_code"], unique=False)

    op.create_table(
        "staff_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum("invite", "reset", name="token_purpose", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_user.id"], name=op.f("fk_staff_token_user_id_staff_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_token_token_hash")),
    )
    with op.batch_alter_table("staff_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "staff_ward",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("ward_code", sa.String(length=9), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_user.id"], name=op.f("fk_staff_ward_user_id_staff_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "ward_code", name=op.f("pk_staff_ward")),
    )
    with op.batch_alter_table("staff_ward", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_ward_ward_code"), ["ward_code"], unique=False)

    op.create_table(
        "change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_set_id", sa.Integer(), nullable=False),
        sa.Column(
            "entity",
            sa.Enum(
                "team",
                "route",
                "officer",
                "meeting",
                "priority",
                "place",
                name="change_entity",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column(
            "action",
            sa.Enum(
                "add",
                "update",
                "remove",
                "confirm",
                name="change_action",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("field", sa.String(length=40), nullable=True),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["change_set_id"], ["change_set.id"], name=op.f("fk_change_change_set_id_change_set"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change")),
    )
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_change_set_id"), ["change_set_id"], unique=False)

    with op.batch_alter_table("contact_route", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))

    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))

    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))

    with op.batch_alter_table("priority", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))

    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.drop_column("version")

    with op.batch_alter_table("priority", schema=None) as batch_op:
        batch_op.drop_column("version")

    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.drop_column("version")

    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_column("version")

    with op.batch_alter_table("contact_route", schema=None) as batch_op:
        batch_op.drop_column("version")

    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_change_set_id"))

    op.drop_table("change")
    with op.batch_alter_table("staff_ward", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_ward_ward_code"))

    op.drop_table("staff_ward")
    with op.batch_alter_table("staff_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_token_user_id"))

    op.drop_table("staff_token")
    with op.batch_alter_table("change_set", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_set_ward_code"))
        batch_op.drop_index(batch_op.f("ix_change_set_user_id"))
        batch_op.drop_index(batch_op.f("ix_change_set_status"))
        batch_op.drop_index(batch_op.f("ix_change_set_created_at"))

    op.drop_table("change_set")
    op.drop_table("borough_setting")
    op.drop_table("staff_user")
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_attempt_key"))
        batch_op.drop_index(batch_op.f("ix_login_attempt_at"))

    op.drop_table("login_attempt")
