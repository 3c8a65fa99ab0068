"""Email that follows the work: who hears what when a change is reviewed, or waits for review. No Flask here.

- An editor hears when an admin approves or rejects their change (with the reason): one message per editor
  for each review submit, listing their changes it settled. Nobody is told of their own decisions.
- A borough admin hears when their borough's editors' changes wait for review, at most once a day however
  often `finder send-digest` runs: each day's message is claimed in the store before it is sent
  (`ReviewReminderSent`), so two runs at once cannot both send it, and one the mail server refused is
  released to be tried again on the next run.
- Nothing is sent where mail is not set up (no FINDER_SMTP_URL): the callers check, and the staff home says so.

The callers render and send; this module decides who is told what.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from finder.mail import MailError
from finder.staff.history import HistoryEntry, entries, pending_review
from finder.staff.permissions import BoroughOf
from finder.store import Store
from finder.store.nudges import claim_reminder, release_reminder
from finder.store.staff import ChangeSet, Role, StaffUser


@dataclass(frozen=True)
class Outcome:
    """One editor's changes that one review submit settled: approved, or rejected with its reason."""

    email: str
    name: str
    approved: tuple[HistoryEntry, ...] = ()
    rejected: tuple[HistoryEntry, ...] = ()


@dataclass(frozen=True)
class Waiting:
    """A borough admin's reminder: their borough's changes waiting for review, oldest first."""

    user_id: int
    email: str
    name: str
    borough_code: str
    entries: tuple[HistoryEntry, ...]


@dataclass
class ReminderReport:
    """What a run of `send_reminders` did, by email address."""

    sent: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # sent earlier today
    failed: list[tuple[str, str]] = field(default_factory=list)  # (address, why)


@dataclass(frozen=True)
class _Person:
    id: int
    email: str
    name: str
    borough_code: str | None


def _people(store: Store, *where: Any) -> list[_Person]:
    """Active staff who have set a password (an invitation nobody accepted hears nothing)."""
    columns = (StaffUser.id, StaffUser.email, StaffUser.name, StaffUser.borough_code)
    query = select(*columns).where(StaffUser.active.is_(True), StaffUser.password_hash.is_not(None), *where)
    with store.reader() as session:
        return [_Person(*row) for row in session.execute(query.order_by(StaffUser.id))]


def outcomes(store: Store, reviewer_id: int, approved: Iterable[int], rejected: Iterable[int]) -> list[Outcome]:
    """Whom to tell of these settled change sets: each editor once, with theirs (never the reviewer)."""
    settled = [(e, True) for e in _entries(store, approved)] + [(e, False) for e in _entries(store, rejected)]
    editors = {e.user_id for e, _ in settled if e.user_id is not None and e.user_id != reviewer_id}
    found = []
    for user in _people(store, StaffUser.id.in_(editors)) if editors else []:
        mine = [(e, ok) for e, ok in settled if e.user_id == user.id]
        found.append(
            Outcome(
                user.email,
                user.name,
                approved=tuple(e for e, ok in mine if ok),
                rejected=tuple(e for e, ok in mine if not ok),
            )
        )
    return found


def _entries(store: Store, ids: Iterable[int]) -> list[HistoryEntry]:
    wanted = tuple(ids)
    return entries(store, select(ChangeSet).where(ChangeSet.id.in_(wanted)).order_by(ChangeSet.id)) if wanted else []


def waiting(store: Store, borough_of: BoroughOf) -> list[Waiting]:
    """A reminder for each borough admin whose borough has changes waiting for review."""
    by_borough: dict[str, list[HistoryEntry]] = {}
    for entry in sorted(pending_review(store), key=lambda e: (e.created_at, e.id)):
        if (borough := borough_of(entry.ward_code)) is not None:
            by_borough.setdefault(borough, []).append(entry)
    if not by_borough:
        return []
    admins = _people(store, StaffUser.role == Role.BOROUGH_ADMIN, StaffUser.borough_code.in_(by_borough))
    return [Waiting(a.id, a.email, a.name, code, tuple(by_borough[code])) for a in admins if (code := a.borough_code)]


def send_reminders(
    store: Store, found: Iterable[Waiting], deliver: Callable[[Waiting], None], today: date, now: datetime
) -> ReminderReport:
    """Deliver each reminder unless one went to that admin `today` (London's date); a failed one is tried again."""
    done = ReminderReport()
    for reminder in found:
        with store.session() as session:
            claimed = claim_reminder(session, reminder.user_id, today, now)
        if not claimed:
            done.already.append(reminder.email)
            continue
        try:
            deliver(reminder)
        except MailError as exc:
            with store.session() as session:
                release_reminder(session, reminder.user_id, today)
            done.failed.append((reminder.email, str(exc)))
        else:
            done.sent.append(reminder.email)
    return done
