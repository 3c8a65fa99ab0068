"""The JSON API's `team`: null when none is loaded; otherwise officers, routes, meetings, priorities, counters."""

from __future__ import annotations

import json

import pytest

from finder import create_app
from tests.store.teamdata import (
    CITY_POSTCODE,
    HOSTILE_TEAM,
    HOSTILE_WARD,
    NO_TEAM_WARD,
    SAMPLE_POSTCODE,
    SAMPLE_WARD,
    team_lookup,
    team_store,
)

TEAM_KEYS = [
    "name",
    "sample",
    "policeuk_id",
    "description",
    "url",
    "source",
    "confirmed_at",
    "verified_by_officer",
    "contact_routes",
    "officers",
    "meetings",
    "priorities",
    "more_links",
    "force_engagement",
    "front_counters",
    "links",
    "as_of",  # issue 24's additions, last
    "stale",
    "stale_note",
]
PROVENANCE = {"source", "confirmed_at", "verified_by_officer", "sample", "as_of", "stale", "stale_note"}


@pytest.fixture(scope="module")
def teams_lookup(geodata):
    return team_lookup(geodata, team_store())


@pytest.fixture()
def api(teams_lookup):
    app = create_app({"ENV_NAME": "testing"}, lookup=teams_lookup)
    return app.test_client()


def test_the_parts_encoded_ahead_read_back_as_data_in_debug_mode_as_in_compact_answers(teams_lookup):
    """A force's routes and a team's lists are encoded once (orjson Fragments); debug mode's indented
    encoder reads them back as data, so both modes give the same answer."""
    app = create_app({"ENV_NAME": "testing"}, lookup=teams_lookup)
    compact = app.test_client().get(f"/api/v1/postcodes/{SAMPLE_POSTCODE}")
    app.debug = True
    indented = app.test_client().get(f"/api/v1/postcodes/{SAMPLE_POSTCODE}")
    assert compact.status_code == indented.status_code == 200
    assert b"\n" not in compact.data and b'\n  "contact_routes": [\n' in indented.data
    body = json.loads(compact.data)
    assert json.loads(indented.data) == body
    assert body["contact_routes"][0]["id"] == "emergency"
    assert body["team"]["officers"] and body["team"]["meetings"] and body["team"]["links"]["page"]


def test_a_postcode_answer_carries_its_team_with_officers_routes_meetings_and_priorities(api):
    body = api.get(f"/api/v1/postcodes/{SAMPLE_POSTCODE}").get_json()
    additions = ["team", "force_neighbourhoods", "last_listed", "near_temples"]
    assert list(body)[-4:] == additions  # the additions come after the team
    team = body["team"]
    assert list(team) == TEAM_KEYS
    assert (team["name"], team["sample"], team["source"]) == ("St James's sample team", True, "sample")
    assert team["links"] == {
        "page": f"/wards/{SAMPLE_WARD}",
        "vcard": f"/wards/{SAMPLE_WARD}/team.vcf",
        "calendar": f"/wards/{SAMPLE_WARD}/calendar.ics",
    }
    assert [(o["name"], o["rank"], o["role"]) for o in team["officers"]] == [
        ("Amara Quill", "Sergeant", "sergeant"),
        ("Tomasz Ferrow", "PC", "police_constable"),
        ("Priya Lanternwick", "PC", "police_constable"),
        ("Dean Oakhollow", "PCSO", "pcso"),
        ("Ruth Mallowby", "Special Constable", "special_constable"),
    ]
    email = team["contact_routes"][0]
    assert email == {
        "kind": "email",
        "label": "Email",
        "value": "stjames.sample@example.org",
        "href": "mailto:stjames.sample@example.org",
        "hours": "Read Monday to Friday, 9am to 5pm",
        "source": "sample",
        "confirmed_at": email["confirmed_at"],
        "verified_by_officer": False,
        "sample": True,
        "as_of": email["confirmed_at"][:10],  # a sample value's date is when it was loaded
        "stale": False,
        "stale_note": None,
    }
    assert email["confirmed_at"].endswith("Z")
    assert {r["kind"] for r in team["contact_routes"]} == {"email", "phone", "mobile", "online_form", "social"}


