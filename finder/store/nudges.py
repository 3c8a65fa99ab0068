"""Nudges that close the gap: residents' "this ward has no published team" reports, and the weekly digest's log.

`NoTeamReport` holds a day, a ward code and a count, and nothing else: no postcode, address, client
address, browser or cookie. A report adds one in a single upsert that increments, so workers and
instances sharing a database add up. `DigestSent` records that a staff user's digest for a week
went out, so running `finder send-digest` twice in a week sends nobody a second copy; `ReviewReminderSent`
does the same for a borough admin's daily reminder of changes waiting for review.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from finder.store.models import Base, UTCDateTime


class NoTeamReport(Base):
    """How many residents told the borough, on one day, that a ward has no published team."""

    __tablename__ = "no_team_report"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    ward_code: Mapped[str] = mapped_column(String(9), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class DigestSent(Base):
    """A staff user's weekly digest was handed to the mail server (`week`: that week's Monday)."""

    __tablename__ = "digest_sent"

    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True)
    week: Mapped[date] = mapped_column(Date, primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReviewReminderSent(Base):
    """A borough admin's reminder of changes waiting for review was handed to the mail server (`day`: London's)."""

    __tablename__ = "review_reminder_sent"

    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


def _insert(session: Session):
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def add_no_team_report(session: Session, day: date, ward_code: str) -> None:
    """One more report for the ward and day: INSERT … ON CONFLICT DO UPDATE SET count = count + 1."""
    table = NoTeamReport.__table__
    statement = _insert(session)(table).values(day=day, ward_code=ward_code, count=1)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.day, table.c.ward_code], set_={"count": table.c.count + 1}
    )
    session.execute(statement)


def no_team_reports_since(session: Session, since: date) -> dict[str, int]:
    """Ward code -> reports from `since` on (one grouped query)."""
    table = NoTeamReport.__table__
    query = select(table.c.ward_code, func.sum(table.c.count)).where(table.c.day >= since).group_by(table.c.ward_code)
    return {ward: int(total) for ward, total in session.execute(query)}


def claim_digest(session: Session, user_id: int, week: date, now: datetime) -> bool:
    """Mark the user's digest for `week` as sent; False when it already was (a second run that week)."""
    table = DigestSent.__table__
    statement = _insert(session)(table).values(user_id=user_id, week=week, sent_at=now).on_conflict_do_nothing()
    return session.execute(statement.returning(table.c.user_id)).first() is not None


def release_digest(session: Session, user_id: int, week: date) -> None:
    """Forget a claim whose email could not be sent, so the next run tries again."""
    session.execute(delete(DigestSent).where(DigestSent.user_id == user_id, DigestSent.week == week))


def claim_reminder(session: Session, user_id: int, day: date, now: datetime) -> bool:
    """Mark the admin's reminder for `day` as sent; False when it already was (a second run that day)."""
    table = ReviewReminderSent.__table__
    statement = _insert(session)(table).values(user_id=user_id, day=day, sent_at=now).on_conflict_do_nothing()
    return session.execute(statement.returning(table.c.user_id)).first() is not None


def release_reminder(session: Session, user_id: int, day: date) -> None:
    """Forget a reminder's claim whose email could not be sent, so the next run tries again."""
    session.execute(
        delete(ReviewReminderSent).where(ReviewReminderSent.user_id == user_id, ReviewReminderSent.day == day)
    )
