"""Text from the store is data on every surface, never template or script source (issue 7, item 1).

Every text field of every store table holds template syntax, script breakers, quotes and
backslashes. Every surface that shows a ward (pages, the embed, the API, the map script, vCard
and iCalendar) must answer 200 and show each value literally: `{{ 7*7 }}` stays `{{ 7*7 }}`,
never 49; `{{ config }}` never shows the app's settings; a lone `{%` breaks nothing. Runs on
SQLite and on PostgreSQL, since what comes back from each store is what the surfaces receive.
"""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest

from finder import create_app
from finder.lookup.service import Lookup, load_forces
from finder.store import Store
from finder.store.models import utcnow
from finder.teams.directory import TeamDirectory, london_now
from finder.teams.records import MeetingData, OfficerData, PlaceData, PriorityData, RouteData, TeamData, apply_team
from tests.store.backends import migrated_store, store  # noqa: F401  (fixtures)

WARD, POSTCODE = "E05013991", "BR1 1AA"  # Bromley Town
PAYLOAD = "X{{ 7*7 }}Y{% raw %}{{ config }}${alert(1)}</script>\"quoted\" 'single' back\\slash"
SHORT = "{{7*7}}{%</script>"  # for columns of 20 characters (collar numbers)
TINY = "{{7*7}}{%"  # for columns of 10 characters (postcodes)
EVALUATED = ("X49Y", "<Config", "SECRET_KEY")  # what a template engine would have made of the payload


def hostile(field: str) -> str:
    """The payload, tagged with the field it sits in so each can be found on its own."""
    return f"[{field}] {PAYLOAD}"


def every_field_hostile() -> TeamData:
    """One team with the payload in every text column of every table the surfaces read."""
    start = london_now().replace(hour=18, minute=0, second=0, microsecond=0) + timedelta(days=3)
    return TeamData(
        force_id="metropolitan",
        force_name=hostile("force.name"),
        name=hostile("team.name"),
        ward_code=WARD,
        policeuk_id=WARD,
        description=hostile("team.description"),
        url_force=hostile("team.url_force"),
        routes=[
            RouteData("email", hostile("route.label"), hostile("route.value"), hostile("route.hours")),
            RouteData("phone", "Phone", "020 7946 0999"),  # a real route too, so the vCard has a TEL
        ],
        officers=[
            OfficerData(
                hostile("officer.name"),
                hostile("officer.rank"),
                "police_constable",
                SHORT,
                hostile("officer.bio"),
                routes=[RouteData("web", hostile("officer_route.label"), hostile("officer_route.value"))],
            )
        ],
        meetings=[
            MeetingData(
                hostile("meeting.title"),
                "ward_panel",
                start,
                start + timedelta(hours=1),
                hostile("meeting.place"),
                hostile("meeting.description"),
            )
        ],
        priorities=[PriorityData(hostile("priority.issue"), hostile("priority.action"))],
        places=[
            PlaceData(
                hostile("place.name"),
                "front_counter",
                hostile("place.address"),
                TINY,
                51.4020,
                0.0160,
                hostile("place.opening_hours"),
                hostile("place.description"),
            )
        ],
    )


@pytest.fixture()
def hostile_client(store: Store, geodata):  # noqa: F811  (the store fixture, on each backend)
    with store.session() as session:
        apply_team(session, every_field_hostile(), source="officer", now=utcnow())
    app = create_app(
        {"ENV_NAME": "testing"}, lookup=Lookup(geodata, load_forces(), teams=TeamDirectory(store, geodata.wards))
    )
    return app.test_client()


def get_ok(client, path: str, **kwargs) -> str:
    """The body of a GET that must succeed, with nothing a template engine would have produced."""
    response = client.get(path, **kwargs)
    body = response.get_data(as_text=True)
    assert response.status_code == 200, (path, response.status_code, body[:500])
    for mark in EVALUATED:
        assert mark not in body, (path, mark)
    return body


def html_text(body: str) -> str:
    """What a person reads: tags dropped, entities decoded (attribute values kept, they are text too)."""
    attributes = " ".join(html.unescape(v) for v in re.findall(r"=\"([^\"]*)\"|='([^']*)'", body) for v in v if v)
    return html.unescape(re.sub(r"<[^>]+>", " ", body)) + " " + attributes


PAGE_FIELDS = (
    "team.name",
    "route.label",
    "route.value",
    "route.hours",
    "officer.name",
    "officer.rank",
    "officer.bio",
    "officer_route.label",
    "officer_route.value",
    "meeting.title",
    "meeting.place",
    "meeting.description",
    "priority.issue",
    "priority.action",
    "place.name",
    "place.address",
    "place.opening_hours",
)


EMBED_FIELDS = ("team.name", "route.label", "route.value", "route.hours")  # the embed shows how to reach the team


