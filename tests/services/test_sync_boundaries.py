"""Teams the sync could not place by id or name, placed by their police.uk boundary; and what else police.uk offers.

Against the local police.uk stand-in (a real HTTP server) on SQLite and PostgreSQL: a force-wide
City of London neighbourhood serves all 25 City wards, a merged Met team the wards its outline
covers (not those another team holds), and links, event contacts and the force's engagement
methods are kept, http(s) links only.
"""

from __future__ import annotations

import json

import pytest
from shapely.geometry import shape
from shapely.ops import unary_union
from sqlalchemy import select

from finder.staff.editing import Editing
from finder.store import models as m
from finder.teams.directory import TeamDirectory
from finder.teams.sync import WardMatcher
from tests.services.syncdata import AS_OF, bare, make_sync, serve
from tests.store import backends
from tests.support.policeuk_stub import StubData, boundary_of

migrated_store, store = backends.migrated_store, backends.store  # on SQLite and PostgreSQL

ST_JAMES, WEST_END = "E05013806", "E05013808"


@pytest.fixture(scope="module")
def matcher(geodata) -> WardMatcher:
    return WardMatcher(geodata.wards.wards, index=geodata.wards)


def outline(geodata, codes) -> list[dict[str, str]]:
    """The wards' outline as police.uk gives a boundary (string lat/lng points)."""
    union = unary_union([shape(geodata.wards.feature(code)["geometry"]) for code in codes])
    return boundary_of(p.exterior.coords for p in getattr(union, "geoms", [union]))


def city_data(geodata) -> StubData:
    """One force-wide City of London neighbourhood, with links, an event with contacts, and engagement methods."""
    data = StubData()
    city = [w.code for w in geodata.wards.wards if w.force_id == "city-of-london"]
    details = bare("CITYWIDE", "City of London")
    details["links"] = [
        {"url": "https://example.org/city-safety", "title": "Safer City Partnership", "description": None},
        {"url": "javascript:alert(1)", "title": "Not a link", "description": None},
    ]
    event = {
        "title": "City community meeting",
        "type": "meeting",
        "start_date": "2026-12-10T18:00:00",
        "contact_details": {"email": "city.events@example.org", "web": "data:text/html,<script>x</script>"},
    }
    data.add("city-of-london", details, [], [event], [])
    data.boundaries[("city-of-london", "CITYWIDE")] = outline(geodata, city)
    data.add("city-of-london", bare("NOBOUNDARY", "Somewhere else"))  # no boundary: stays unmatched
    data.forces["city-of-london"] = {
        "id": "city-of-london",
        "name": "City of London Police",
        "engagement_methods": [
            {"url": "https://x.example.com/CityPolice", "title": "X", "description": "<p>Our news</p>"},
            {"url": "javascript:alert(1)", "title": "Bad", "description": None},
        ],
    }
    return data


def test_a_force_wide_city_neighbourhood_serves_all_25_city_wards(store, matcher, geodata):
    city = sorted(w.code for w in geodata.wards.wards if w.force_id == "city-of-london")
    with serve(city_data(geodata)) as stub:
        report = make_sync(store, stub, matcher)[0].run("city-of-london")
        assert "/api/city-of-london/CITYWIDE/boundary" in stub.paths(200)
    assert report.status == "complete" and report.matched == {"boundary": 1}
    assert [u[0] for u in report.unmatched] == ["NOBOUNDARY"]
    assert any("CITYWIDE: by its boundary, serves 25 ward(s)" in note for note in report.notes)
    with store.reader() as session:
        team = session.scalars(select(m.Team).where(m.Team.policeuk_id == "CITYWIDE")).one()
        assert sorted([team.ward_code, *(w.ward_code for w in team.extra_wards)]) == city
    teams = TeamDirectory(store, geodata.wards)
    assert {teams.lookup(code).team.name for code in city} == {"City of London"}
    assert teams.lookup(city[7]).team.ward_code == city[7]
    assert Editing(store, lambda code: None).editable(city[7]).team.values["name"] == "City of London"


def test_links_event_contacts_and_engagement_methods_are_kept_and_only_http_links(store, matcher, geodata):
    with serve(city_data(geodata)) as stub:
        make_sync(store, stub, matcher, now=lambda: AS_OF)[0].run("city-of-london")
    with store.reader() as session:
        team = session.scalars(select(m.Team).where(m.Team.policeuk_id == "CITYWIDE")).one()
        assert json.loads(team.links) == [{"title": "Safer City Partnership", "url": "https://example.org/city-safety"}]
        assert json.loads(team.meetings[0].contact_details) == [
            {"kind": "email", "label": "Email", "value": "city.events@example.org"}
        ]
        force = session.get(m.Force, "city-of-london")
        assert json.loads(force.engagement_methods) == [
            {"title": "X", "url": "https://x.example.com/CityPolice", "description": "Our news"}
        ]


def test_a_merged_team_takes_the_wards_its_boundary_covers_but_not_one_another_team_holds(store, matcher, geodata):
    data = StubData()
    data.add("metropolitan", bare(ST_JAMES, "St James's"))
    data.add("metropolitan", bare("MERGED1", "St James's and West End"))
    data.boundaries[("metropolitan", "MERGED1")] = outline(geodata, [ST_JAMES, WEST_END])
    with serve(data) as stub:
        report = make_sync(store, stub, matcher)[0].run("metropolitan")
        assert f"/api/metropolitan/{ST_JAMES}/boundary" not in stub.paths()  # matched by id: no boundary asked
    assert report.matched == {"id": 1, "boundary": 1} and not report.unmatched
    with store.reader() as session:
        wards = {
            t.policeuk_id: (t.ward_code, [w.ward_code for w in t.extra_wards]) for t in session.scalars(select(m.Team))
        }
    assert wards == {ST_JAMES: (ST_JAMES, []), "MERGED1": (WEST_END, [])}


def test_syncing_a_multi_ward_team_again_changes_nothing(store, matcher, geodata):
    with serve(city_data(geodata)) as stub:
        make_sync(store, stub, matcher)[0].run("city-of-london")
        again = make_sync(store, stub, matcher)[0].run("city-of-london")
    assert not [k for k in again.changes if k[1] != "keep"]
    with store.reader() as session:
        assert len(session.scalars(select(m.TeamWard)).all()) == 24
