"""Coverage: can a resident of each ward reach its team? Six parts, each shown, and their total.

A ward scores a point for each thing a resident needs and the finder can show them: a named team,
the team's own phone number and email address (ones that really are a number and an address, as
the pages link them, and that someone has confirmed: one from the police.uk snapshot of March 2023
that neither the team nor police.uk has confirmed since is shown, dated, but scores nothing), a
meeting in the next three months, current priorities, and details confirmed in the last 90 days
(the oldest confirmation among what the ward's page shows, as the page says).
All 704 wards are scored from six queries, whatever the number of teams; no Flask here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, overload

from sqlalchemy import select
from sqlalchemy.orm import Session

from finder.geo.wards import WardIndex
from finder.store import Store
from finder.store import models as m
from finder.teams import dates
from finder.teams.directory import LONDON, safe_href
from finder.teams.snapshot import PUBLISHED_AT

# (key, what a resident needs), in the order shown everywhere.
PARTS: tuple[tuple[str, str], ...] = (
    ("team", "A named team"),
    ("phone", "The team's phone number"),
    ("email", "The team's email address"),
    ("meeting", "A meeting in the next 3 months"),
    ("priorities", "Current priorities"),
    ("confirmed", "Details confirmed in the last 90 days"),
)
PART_KEYS = tuple(key for key, _ in PARTS)
MAXIMUM = len(PARTS)
MEETING_DAYS = 92  # "the next 3 months": the longest three calendar months
PRIORITY_DAYS = 365  # a priority dated within a year is current; an undated one counts while listed
CONFIRMED_DAYS = 90  # as the staff pages flag unchecked details (editing.STALE_DAYS)


@dataclass(frozen=True)
class WardCoverage:
    """One ward's parts (True where a resident has it), in PARTS order."""

    code: str
    name: str
    borough_code: str
    borough_name: str
    parts: tuple[bool, ...]
    team_name: str | None = None
    sample: bool = False  # fictional sample data: counted as shown, and labelled wherever it shows
    confirmed_at: datetime | None = None
    unclear_dates: int = 0  # meetings stored with a date outside the window (finder.teams.dates): to correct
    # The details shown that nobody has confirmed (_unconfirmed): how many, and the oldest one's source and date.
    unconfirmed: int = 0
    unconfirmed_since: datetime | None = None
    unconfirmed_source: str | None = None

    @property
    def score(self) -> int:
        """How many of the six parts the ward has."""
        return sum(self.parts)

    @property
    def has(self) -> dict[str, bool]:
        """Part key -> whether the ward has it."""
        return dict(zip(PART_KEYS, self.parts, strict=True))

    @property
    def missing(self) -> list[str]:
        """What a resident of this ward cannot find, in words: the borough admin's to-do list."""
        return [label for (_, label), present in zip(PARTS, self.parts, strict=True) if not present]


@dataclass(frozen=True)
class BoroughCoverage:
    """A borough's wards summed up: how many, their mean score, and how many have each part."""

    code: str
    name: str
    wards: int
    total: int  # the sum of its wards' scores
    complete: int  # wards with every part
    with_part: tuple[int, ...]  # per part, in PARTS order: wards that have it

    @property
    def mean(self) -> float:
        """The mean ward score."""
        return self.total / self.wards if self.wards else 0.0


@dataclass(frozen=True)
class CoverageReport:
    """Every ward, worst covered first, and every borough, worst first."""

    as_of: datetime
    wards: tuple[WardCoverage, ...]
    boroughs: tuple[BoroughCoverage, ...] = field(default_factory=tuple)

    @property
    def scores(self) -> dict[str, int]:
        """Ward code -> score (what the map colours by: numbers only)."""
        return {w.code: w.score for w in self.wards}

    def in_borough(self, borough_code: str) -> tuple[WardCoverage, ...]:
        """One borough's wards, worst first."""
        return tuple(w for w in self.wards if w.borough_code == borough_code)


@overload
def _aware(value: datetime) -> datetime: ...
@overload
def _aware(value: None) -> None: ...
def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _confirmed(row: Any) -> datetime:
    """The later of fetched and verified (what the page calls the record's confirmation)."""
    return max(t for t in (_aware(row.fetched_at), _aware(row.verified_at)) if t is not None)


def _unconfirmed(row: Any, cutoff: datetime) -> bool:
    """Nobody has confirmed it: no one in the team (verified_at, or entered by an officer), nor its source in the
    last 90 days (a police.uk value synced since then was published again), like the 2023 snapshot's values."""
    return row.verified_at is None and row.source != "officer" and _aware(row.fetched_at) < cutoff


def _unconfirmed_snapshot(row: Any) -> bool:
    """A value as the police.uk snapshot of March 2023 gave it, that nobody has confirmed since (finder.teams.snapshot):
    a confirmed phone or email scores its part; this one does not."""
    return row.source == "policeuk" and row.verified_at is None and _aware(row.fetched_at) == PUBLISHED_AT