@pytest.mark.parametrize(
    "path, fields",
    [
        (f"/wards/{WARD}", PAGE_FIELDS),
        (f"/search?postcode={POSTCODE}", PAGE_FIELDS),
        (f"/embed/wards/{WARD}", EMBED_FIELDS),
        (f"/embed/search?postcode={POSTCODE}", EMBED_FIELDS),
    ],
)
def test_pages_and_the_embed_show_every_field_literally_as_text(hostile_client, path, fields):
    body = get_ok(hostile_client, path)
    text = html_text(body)
    for name in fields:
        assert hostile(name) in text, name
    assert (SHORT in text) == (fields is PAGE_FIELDS)  # the collar number: the full page lists officers
    # Markup in the values is escaped where it lands: no stray tag, and no script but our own files.
    assert '</script>"quoted' not in body
    assert all(re.fullmatch(r'<script src="[^"]+"( defer)?>', tag) for tag in re.findall(r"<script\b[^>]*>", body))


def test_the_map_data_reaches_the_page_as_json_in_an_attribute_with_every_place_field_intact(hostile_client):
    body = get_ok(hostile_client, f"/search?postcode={POSTCODE}")
    attribute = re.search(r"data-map='([^']*)'", body).group(1)
    assert "<" not in attribute and "'" not in attribute  # tojson escapes both, so the attribute cannot end early
    data = json.loads(html.unescape(attribute))
    (place,) = data["places"]
    assert place["name"] == hostile("place.name")
    assert hostile("place.address") + ", " + TINY in place["lines"]
    assert hostile("place.opening_hours") in place["lines"]
    assert data["point"] and data["pointLabel"] == "Your postcode"


def test_the_map_script_is_built_from_ward_geometry_alone_and_holds_nothing_from_the_store(hostile_client, geodata):
    neighbour = geodata.wards.neighbours(WARD)[0].code
    for code in (WARD, neighbour):
        script = get_ok(hostile_client, f"/maps/{code}.js")
        assert "[place." not in script and "[team." not in script and "7*7" not in script
        assert "var map_finder = L.map(" in script


@pytest.mark.parametrize("path", [f"/api/v1/wards/{WARD}", f"/api/v1/postcodes/{POSTCODE}"])
def test_the_api_returns_every_field_exactly_as_stored(hostile_client, path):
    team = json.loads(get_ok(hostile_client, path))["team"]
    assert team["name"] == hostile("team.name") and team["description"] == hostile("team.description")
    assert team["url"] is None  # not an http(s) address, so never offered as a link
    route = team["contact_routes"][0]
    assert (route["label"], route["value"], route["hours"], route["href"]) == (
        hostile("route.label"),
        hostile("route.value"),
        hostile("route.hours"),
        None,
    )
    (officer,) = team["officers"]
    assert (officer["name"], officer["rank"], officer["bio"], officer["collar_number"]) == (
        hostile("officer.name"),
        hostile("officer.rank"),
        hostile("officer.bio"),
        SHORT,
    )
    (meeting,) = team["meetings"]
    assert (meeting["title"], meeting["place"], meeting["description"]) == (
        hostile("meeting.title"),
        hostile("meeting.place"),
        hostile("meeting.description"),
    )
    (priority,) = team["priorities"]
    assert (priority["issue"], priority["action"]) == (hostile("priority.issue"), hostile("priority.action"))
    (place,) = team["front_counters"]
    assert (place["name"], place["address"], place["postcode"], place["description"]) == (
        hostile("place.name"),
        hostile("place.address"),
        TINY,
        hostile("place.description"),
    )


def unfold(text: str) -> str:
    """vCard and iCalendar lines unfolded and their text escapes decoded, as a reader would."""
    text = text.replace("\r\n ", "").replace("\r\n\t", "")
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def test_the_vcard_and_the_calendars_carry_every_field_they_show_as_text(hostile_client):
    card = unfold(get_ok(hostile_client, f"/wards/{WARD}/team.vcf"))
    for name in ("team.name", "officer.name"):
        assert hostile(name) in card, name
    feed = get_ok(hostile_client, f"/wards/{WARD}/calendar.ics")
    meeting_id = json.loads(get_ok(hostile_client, f"/api/v1/wards/{WARD}"))["team"]["meetings"][0]["id"]
    single = get_ok(hostile_client, f"/wards/{WARD}/meetings/{meeting_id}.ics")
    for ics in (unfold(feed), unfold(single)):
        for name in ("meeting.title", "meeting.place", "meeting.description"):
            assert hostile(name) in ics, name
        assert ics.count("BEGIN:VEVENT") == 1


@pytest.mark.parametrize(
    "path", [f"/api/v1/wards/{WARD}", f"/api/v1/postcodes/{POSTCODE}", "/api/v1/postcodes/<script>", "/api/v1/nowhere"]
)
def test_api_json_holding_markup_is_never_read_as_html_so_orjson_need_not_escape_it(hostile_client, path):
    """SECURITY.md: orjson leaves `<` as it is; these headers are why that cannot matter."""
    response = hostile_client.get(path)
    assert response.mimetype == "application/json"
    assert response.headers.getlist("X-Content-Type-Options") == ["nosniff"]
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    if response.status_code == 200:
        assert "<" in response.get_data(as_text=True)  # the hostile text, as stored: the case this guards
