"""The staff side of the store: accounts, one-time links, sessions, review settings and history.

- `StaffUser`: a ward editor (their `StaffWard` wards only), a borough admin (every ward of
  `borough_code`) or a site admin. Passwords are argon2 hashes; admins add TOTP. Bumping
  `session_generation` signs the user out everywhere.
- `StaffToken`: an invitation or password-reset link, stored only as a SHA-256 hash, used once.
- `StaffSession`: one signed-in browser (or one admin between password and code), keyed by the
  SHA-256 of the random id its signed cookie holds: deleting the row ends that session anywhere.
- `ChangeSet` and `Change`: every change to a ward's team — who, when, which field, before and
  after, why — whether an officer made it, a sync brought it, or an admin restored it. A change
  set waiting for review holds the changes it would make (`after`), applied when approved.

Plain SQLAlchemy, no Flask, like the rest of the store.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from finder.store.models import Base, UTCDateTime, choice


class Role(StrEnum):
    """What a staff user may do: the one list of roles (a str, so the store and templates read it as text)."""

    SITE_ADMIN = "site_admin"
    BOROUGH_ADMIN = "borough_admin"
    WARD_EDITOR = "ward_editor"


STAFF_ROLES = tuple(Role)
TOKEN_PURPOSES = ("invite", "reset")
CHANGE_SOURCES = ("officer", "policeuk", "restore")
CHANGE_SET_STATUSES = ("applied", "pending", "rejected", "withdrawn")  # withdrawn: by its author, before review
CHANGE_ACTIONS = ("add", "update", "remove", "confirm")
ENTITIES = ("team", "route", "officer", "meeting", "priority", "place")


class StaffUser(Base):
    """Someone who keeps teams' details right."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # lower case
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(choice("staff_role", STAFF_ROLES))
    borough_code: Mapped[str | None] = mapped_column(String(9))  # a borough admin's borough
    password_hash: Mapped[str | None] = mapped_column(String(200))  # None until the invitation is accepted
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # the last time step used: no replays
    recovery_codes: Mapped[str | None] = mapped_column(Text)  # JSON list of SHA-256 hashes, each used once
    session_generation: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    wards: Mapped[list[StaffWard]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="StaffWard.ward_code"
    )

    @property
    def ward_codes(self) -> frozenset[str]:
        """The wards a ward editor is assigned to."""
        return frozenset(w.ward_code for w in self.wards)

    @property
    def is_admin(self) -> bool:
        """Borough and site admins: they must use a second step to sign in."""
        return self.role in (Role.SITE_ADMIN, Role.BOROUGH_ADMIN)


class StaffWard(Base):
    """A ward an editor may change."""

    __tablename__ = "staff_ward"

    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True)
    ward_code: Mapped[str] = mapped_column(String(9), primary_key=True, index=True)

    user: Mapped[StaffUser] = relationship(back_populates="wards")


class StaffToken(Base):
    """A one-time link (invitation or password reset); only the hash of its secret is kept."""

    __tablename__ = "staff_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(choice("token_purpose", TOKEN_PURPOSES, 16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffSession(Base):
    """A staff session. The cookie holds a random id; only its SHA-256 is kept, like the links'."""

    __tablename__ = "staff_session"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    # What the session was granted against: a different role or generation now ends it.
    role: Mapped[str] = mapped_column(choice("staff_role", STAFF_ROLES))
    generation: Mapped[int] = mapped_column(Integer)
    pending: Mapped[bool] = mapped_column(Boolean)  # an admin's password done, their code not yet
    enrol_secret: Mapped[str | None] = mapped_column(String(64))  # the TOTP secret being set up
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BoroughSetting(Base):
    """Per-borough rules a borough admin sets: whether editors' changes wait for review."""

    __tablename__ = "borough_setting"

    borough_code: Mapped[str] = mapped_column(String(9), primary_key=True)
    review_required: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChangeSet(Base):
    """One save: the changes one person (or one sync) made to one ward at once, and its review."""

    __tablename__ = "change_set"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ward_code: Mapped[str] = mapped_column(String(9), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(choice("change_source", CHANGE_SOURCES, 16))
    status: Mapped[str] = mapped_column(choice("change_status", CHANGE_SET_STATUSES, 16), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_reason: Mapped[str | None] = mapped_column(Text)
    restored_from: Mapped[int | None] = mapped_column(Integer)  # the change set whose "before" this put back

    user: Mapped[StaffUser | None] = relationship(foreign_keys=[user_id])
    reviewer: Mapped[StaffUser | None] = relationship(foreign_keys=[reviewed_by])
    changes: Mapped[list[Change]] = relationship(
        back_populates="change_set", cascade="all, delete-orphan", order_by="Change.id"
    )


class Change(Base):
    """One field of one record: before and after, as text (None: no value, or no record)."""

    __tablename__ = "change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change_set_id: Mapped[int] = mapped_column(ForeignKey("change_set.id", ondelete="CASCADE"), index=True)
    entity: Mapped[str] = mapped_column(choice("change_entity", ENTITIES, 16))
    entity_id: Mapped[int | None] = mapped_column(Integer)  # None for a record a pending draft would add
    action: Mapped[str] = mapped_column(choice("change_action", CHANGE_ACTIONS, 16))
    field: Mapped[str | None] = mapped_column(String(40))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int | None] = mapped_column(Integer)  # the record's version the change was made against

    change_set: Mapped[ChangeSet] = relationship(back_populates="changes")
