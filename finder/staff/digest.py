"""Nudges that close the gap: a weekly digest of the wards residents cannot reach well, and "no team" reports.

Each list also names the wards whose details nobody has confirmed (finder.coverage.service: not the team, nor
their source in the last 90 days, like the police.uk snapshot of March 2023), oldest first by each ward's oldest
such detail, so the oldest are checked first.

A ward needs attention when its details were last confirmed more than 90 days ago (or never) or
its coverage score is below a threshold (DIGEST_THRESHOLD percent of the six parts; default 50, so
fewer than three). Each ward editor's digest holds their assigned wards, each borough admin's the
borough's; site admins, who hold every ward, use /admin/coverage instead. The same list is on each
person's dashboard; `finder send-digest` emails it at most once a week per person.

Residents who find no team can tell the borough so: each report adds one to a per-ward, per-day
count (finder/store/nudges.py) and nothing else is kept. No Flask here: the caller renders and sends.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from finder.coverage.reach import shown
from finder.coverage.service import MAXIMUM, CoverageReport, WardCoverage
from finder.mail import MailError
from finder.staff.editing import provenance_words
from finder.store import Store
from finder.store.nudges import add_no_team_report, claim_digest, no_team_reports_since, release_digest
from finder.store.staff import Role, StaffUser
from finder.teams.directory import LONDON

DEFAULT_THRESHOLD = 50.0  # percent of the six parts: a ward with fewer than three needs attention


@dataclass(frozen=True)
class DigestWard:
    """A ward that needs attention, and how often residents reported this month that it has no team."""

    coverage: WardCoverage
    no_team_reports: int = 0

    @property
    def stale(self) -> bool:
        """Details last confirmed more than 90 days ago, or never."""
        return not self.coverage.has["confirmed"]

    @property
    def reports_shown(self) -> int | str:
        """The month's reports as they may be shown ("fewer than 10" below ten, like lookups)."""
        return shown(self.no_team_reports)


@dataclass(frozen=True)
class UnconfirmedWard:
    """A ward whose details nobody has confirmed, and since when: its oldest such detail's source and date."""

    coverage: WardCoverage

    @property
    def since(self) -> str:
        """Like "as published on police.uk in March 2023"."""
        ward = self.coverage
        assert ward.unconfirmed_since is not None and ward.unconfirmed_source is not None  # unconfirmed_list's
        return provenance_words(ward.unconfirmed_source, ward.unconfirmed_since, None)


@dataclass(frozen=True)
class Digest:
    """One person's weekly list, worst first, and their wards nobody has confirmed, oldest first."""

    user_id: int
    email: str
    name: str
    wards: tuple[DigestWard, ...]
    unconfirmed: tuple[UnconfirmedWard, ...] = ()


@dataclass
class SendReport:
    """What a run of `send_digests` did, by email address."""

    sent: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # sent earlier this week
    failed: list[tuple[str, str]] = field(default_factory=list)  # (address, why)


def london_today(now: datetime) -> date:
    """The London date of an aware time."""
    return now.astimezone(LONDON).date()


def month_start(today: date) -> date:
    """The first day of `today`'s month: "this month" for reports."""
    return today.replace(day=1)


def week_of(today: date) -> date:
    """The Monday of `today`'s week: a digest goes to each person once per week."""
    return today - timedelta(days=today.weekday())


def needs_attention(ward: WardCoverage, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """Stale (not confirmed in 90 days), scoring below `threshold` percent of the parts, or holding a meeting
    whose date is unclear (residents see no date for it)."""
    return not ward.has["confirmed"] or ward.score * 100 < threshold * MAXIMUM or ward.unclear_dates > 0


def report_no_team(store: Store, ward_code: str, day: date) -> None:
    """Count one resident's "this ward has no published team" for `day`: nothing about them is kept."""
    with store.session() as session:
        add_no_team_report(session, day, ward_code)


def no_team_reports(store: Store, since: date) -> dict[str, int]:
    """Ward code -> residents' no-team reports from `since` on."""
    with store.reader() as session:
        return no_team_reports_since(session, since)


def _wards_of(role: str, borough_code: str | None, ward_codes: Collection[str], wards: Iterable[WardCoverage]):
    """The wards a ward editor or borough admin keeps (site admins get none: they hold them all)."""
    if role == Role.BOROUGH_ADMIN:
        return [w for w in wards if w.borough_code == borough_code]
    if role == Role.WARD_EDITOR:
        return [w for w in wards if w.code in ward_codes]
    return []


def attention_list(
    role: str,
    borough_code: str | None,
    ward_codes: Collection[str],
    report: CoverageReport,
    reports: Mapping[str, int],
    threshold: float = DEFAULT_THRESHOLD,
) -> tuple[DigestWard, ...]:
    """One person's wards that need attention, in the report's order (worst first)."""
    due = (w for w in report.wards if needs_attention(w, threshold))
    return tuple(DigestWard(w, reports.get(w.code, 0)) for w in _wards_of(role, borough_code, ward_codes, due))


def unconfirmed_list(
    role: str, borough_code: str | None, ward_codes: Collection[str], report: CoverageReport
) -> tuple[UnconfirmedWard, ...]:
    """The wards this person may edit (a site admin: every ward) whose details nobody has confirmed, oldest first."""
    found = [w for w in report.wards if w.unconfirmed_since is not None]
    mine = found if role == Role.SITE_ADMIN else _wards_of(role, borough_code, ward_codes, found)
    oldest = sorted(mine, key=lambda w: (w.unconfirmed_since, w.borough_name, w.name))
    return tuple(UnconfirmedWard(w) for w in oldest)


def digests(
    store: Store, report: CoverageReport, reports: Mapping[str, int], threshold: float = DEFAULT_THRESHOLD
) -> list[Digest]:
    """A digest for every active editor and borough admin (who has set a password) with wards that need attention."""
    with store.reader() as session:
        users = session.scalars(
            select(StaffUser)
            .options(selectinload(StaffUser.wards))
            .where(StaffUser.active.is_(True), StaffUser.password_hash.is_not(None))
            .order_by(StaffUser.id)
        ).all()
        people = [(u.id, u.email, u.name, u.role, u.borough_code, u.ward_codes) for u in users]
    found = []
    for user_id, email, name, role, borough_code, ward_codes in people:
        wards = attention_list(role, borough_code, ward_codes, report, reports, threshold)
        if wards:  # a ward nobody has confirmed needs attention too (not confirmed in 90 days): none is left out
            unconfirmed = unconfirmed_list(role, borough_code, ward_codes, report)
            found.append(Digest(user_id, email, name, wards, unconfirmed))
    return found


def send_digests(store: Store, found: Iterable[Digest], deliver: Callable[[Digest], None], now: datetime) -> SendReport:
    """Deliver each digest unless it went out earlier this week; a digest that fails is tried again next run.

    Each is claimed in the store before it is sent, so two runs at once cannot both send it.
    """
    week = week_of(london_today(now))
    done = SendReport()
    for digest in found:
        with store.session() as session:
            claimed = claim_digest(session, digest.user_id, week, now)
        if not claimed:
            done.already.append(digest.email)
            continue
        try:
            deliver(digest)
        except MailError as exc:
            with store.session() as session:
                release_digest(session, digest.user_id, week)
            done.failed.append((digest.email, str(exc)))
        else:
            done.sent.append(digest.email)
    return done