def test_meetings_come_soonest_first_with_london_times_and_an_ics_link(api):
    meetings = api.get(f"/api/v1/wards/{SAMPLE_WARD}").get_json()["team"]["meetings"]
    assert [m["kind"] for m in meetings] == ["contact_session", "ward_panel", "other"]
    assert meetings == sorted(meetings, key=lambda m: m["start"])
    first = meetings[0]
    assert (
        set(first)
        == {"id", "title", "kind", "start", "end", "place", "description", "contact_routes", "date_unclear", "ics"}
        | PROVENANCE
    )
    assert first["date_unclear"] is False
    assert first["start"].endswith(("+00:00", "+01:00")) and first["start"][11:16] == "11:00"
    assert first["ics"] == f"/wards/{SAMPLE_WARD}/meetings/{first['id']}.ics"


def test_priorities_and_front_counters_are_in_the_team(api):
    team = api.get("/api/v1/locate?lat=51.501009&lon=-0.141588").get_json()["team"]
    [first, second] = team["priorities"]
    assert set(first) == {"issue", "action", "issue_date", "action_date"} | PROVENANCE
    assert first["issue_date"] < first["action_date"] and second["action"] is None
    counter = team["front_counters"][0]
    assert counter["name"] == "Sample Police Station front counter (fictional)"
    assert counter["distance_m"] == 444 and counter["location"] == {"lat": 51.5045, "lon": -0.1385}
    assert counter["opening_hours"].startswith("Monday to Friday") and counter["sample"] is True


def test_a_city_of_london_postcode_has_its_city_team(api):
    body = api.get(f"/api/v1/postcodes/{CITY_POSTCODE}").get_json()
    assert body["force"]["id"] == "city-of-london"
    assert body["team"]["name"] == "Bassishaw sample cluster team"
    assert "textphone" in {r["kind"] for r in body["team"]["contact_routes"]}


def test_a_ward_with_no_team_answers_team_null(api):
    body = api.get(f"/api/v1/wards/{NO_TEAM_WARD}").get_json()
    assert body["team"] is None and body["ward"]["name"] == "West End"


def test_every_answer_in_a_batch_carries_its_team(api):
    body = api.post("/api/v1/postcodes", json={"postcodes": [SAMPLE_POSTCODE, "W1D 3QU"]}).get_json()
    teams = [item["result"]["team"] for item in body["results"]]
    assert teams[0]["sample"] is True and teams[1] is None


def test_hostile_text_is_returned_as_the_data_it_is_with_no_unsafe_links(api):
    team = api.get(f"/api/v1/wards/{HOSTILE_WARD}").get_json()["team"]
    assert team["name"] == HOSTILE_TEAM and team["sample"] is False and team["verified_by_officer"] is True
    assert team["url"] is None
    hrefs = {r["label"]: r["href"] for r in team["contact_routes"]}
    assert hrefs["Web page"] is None and hrefs["Bad email"] is None
    assert hrefs["Email"] == "mailto:bromley.test@example.org" and hrefs["Phone"] == "tel:02079460999"


def test_the_openapi_document_describes_the_team_and_the_answers_keep_to_it(api):
    import jsonschema_rs  # installed with the test extras (schemathesis validates with it)

    document = api.get("/api/v1/openapi.json").get_json()
    team = document["components"]["schemas"]["Team"]
    assert {"officers", "meetings", "priorities", "front_counters", "contact_routes"} <= set(team["required"])
    validator = jsonschema_rs.Draft202012Validator({"components": document["components"], **team})
    for path in (f"/api/v1/wards/{SAMPLE_WARD}", f"/api/v1/wards/{HOSTILE_WARD}", f"/api/v1/wards/{NO_TEAM_WARD}"):
        validator.validate(api.get(path).get_json()["team"])
    validator.validate(api.get(f"/api/v1/postcodes/{CITY_POSTCODE}").get_json()["team"])


