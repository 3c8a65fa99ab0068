"""Team data for page, API, export and browser tests: the fictional samples, plus one hostile team.

The hostile team is stored as if an officer had typed it (source "officer"), so nothing from the
sync's sanitiser stands between it and the surfaces: every page, API answer, export and map
popup must show it as text on its own.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from finder.geo.geodata import GeoData
from finder.lookup.service import Lookup, load_forces
from finder.store import Store
from finder.store.migrate import upgrade
from finder.store.models import utcnow
from finder.teams.directory import TeamDirectory, london_now
from finder.teams.records import MeetingData, OfficerData, PlaceData, PriorityData, RouteData, TeamData, apply_team
from finder.teams.samples import load_sample_teams

FORCE_NAMES = {force_id: force.name for force_id, force in load_forces().items()}
SAMPLE_WARD, SAMPLE_POSTCODE = "E05013806", "SW1A 1AA"  # St James's
CITY_WARD, CITY_POSTCODE = "E05009290", "EC2V 7HH"  # Bassishaw
HOSTILE_WARD, HOSTILE_POSTCODE = "E05013991", "BR1 1AA"  # Bromley Town
NO_TEAM_WARD = "E05013808"  # West End: no team loaded

PWN = "window.__pwned=1"
HOSTILE_NAME = f'<img src=x onerror="{PWN}">Eve <b>Evans</b>'
HOSTILE_TEAM = f"<script>{PWN}</script>Bromley <i>Town</i> team"
HOSTILE_TITLE = (
    f'<img src=x onerror="{PWN}"> ${{{PWN}}} `tick` panel; with, commas\\ and\r\nATTENDEE:mailto:evil@example.com'
)
HOSTILE_BIO = f'<script>{PWN}</script><a href="javascript:{PWN}">click me</a>\nLine two; with, commas\\'
HOSTILE_PLACE = f'<img src=x onerror="{PWN}"> ${{{PWN}}} </script><script>{PWN}</script> station'
HOSTILE_STRINGS = (HOSTILE_NAME, HOSTILE_TEAM, HOSTILE_TITLE, HOSTILE_BIO, HOSTILE_PLACE)


def hostile_team(today: datetime | None = None) -> TeamData:
    """Everything a careless or malicious editor could type, in every field a surface shows."""
    start = (today or london_now()).replace(hour=18, minute=0, second=0, microsecond=0) + timedelta(days=4)
    return TeamData(
        force_id="metropolitan",
        force_name=FORCE_NAMES["metropolitan"],
        name=HOSTILE_TEAM,
        ward_code=HOSTILE_WARD,
        description=f'Hello <img src=x onerror="{PWN}">',
        url_force=f"javascript:{PWN}",
        routes=[
            RouteData("email", "Email", "bromley.test@example.org"),
            RouteData("web", "Web page", f"javascript:{PWN}"),
            RouteData("email", "Bad email", f'"><script>{PWN}</script>@example.org'),
            RouteData("phone", "Phone", "020 7946 0999"),
            RouteData("social", f"<b>Social</b> {PWN}", "https://social.example.com/a,b;c"),
        ],
        officers=[
            OfficerData(HOSTILE_NAME, f"PC <script>{PWN}</script>", "police_constable", "1;2,3", HOSTILE_BIO),
        ],
        meetings=[
            MeetingData(HOSTILE_TITLE, "ward_panel", start, start + timedelta(hours=1), HOSTILE_PLACE, HOSTILE_BIO),
        ],
        priorities=[PriorityData(f'<b onmouseover="{PWN}">Issue</b>', f"<script>{PWN}</script>")],
        places=[
            PlaceData(HOSTILE_PLACE, "front_counter", f"<i>{PWN}</i>", None, 51.4020, 0.0160, f"`${{{PWN}}}`"),
        ],
    )


def team_store(url: str = "sqlite://") -> Store:
    """A migrated store with the sample teams and the hostile team."""
    store = Store(url)
    upgrade(store)
    load_sample_teams(store, FORCE_NAMES)
    with store.session() as session:
        apply_team(session, hostile_team(), source="officer", now=utcnow())
    return store


def team_lookup(geodata: GeoData, store: Store) -> Lookup:
    return Lookup(geodata, load_forces(), teams=TeamDirectory(store, geodata.wards))
