"""Fictional sample teams for demonstrations and browser tests (`finder load-sample-teams`).

The teams in finder/data/sample_teams.json are made up: example.org/example.com addresses and
Ofcom's drama phone numbers, so nothing can reach a real person. They are stored with source
"sample", and every page, API answer and export that shows them says they are sample data. A ward
that already has a real team (from police.uk or entered by an officer) is never overwritten.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from finder.store import Store
from finder.store.models import Place, Team, utcnow
from finder.teams.directory import london_now
from finder.teams.policeuk_answers import role_for_rank
from finder.teams.records import (
    MeetingData,
    OfficerData,
    PlaceData,
    PriorityData,
    RouteData,
    TeamData,
    apply_team,
)
from finder.text import one_line, plain_text

SAMPLE_FILE = Path(__file__).resolve().parent.parent / "data" / "sample_teams.json"


@dataclass
class SampleReport:
    """What load_sample_teams loaded, and which wards it left alone."""

    loaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    changes: int = 0


def sample_teams(
    force_names: dict[str, str], today: datetime | None = None, path: Path = SAMPLE_FILE
) -> list[TeamData]:
    """The sample file as TeamData, with meeting dates counted from `today` (London time)."""
    today = (today or london_now()).replace(hour=0, minute=0, second=0, microsecond=0)
    teams = []
    for t in json.loads(path.read_text("utf-8"))["teams"]:
        teams.append(
            TeamData(
                force_id=t["force_id"],
                force_name=force_names[t["force_id"]],
                name=one_line(t["name"]) or t["ward_code"],
                ward_code=t["ward_code"],
                description=plain_text(t.get("description")),
                url_force=t.get("url"),
                routes=[RouteData(r["kind"], r["label"], r["value"], r.get("hours")) for r in t.get("routes", [])],
                officers=[
                    OfficerData(
                        name=o["name"],
                        rank=o.get("rank"),
                        role=role_for_rank(o.get("rank")),
                        collar_number=o.get("collar_number"),
                        bio=plain_text(o.get("bio")),
                    )
                    for o in t.get("officers", [])
                ],
                meetings=[_meeting(x, today) for x in t.get("meetings", [])],
                priorities=[
                    PriorityData(
                        issue=p["issue"],
                        action=p.get("action"),
                        issue_date=(today - timedelta(days=p["issue_days_ago"])).date(),
                        action_date=(today - timedelta(days=p["action_days_ago"])).date()
                        if p.get("action_days_ago") is not None
                        else None,
                    )
                    for p in t.get("priorities", [])
                ],
                places=[PlaceData(**p) for p in t.get("places", [])],
            )
        )
    return teams


def _meeting(x: dict[str, Any], today: datetime) -> MeetingData:
    hour, minute = (int(v) for v in x["time"].split(":"))
    start = today + timedelta(days=x["in_days"], hours=hour, minutes=minute)
    return MeetingData(
        title=x["title"],
        kind=x["kind"],
        start=start,
        end=start + timedelta(minutes=x["minutes"]) if x.get("minutes") else None,
        place=x.get("place"),
        description=x.get("description"),
    )


def load_sample_teams(store: Store, force_names: dict[str, str], today: datetime | None = None) -> SampleReport:
    """Load (or refresh) the sample teams; wards with a real team are left alone and reported."""
    report = SampleReport()
    now = utcnow()
    for data in sample_teams(force_names, today):
        with store.session() as session:
            existing = session.scalar(select(Team).where(Team.ward_code == data.ward_code))
            if existing is not None and existing.source != "sample":
                report.skipped.append(f"{data.ward_code}: already has a team from {existing.source}; left alone")
                continue
            outcome = apply_team(session, data, source="sample", now=now)
            report.changes += sum(c.action in ("add", "update", "remove") for c in outcome.changes)
            report.loaded.append(f"{data.ward_code} {data.name}")
    return report


def remove_sample_teams(store: Store) -> int:
    """Delete every sample team and sample place; returns how many teams went."""
    with store.session() as session:
        teams = session.scalars(select(Team).where(Team.source == "sample")).all()
        for team in teams:
            session.delete(team)
        for place in session.scalars(select(Place).where(Place.source == "sample")):
            session.delete(place)
        return len(teams)
