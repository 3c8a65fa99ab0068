"""The store's tables: forces, neighbourhood teams keyed by ward GSS code, and what hangs off a team.

Every record says where it came from (`source`: police.uk, an officer, or fictional sample data)
and when it was last fetched from that source or verified by an officer. A record an officer
entered or verified is *locked*: a sync never overwrites it, it reports a conflict instead.

Plain SQLAlchemy 2.x, no Flask: the sync and the CLI use the same models outside a request.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

SOURCES = ("policeuk", "officer", "sample")
ROLES = ("sergeant", "police_constable", "pcso", "special_constable", "other")
ROUTE_KINDS = ("email", "phone", "mobile", "web", "online_form", "social", "textphone")
MEETING_KINDS = ("ward_panel", "contact_session", "meeting", "other")
PLACE_KINDS = ("front_counter", "contact_point")
RUN_STATUSES = ("running", "complete", "incomplete")
MAX_ID = 2**63 - 1  # the largest integer SQLite's INTEGER and PostgreSQL's bigint hold

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime on every backend (SQLite keeps no zone; we store naive UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        """Aware time -> naive UTC for the database."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store times must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        """Naive UTC from the database -> aware UTC."""
        return None if value is None else value.replace(tzinfo=UTC)


def choice(name: str, values: tuple[str, ...], length: int = 24) -> Enum:
    """A short string column limited to a fixed set by a CHECK constraint (portable, no native enum)."""
    return Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


class Base(DeclarativeBase):
    """The declarative base, with constraint names Alembic can rely on."""

    metadata = MetaData(naming_convention=NAMING)


class Provenance:
    """Where a record came from and when it was last confirmed."""

    source: Mapped[str] = mapped_column(choice("source", SOURCES, 16))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_by: Mapped[str | None] = mapped_column(String(120))

    @property
    def locked(self) -> bool:
        """Entered or verified by an officer: a sync must not change it."""
        return self.source == "officer" or self.verified_at is not None

    @property
    def confirmed_at(self) -> datetime:
        """The latest time someone or something confirmed the record."""
        return max(t for t in (self.fetched_at, self.verified_at) if t is not None)


class Force(Provenance, Base):
    """A police force; teams and places belong to one."""

    __tablename__ = "force"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # police.uk force id, e.g. "metropolitan"
    name: Mapped[str] = mapped_column(String(200))
    # police.uk's engagement_methods (the force's own channels), as JSON [{"title", "url", "description"}].
    engagement_methods: Mapped[str | None] = mapped_column(Text)


class SyncRun(Base):
    """One `finder sync-policeuk` run; an unfinished run is resumed by the next one."""

    __tablename__ = "sync_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    force_id: Mapped[str] = mapped_column(String(40), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(choice("status", RUN_STATUSES, 16))
    summary: Mapped[str | None] = mapped_column(Text)


team_place = Table(
    "team_place",
    Base.metadata,
    Column("team_id", ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
    Column("place_id", ForeignKey("place.id", ondelete="CASCADE"), primary_key=True),
)


class Team(Provenance, Base):
    """A neighbourhood policing team. `ward_code` is None for a police.uk neighbourhood we could not match."""

    __tablename__ = "team"
    __table_args__ = (UniqueConstraint("force_id", "policeuk_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Checked on every UPDATE and DELETE: two editors saving the same record cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it once)
    force_id: Mapped[str] = mapped_column(ForeignKey("force.id"), index=True)
    ward_code: Mapped[str | None] = mapped_column(String(9), unique=True)
    policeuk_id: Mapped[str | None] = mapped_column(String(40))  # the ward code, sometimes with an "N" suffix
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    url_force: Mapped[str | None] = mapped_column(String(500))
    population: Mapped[int | None] = mapped_column(Integer)
    centre_lat: Mapped[float | None] = mapped_column(Float)
    centre_lon: Mapped[float | None] = mapped_column(Float)
    sync_run_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # police.uk's neighbourhood `links` (http(s) only), as JSON [{"title", "url"}].
    links: Mapped[str | None] = mapped_column(Text)

    force: Mapped[Force] = relationship()
    # The other wards a team serves (a merged or force-wide neighbourhood), beside `ward_code`.
    extra_wards: Mapped[list[TeamWard]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="TeamWard.ward_code"
    )
    officers: Mapped[list[Officer]] = relationship(
        back_populates="team", cascade="all, delete-orphan", order_by="Officer.display_order"
    )
    routes: Mapped[list[ContactRoute]] = relationship(
        back_populates="team", cascade="all, delete-orphan", order_by="ContactRoute.display_order"
    )
    meetings: Mapped[list[Meeting]] = relationship(
        back_populates="team", cascade="all, delete-orphan", order_by="Meeting.start"
    )
    priorities: Mapped[list[Priority]] = relationship(
        back_populates="team", cascade="all, delete-orphan", order_by="Priority.display_order"
    )
    places: Mapped[list[Place]] = relationship(secondary=team_place, order_by="Place.name")


class TeamWard(Base):
    """A further ward a team serves. A ward has one team: its code is in `team.ward_code` or here, not both."""

    __tablename__ = "team_ward"

    ward_code: Mapped[str] = mapped_column(String(9), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), index=True)


class Officer(Provenance, Base):
    """A member of the team. `rank` is as given; `role` is our fixed classification of it."""

    __tablename__ = "officer"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Checked on every UPDATE and DELETE: two editors saving the same record cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it once)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(220))
    name: Mapped[str] = mapped_column(String(200))
    rank: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(choice("role", ROLES))
    collar_number: Mapped[str | None] = mapped_column(String(20))
    bio: Mapped[str | None] = mapped_column(Text)
    # Work contact details (phone in E.164), shown to residents only once an editor marks each public.
    work_phone: Mapped[str | None] = mapped_column(String(32))
    phone_public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    work_email: Mapped[str | None] = mapped_column(String(254))
    email_public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    display_order: Mapped[int] = mapped_column(Integer, default=0)

    team: Mapped[Team] = relationship(back_populates="officers")
    routes: Mapped[list[ContactRoute]] = relationship(
        back_populates="officer", order_by="ContactRoute.display_order", passive_deletes=True
    )


class ContactRoute(Provenance, Base):
    """A typed way to reach the team (or one officer): email, phone, web page, social account…"""

    __tablename__ = "contact_route"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Checked on every UPDATE and DELETE: two editors saving the same record cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it once)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), index=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(700))
    kind: Mapped[str] = mapped_column(choice("kind", ROUTE_KINDS))
    label: Mapped[str] = mapped_column(String(120))
    value: Mapped[str] = mapped_column(String(500))
    hours: Mapped[str | None] = mapped_column(String(300))
    display_order: Mapped[int] = mapped_column(Integer, default=0)

    team: Mapped[Team] = relationship(back_populates="routes")
    officer: Mapped[Officer | None] = relationship(back_populates="routes")


class Meeting(Provenance, Base):
    """A ward panel, contact session or other event. Times are London local time, as police.uk gives them."""

    __tablename__ = "meeting"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Checked on every UPDATE and DELETE: two editors saving the same record cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it once)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(choice("kind", MEETING_KINDS))
    start: Mapped[datetime] = mapped_column("starts_at", DateTime, index=True)
    end: Mapped[datetime | None] = mapped_column("ends_at", DateTime)
    place: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    # The event's own contact details from police.uk, as JSON [{"kind", "label", "value"}].
    contact_details: Mapped[str | None] = mapped_column(Text)

    team: Mapped[Team] = relationship(back_populates="meetings")


class Priority(Provenance, Base):
    """A local priority the team has set with residents, and what it has done about it."""

    __tablename__ = "priority"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Checked on every UPDATE and DELETE: two editors saving the same record cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it once)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    issue: Mapped[str] = mapped_column(Text)
    action: Mapped[str | None] = mapped_column(Text)
    issue_date: Mapped[date | None] = mapped_column(Date)
    action_date: Mapped[date | None] = mapped_column(Date)
    display_order: Mapped[int] = mapped_column(Integer, default=0)

    team: Mapped[Team] = relationship(back_populates="priorities")


class Place(Provenance, Base):
    """A police station front counter or contact point; shared by the teams whose pages list it."""

    __tablename__ = "place"
    __table_args__ = (UniqueConstraint("force_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    force_id: Mapped[str] = mapped_column(ForeignKey("force.id"), index=True)
    key: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(choice("kind", PLACE_KINDS))
    address: Mapped[str | None] = mapped_column(String(500))
    postcode: Mapped[str | None] = mapped_column(String(10))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    opening_hours: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)


def utcnow() -> datetime:
    """Now, as an aware UTC datetime (what every provenance column holds)."""
    return datetime.now(UTC)


# The staff tables (accounts, history) share this metadata; importing them here registers them for
# Alembic and for every store, wherever the models are imported from.
from finder.store import nudges as _nudges  # noqa: E402, F401 (no-team reports and the digest's log)
from finder.store import reach as _reach  # noqa: E402, F401 (lookup counts, registered the same way)
from finder.store import staff as _staff  # noqa: E402, F401