def _latest(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return max(known) if known else None


class _TeamFacts:
    """What the queries found for one team."""

    def __init__(self, row: Any, cutoff: datetime) -> None:
        self.name: str = row.name
        self.sample = row.source == "sample"
        self.cutoff = cutoff
        self.confirmed: list[datetime] = []
        self.unconfirmed: list[tuple[datetime, str]] = []  # (fetched_at, source) of each detail nobody confirmed
        self.phone = self.email = self.meeting = self.priorities = False
        self.unclear_dates = 0
        self.shown(row)

    def shown(self, row: Any) -> None:
        """A detail the ward's page shows: its confirmation, and whether nobody has confirmed it."""
        self.confirmed.append(_confirmed(row))
        if _unconfirmed(row, self.cutoff):
            self.unconfirmed.append((_aware(row.fetched_at), row.source))


def _team_facts(session: Session, now: datetime) -> dict[str, _TeamFacts]:
    """Six queries over the whole store, whatever its size: ward code -> what its team has."""
    team, route, officer = m.Team.__table__, m.ContactRoute.__table__, m.Officer.__table__
    meeting, priority, served = m.Meeting.__table__, m.Priority.__table__, m.TeamWard.__table__
    provenance = ("source", "fetched_at", "verified_at")

    by_id: dict[int, _TeamFacts] = {}
    by_ward: dict[str, _TeamFacts] = {}
    cutoff = now - timedelta(days=CONFIRMED_DAYS)
    for row in session.execute(
        select(team.c.id, team.c.ward_code, team.c.name, *(team.c[c] for c in provenance)).where(
            team.c.ward_code.is_not(None)
        )
    ):
        by_id[row.id] = by_ward[row.ward_code] = _TeamFacts(row, cutoff)
    for row in session.execute(select(served.c.ward_code, served.c.team_id)):  # the further wards a team serves
        if row.team_id in by_id:
            by_ward.setdefault(row.ward_code, by_id[row.team_id])

    def rows(table: Any, *columns: str, where: Iterable[Any] = ()) -> Iterable[tuple[_TeamFacts, Any]]:
        query = select(table.c.team_id, *(table.c[c] for c in (*columns, *provenance))).where(*where)
        for row in session.execute(query):
            facts = by_id.get(row.team_id)
            if facts is not None:
                facts.sample |= row.source == "sample"
                yield facts, row

    # The ward page shows the team's own routes; officers' routes belong to the officers.
    for facts, row in rows(route, "kind", "value", where=[route.c.officer_id.is_(None)]):
        facts.shown(row)
        if _unconfirmed_snapshot(row):
            continue
        if row.kind in ("phone", "mobile") and safe_href(row.kind, row.value):
            facts.phone = True
        elif row.kind == "email" and safe_href(row.kind, row.value):
            facts.email = True
    for facts, row in rows(officer):
        facts.shown(row)
    local = now.astimezone(LONDON).replace(tzinfo=None)  # meeting times are London local time
    horizon = local + timedelta(days=MEETING_DAYS)
    for facts, row in rows(meeting, "starts_at", "ends_at", where=[meeting.c.starts_at >= local - timedelta(hours=12)]):
        if not dates.clear(row.starts_at, row.ends_at, local):
            facts.unclear_dates += 1  # shown as "date unclear": not a meeting a resident can go to
            continue
        if dates.over_at(row.starts_at, row.ends_at) < local:
            continue  # over: the page no longer shows it
        facts.shown(row)
        facts.meeting |= row.starts_at <= horizon
    since = now.astimezone(LONDON).date() - timedelta(days=PRIORITY_DAYS)
    for facts, row in rows(priority, "issue_date", "action_date"):
        facts.shown(row)
        dated = _latest(row.issue_date, row.action_date)
        facts.priorities |= dated is None or dated >= since
    return by_ward


def ward_coverage(store: Store | None, wards: WardIndex, now: datetime) -> CoverageReport:
    """Score every ward in `wards` from the store as of `now` (aware). Raises SQLAlchemyError if it cannot be read.

    Without a store the finder shows no team anywhere, so every ward scores nothing.
    """
    by_ward: dict[str, _TeamFacts] = {}
    if store is not None:
        with store.reader() as session:
            by_ward = _team_facts(session, now)
    cutoff = now - timedelta(days=CONFIRMED_DAYS)
    found = []
    for ward in wards.wards:
        facts = by_ward.get(ward.code)
        if facts is None:
            found.append(WardCoverage(ward.code, ward.name, ward.borough_code, ward.borough_name, (False,) * MAXIMUM))
            continue
        oldest = min(facts.confirmed)
        parts = (True, facts.phone, facts.email, facts.meeting, facts.priorities, oldest >= cutoff)
        since, source = min(facts.unconfirmed) if facts.unconfirmed else (None, None)
        found.append(
            WardCoverage(
                ward.code,
                ward.name,
                ward.borough_code,
                ward.borough_name,
                parts,
                facts.name,
                facts.sample,
                oldest,
                facts.unclear_dates,
                len(facts.unconfirmed),
                since,
                source,
            )
        )
    return CoverageReport(now, tuple(worst_first(found)), tuple(borough_rollups(found)))


def worst_first(wards: Iterable[WardCoverage], lookups: Mapping[str, int] | None = None) -> list[WardCoverage]:
    """Lowest score first; among equals, the most looked-up first (the first to fix), then by borough and name."""
    counts = lookups or {}
    return sorted(wards, key=lambda w: (w.score, -counts.get(w.code, 0), w.borough_name, w.name))


def borough_rollups(wards: Iterable[WardCoverage]) -> list[BoroughCoverage]:
    """One summary per borough, the lowest mean score first."""
    grouped: dict[str, list[WardCoverage]] = defaultdict(list)
    for ward in wards:
        grouped[ward.borough_code].append(ward)
    rollups = [
        BoroughCoverage(
            code,
            members[0].borough_name,
            len(members),
            sum(w.score for w in members),
            sum(w.score == MAXIMUM for w in members),
            tuple(sum(w.parts[i] for w in members) for i in range(MAXIMUM)),
        )
        for code, members in grouped.items()
    ]
    return sorted(rollups, key=lambda b: (b.mean, b.name))
