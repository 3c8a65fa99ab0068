"""The police.uk sync tests' shared data and helpers: neighbourhoods in the real API's shapes, the stub, a sync."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from sqlalchemy import func, select

from finder.lookup.service import load_forces
from finder.store import Store
from finder.teams.policeuk_client import PoliceUK
from finder.teams.sync import Sync, WardMatcher
from tests.support.policeuk_stub import PoliceUKStub, StubData

FORCE_NAMES = {force_id: force.name for force_id, force in load_forces().items()}
MET = "/api/metropolitan"
# The events here are in December 2026, and a sync keeps events a year back to two years ahead of its clock:
# a test that reads them back runs the sync as of this time, so it passes in 2028 too.
AS_OF = datetime(2026, 11, 1, 12, tzinfo=UTC)


def st_james() -> dict:
    """St James's as police.uk might give it, with the mess the real data has."""
    return {
        "id": "E05013806N",
        "name": "St James's",
        "description": "<p>Welcome to the <b>St James's</b> team.<br/>We listen &amp; act.</p><script>steal()</script>",
        "url_force": "https://example.org/met/st-jamess",
        "population": "11403",
        "centre": {"latitude": "51.5030", "longitude": "-0.1330"},
        "links": [{"url": "https://example.org/council", "title": "Council", "description": None}],
        "contact_details": {
            "email": "stjames.snt@example.org",
            "telephone": "020 7946 0001",
            "fax": "020 7946 0002",
            "twitter": "https://x.example.com/StJamesSNT",
            "web": "javascript:alert(1)",
            "facebook": None,
        },
        "locations": [
            {
                "name": "Example Road police station (fictional)",
                "type": "station",
                "address": "1 Example Road\n, London",
                "postcode": "SW1A 9ZZ",
                "latitude": "51.50450",
                "longitude": "-0.13850",
                "description": "<p>Front counter open <b>24 hours</b></p>",
            },
            {"name": "Mobile police station", "type": "mobile", "latitude": None, "longitude": None},
        ],
    }


PEOPLE = [
    {
        "name": "Jo Example",
        "rank": "Sgt",
        "bio": "<p>Jo leads the team.</p><script>alert('x')</script><a href=\"javascript:alert(1)\">more</a>",
        "contact_details": {},
    },
    {
        "name": "<b>Sam</b> Sampleton",
        "rank": "PCSO",
        "bio": None,
        "contact_details": {"email": "mailto:sam@example.org?subject=Hello&body=Dear%20Sam"},  # stored: the address
    },
    {"name": "Alex Notreal", "rank": None},
    {"name": None, "rank": "PC", "bio": "a person with no name is left out"},
]
EVENTS = [
    {
        "title": "<i>St James's ward panel</i>",
        "type": "meeting",
        "start_date": "2026-12-01T18:30:00",
        "end_date": "2026-12-01T20:00:00",
        "address": "Example Hall, 2 Example Street",
        "description": "<p>All welcome</p>",
        "contact_details": {},
    },
    {"title": "Street surgery", "type": "meeting", "start_date": None},
    {"title": "Cuppa with a copper", "type": None, "start_date": "2026-12-03T10:00:00", "end_date": None},
]
PRIORITIES = [
    {
        "issue": "<p>Phone snatches on the square.</p>",
        "issue-date": "2026-09-20T00:00:00",
        "action": "<p>Patrols at busy times.</p>",
        "action-date": "2026-10-14T00:00:00",
    },
    {"issue": "Bikes ridden on pavements", "issue-date": None, "action": None, "action-date": None},
    {"issue": None},
]


def bare(nid: str, name: str) -> dict:
    """A neighbourhood's details with nothing in them: no contacts, no places."""
    return {"id": nid, "name": name, "locations": [], "contact_details": {}}


def met_data() -> StubData:
    """Seven Met neighbourhoods: St James's in full, and the awkward cases of matching to wards."""
    data = StubData()
    data.add("metropolitan", st_james(), *copy.deepcopy((PEOPLE, EVENTS, PRIORITIES)))
    data.add("metropolitan", bare("E05013805", "Regent's Park"))
    data.add("metropolitan", bare("00BKX6", "West End"), [{"name": "Chris Madeup", "rank": "PC"}])
    data.add("metropolitan", bare("WRP", "Regent's Park"))  # a name two boroughs' wards share
    data.add("metropolitan", bare("HEATHROW", "Heathrow Airport"))
    data.add("metropolitan", bare("E05009290", "Bassishaw"))  # a City of London ward
    data.add("metropolitan", bare("E05013806", "St James's (old id)"))
    return data


def serve(data: StubData) -> PoliceUKStub:
    """The stub, with its rate limit out of the way (test_the_sync_holds_to_the_rate_limit… tests that)."""
    return PoliceUKStub(data, rate=1000, burst=1000)


def make_sync(
    store: Store,
    stub: PoliceUKStub,
    matcher: WardMatcher,
    *,
    rate: float = 500,
    burst: int = 500,
    retries: int = 5,
    **options,
) -> tuple[Sync, list[str]]:
    """A sync against the stub with short backoffs, and the list its log lines go to."""
    lines: list[str] = []
    client = PoliceUK(stub.url, backoff=0.05, rate=rate, burst=burst, retries=retries)
    return Sync(store, client, matcher, FORCE_NAMES, log=lines.append, **options), lines


def count(store: Store, model) -> int:
    """How many rows a table holds."""
    with store.reader() as session:
        return session.scalar(select(func.count()).select_from(model))
