"""The dated police.uk snapshot: every Met ward's own team mailbox and accounts, on a fresh install.

`finder load-snapshot` (and `finder init-db` on a store without teams) reads data.police.uk's answers for the
Met's 679 neighbourhoods as published in March 2023 (../shared/data-raw/policeuk-met-neighbourhoods-2023-03,
SOURCES.md section 5) and stores each as its ward's team: the mailbox as an email route, Twitter and Facebook
as social routes, source "policeuk".

A team is stored the way the live sync stores one: police.uk's answer goes through the same reader
(`policeuk.team_data`) into the one writer (`records.apply_team`, whose officer rules keep what an officer
entered or verified) and the ward's history (`sync_changes.record_sync`). Not through `Sync` itself: its listing,
resumable runs, rate limit, worker threads, shrink guard and name or boundary matching exist for a remote API,
and here every id must map to its ward exactly or nothing is loaded.

Safe to run again: records are matched by their keys, and a team that police.uk data synced after the
snapshot (or an officer) has touched keeps those values.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from finder.geo.wards import Ward
from finder.staff.sync_changes import record_sync
from finder.store import Store
from finder.store.models import Provenance, Team, utcnow
from finder.teams import policeuk_answers as policeuk
from finder.teams.records import apply_team, find_team

FORCE_ID = "metropolitan"
SNAPSHOT_DIR = "policeuk-met-neighbourhoods-2023-03"
SNAPSHOT_FILE = "metropolitan_neighbourhoods_2023-03.json"
# The values' date: the collector committed the file, police.uk's answers of that day, on 6 March 2023
# (SOURCES.md section 5). Stored as each value's fetched_at, so every page can say "as published in March 2023".
PUBLISHED_AT = datetime(2023, 3, 6, tzinfo=UTC)


class SnapshotError(RuntimeError):
    """The snapshot cannot be loaded as it is (its ids do not map to the Met's wards one to one)."""


@dataclass
class SnapshotReport:
    """What a load did: teams stored, changes by kind, teams left alone and why."""

    teams: int = 0
    changes: Counter = field(default_factory=Counter)
    kept_newer: list[str] = field(default_factory=list)  # police.uk values synced after the snapshot
    conflicts: list[str] = field(default_factory=list)  # an officer's record kept

    def lines(self) -> list[str]:
        changed = {f"{entity}.{action}": n for (entity, action), n in sorted(self.changes.items()) if action != "keep"}
        out = [
            f"snapshot: {self.teams} Met ward teams from police.uk as published in March 2023",
            "  changed: " + (", ".join(f"{k} {v}" for k, v in changed.items()) or "nothing"),
        ]
        if self.kept_newer:
            out.append(f"  kept, synced from police.uk since the snapshot: {len(self.kept_newer)}")
        if self.conflicts:
            out.append(f"  conflicts (an officer's record kept): {len(self.conflicts)}")
            out += [f"    {c}" for c in self.conflicts]
        return out


def snapshot_path(raw_dir: Path) -> Path:
    return raw_dir / SNAPSHOT_DIR / SNAPSHOT_FILE


def ward_of(neighbourhood_id: str) -> str:
    """The Met's neighbourhood ids are ward codes, 65 of them with a trailing N."""
    return neighbourhood_id[:-1] if neighbourhood_id.endswith("N") else neighbourhood_id


def read_snapshot(path: Path, wards: Iterable[Ward]) -> list[tuple[str, dict]]:
    """(ward code, police.uk's answer) for each neighbourhood; SnapshotError unless the ids, N removed, are
    exactly the Met's wards, one each."""
    items = json.loads(path.read_text("utf-8"))
    met = {ward.code for ward in wards if ward.force_id == FORCE_ID}
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in items):
        raise SnapshotError(f"{path}: not a list of police.uk neighbourhoods with ids")
    codes = [ward_of(item["id"].strip()) for item in items]
    problems = []
    if unknown := sorted(set(codes) - met):
        problems.append(f"{len(unknown)} ids are no Met ward: {', '.join(unknown[:10])}")
    if twice := sorted(code for code, n in Counter(codes).items() if n > 1):
        problems.append(f"{len(twice)} wards are listed twice: {', '.join(twice[:10])}")
    if missing := sorted(met - set(codes)):
        problems.append(f"{len(missing)} Met wards have no neighbourhood: {', '.join(missing[:10])}")
    if problems:
        raise SnapshotError(f"{path} does not map to the Met's wards exactly; nothing loaded: " + "; ".join(problems))
    return list(zip(codes, items, strict=True))


def has_teams(store: Store) -> bool:
    with store.reader() as session:
        return bool(session.scalar(select(func.count()).select_from(Team)))


def load_snapshot(store: Store, path: Path, wards: Iterable[Ward], force_name: str) -> SnapshotReport:
    """Store every Met ward's team from the snapshot, in one transaction (all or nothing)."""
    neighbourhoods = read_snapshot(path, wards)
    report = SnapshotReport()
    now = utcnow()
    london_now = now.astimezone(policeuk.LONDON).replace(tzinfo=None)
    with store.sessions() as session:
        session.begin()
        for ward_code, answer in neighbourhoods:
            reference = {"id": answer["id"].strip(), "name": answer.get("name")}
            stored = find_team(session, FORCE_ID, reference["id"], ward_code)
            if stored is not None and _synced_since(stored):
                report.kept_newer.append(ward_code)
                continue
            # police.uk answers people, events and priorities with [] for a team that has none; the snapshot
            # holds the neighbourhood's own answer only.
            data, _ = policeuk.team_data(FORCE_ID, force_name, reference, answer, [], [], [], ward_code, now=london_now)
            outcome = apply_team(session, data, source="policeuk", now=PUBLISHED_AT)
            record_sync(session, ward_code, outcome.changes, now)
            report.teams += 1
            for change in outcome.changes:
                report.changes[(change.entity, change.action)] += 1
                if change.action == "conflict":
                    report.conflicts.append(f"{ward_code} {data.name}: {change}")
        session.commit()
    return report


def _synced_since(team: Team) -> bool:
    """Whether a live sync has written this team since the snapshot: its values are newer, and stay."""
    records: list[Provenance] = [team, *team.routes]
    return any(r.source == "policeuk" and r.fetched_at > PUBLISHED_AT for r in records)