def police_uk_extras_store():
    """The team store with hostile police.uk extras written straight into the stored rows, as if a
    bad write or an old sync had let them through: the read side must re-check every link itself."""
    from sqlalchemy import update

    from finder.store import models as m
    from tests.store.teamdata import PWN

    store = team_store()
    links = [
        {"title": f"<script>{PWN}</script>Ward newsletter", "url": "https://example.org/news?a=1&b=<2>"},
        {"title": f'<img src=x onerror="{PWN}">Bad link', "url": f"javascript:{PWN}"},
    ]
    engagement = [
        {"title": "Met on X", "url": "https://x.example.com/metpoliceuk", "description": f"<b>{PWN}</b>"},
        {"title": "{{ 7*7 }} template", "url": "data:text/html,hi"},
    ]
    contacts = [
        {"kind": "email", "label": "Email", "value": "panel@example.org"},
        {"kind": "phone", "label": "Phone", "value": "020 7946 0123"},
        {"kind": "web", "label": f"<i>{PWN}</i>", "value": f"javascript:{PWN}"},
    ]
    with store.session() as session:
        team_id = session.execute(select_team_id(HOSTILE_WARD)).scalar_one()
        session.execute(update(m.Team).where(m.Team.id == team_id).values(links=json.dumps(links)))
        session.execute(
            update(m.Force).where(m.Force.id == "metropolitan").values(engagement_methods=json.dumps(engagement))
        )
        session.execute(
            update(m.Meeting).where(m.Meeting.team_id == team_id).values(contact_details=json.dumps(contacts))
        )
        session.execute(update(m.Team).where(m.Team.ward_code == SAMPLE_WARD).values(links='{"not": "a list"'))
    return store


def select_team_id(ward_code: str):
    from sqlalchemy import select

    from finder.store import models as m

    return select(m.Team.id).where(m.Team.ward_code == ward_code)


@pytest.fixture(scope="module")
def extras_api(geodata):
    app = create_app({"ENV_NAME": "testing"}, lookup=team_lookup(geodata, police_uk_extras_store()))
    return app.test_client()


def test_the_team_carries_its_police_uk_links_and_force_channels_linked_only_when_http(extras_api):
    team = extras_api.get(f"/api/v1/wards/{HOSTILE_WARD}").get_json()["team"]
    assert [(x["title"], x["url"]) for x in team["more_links"]] == [
        ("<script>window.__pwned=1</script>Ward newsletter", "https://example.org/news?a=1&b=<2>"),
        ('<img src=x onerror="window.__pwned=1">Bad link', None),
    ]
    assert team["force_engagement"] == [
        {"title": "Met on X", "url": "https://x.example.com/metpoliceuk", "description": "<b>window.__pwned=1</b>"},
        {"title": "{{ 7*7 }} template", "url": None, "description": None},
    ]


def test_each_meeting_carries_its_own_contact_details_with_safe_links(extras_api):
    (meeting,) = extras_api.get(f"/api/v1/wards/{HOSTILE_WARD}").get_json()["team"]["meetings"]
    routes = [(r["kind"], r["value"], r["href"]) for r in meeting["contact_routes"]]
    assert routes == [
        ("email", "panel@example.org", "mailto:panel@example.org"),
        ("phone", "020 7946 0123", "tel:02079460123"),
        ("web", "javascript:window.__pwned=1", None),
    ]


def test_stored_links_that_are_not_a_list_read_as_none(extras_api):
    team = extras_api.get(f"/api/v1/wards/{SAMPLE_WARD}").get_json()["team"]
    assert team["more_links"] == [] and team["force_engagement"][0]["title"] == "Met on X"


def test_the_new_team_fields_keep_to_the_openapi_document(extras_api):
    import jsonschema_rs

    document = extras_api.get("/api/v1/openapi.json").get_json()
    team = document["components"]["schemas"]["Team"]
    assert {"more_links", "force_engagement"} <= set(team["required"])
    validator = jsonschema_rs.Draft202012Validator({"components": document["components"], **team})
    for ward in (HOSTILE_WARD, SAMPLE_WARD):
        validator.validate(extras_api.get(f"/api/v1/wards/{ward}").get_json()["team"])


def test_a_lookup_reads_the_force_channels_in_the_same_queries_as_before(geodata):
    from sqlalchemy import event

    store = police_uk_extras_store()
    directory = team_lookup(geodata, store).teams
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        team = directory.team(HOSTILE_WARD)
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert team.force_engagement and team.more_links
    assert len(statements) == 5  # team (with its force's channels), routes, officers, meetings, priorities
