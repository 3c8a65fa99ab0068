"""The team on the resident's pages: who, how to reach them, meetings, priorities, front counters; and honesty."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from finder import create_app
from finder.config import ROOT
from finder.lookup.service import Lookup, load_forces
from finder.store import Store
from finder.teams.directory import TeamDirectory
from tests.store.teamdata import (
    CITY_POSTCODE,
    HOSTILE_PLACE,
    HOSTILE_STRINGS,
    HOSTILE_WARD,
    NO_TEAM_WARD,
    PWN,
    SAMPLE_POSTCODE,
    SAMPLE_WARD,
    team_lookup,
    team_store,
)


@pytest.fixture(scope="module")
def teams_lookup(geodata) -> Lookup:
    return team_lookup(geodata, team_store())


@pytest.fixture()
def team_client(teams_lookup):
    app = create_app({"ENV_NAME": "testing"}, lookup=teams_lookup)
    return app.test_client()


def team_section(html: str) -> str:
    """From "How to reach your team" (first after the heading) to the end of the team's own section."""
    start = html.index('<section class="reach"')
    last = html.find('<section class="team', start)
    return html[start : html.index("</section>", last if last > 0 else start)]


def test_a_postcode_with_a_team_shows_the_officers_by_role_with_names_and_ranks(team_client):
    html = team_client.get("/search", query_string={"postcode": SAMPLE_POSTCODE}).get_data(as_text=True)
    team = team_section(html)
    headings = re.findall(r'<h4 class="team-h4">([^<]+)</h4>', team)
    assert headings == ["Sergeant", "Police constables", "PCSO", "Special constable"]
    assert '<span class="officer-name">Amara Quill</span>, <span class="officer-rank">Sergeant</span>' in team
    assert '<span class="officer-name">Dean Oakhollow</span>, <span class="officer-rank">PCSO</span>' in team
    assert "(collar number 1234AB)" in team
    assert "<summary>About Amara Quill</summary>" in team


def test_the_teams_email_and_phone_are_mailto_and_tel_links_and_its_social_accounts_are_listed(team_client):
    team = team_section(team_client.get(f"/wards/{SAMPLE_WARD}").get_data(as_text=True))
    assert '<a class="route-value" href="mailto:stjames.sample@example.org">stjames.sample@example.org</a>' in team
    assert '<a class="route-value" href="tel:02079460123">020 7946 0123</a>' in team
    assert '<a class="route-value" href="tel:07700900123">07700 900123</a>' in team
    assert "Read Monday to Friday, 9am to 5pm" in team
    assert 'href="https://x.example.com/StJamesSampleSNT" rel="noopener">X (Twitter)' in team
    assert 'href="https://facebook.example.com/StJamesSampleSNT"' in team


def test_sample_data_is_labelled_as_fictional_on_the_page_and_on_every_item(team_client):
    team = team_section(team_client.get(f"/wards/{SAMPLE_WARD}").get_data(as_text=True))
    assert '<div class="notice notice-sample" role="note" data-sample><strong>Sample data — fictional.</strong>' in team
    items = team.count('<li class="team-route') + team.count('<li class="officer"') + team.count("data-meeting>")
    assert team.count('<span class="confirmed">Sample data — fictional</span>') >= items
    assert "(a vCard file, marked as sample data)" in team


def test_the_next_meetings_have_times_places_an_ics_download_and_the_ward_has_a_calendar_feed(team_client):
    team = team_section(team_client.get(f"/wards/{SAMPLE_WARD}").get_data(as_text=True))
    titles = re.findall(r'<span class="meeting-title">([^<]+)</span>', team)
    assert titles == ["Street contact session (sample)", "St James&#39;s ward panel (sample)", "Cycle marking (sample)"]
    assert re.search(r'<time datetime="[\d-]+T11:00:00">\w+ \d+ \w+ \d{4}, 11am to midday</time>', team)
    assert re.search(r'<time datetime="[\d-]+T18:30:00">\w+ \d+ \w+ \d{4}, 6:30pm to 8pm</time>', team)
    assert "Sample Community Hall, 1 Example Street, London" in team
    assert len(re.findall(rf'href="/wards/{SAMPLE_WARD}/meetings/\d+\.ics" download data-ics', team)) == 3
    assert f'href="/wards/{SAMPLE_WARD}/calendar.ics" data-calendar-feed' in team


def test_current_priorities_show_the_issue_what_was_done_and_when(team_client):
    team = team_section(team_client.get(f"/wards/{SAMPLE_WARD}").get_data(as_text=True))
    assert "Phone snatches by people on bikes around the sample square." in team
    assert "<strong>What has been done:</strong> Plain-clothes patrols" in team
    assert re.search(r'<span class="meta">Set on \d+ \w+ \d{4}</span>', team)


def test_the_nearest_front_counters_show_distance_from_the_postcode_and_opening_hours(team_client):
    team = team_section(team_client.get("/search", query_string={"postcode": SAMPLE_POSTCODE}).get_data(as_text=True))
    names = re.findall(r'<span class="place-name">([^<]+)</span>', team)
    assert names[0] == "Sample Police Station front counter (fictional)"
    assert '<span class="meta">440 m from your postcode</span>' in team
    assert "Opening hours: Monday to Friday 8am to 8pm; Saturday 9am to 5pm (sample hours)" in team
    ward_page = team_section(team_client.get(f"/wards/{SAMPLE_WARD}").get_data(as_text=True))
    assert "from the centre of St James&#39;s" in ward_page


def test_the_force_wide_routes_and_their_guidance_follow_the_teams_own_routes_before_the_officers(team_client):
    html = team_client.get(f"/wards/{SAMPLE_WARD}").get_data(as_text=True)
    routes = html[html.index('<div class="contact-routes"') :]
    for href in ('href="tel:999"', 'href="tel:101"', 'href="tel:18000"', 'href="tel:0800555111"'):
        assert href in routes
    assert "A crime is happening now" in routes
    assert html.index("data-team-routes") < html.index('<div class="contact-routes"') < html.index("data-officer")


def test_a_city_of_london_postcode_shows_its_city_police_team(team_client):
    html = team_client.get("/search", query_string={"postcode": CITY_POSTCODE}).get_data(as_text=True)
    team = team_section(html)
    assert "Bassishaw sample cluster team" in team and "Colm Brightwater" in team
    assert '<li class="team-route team-route-textphone">' in team
    assert "Contact City of London Police" in html


def test_a_ward_with_no_team_says_so_shows_no_invented_details_and_links_to_the_force(team_client):
    html = team_client.get(f"/wards/{NO_TEAM_WARD}").get_data(as_text=True)
    team = team_section(html)
    assert 'data-team-status="none"' in team
    assert "We have not loaded details of the Met neighbourhood team for West End" in team
    assert "rather than guess" in team
    assert 'href="https://www.met.police.uk/a/your-area/" data-force-area' in team
    own, counters = team.split("Nearest police front counters")
    assert "mailto:" not in html and "Sample data" not in own and "data-officer" not in own
    # The stations nearby are listed (with their own labels): a station serves any ward.
    assert counters.count("data-place>") == counters.count(">Sample data — fictional</strong>") > 0
    assert 'href="tel:101"' in html


def test_a_team_with_no_meetings_planned_says_so(team_client):
    team = team_section(team_client.get("/wards/E05009372").get_data(as_text=True))
    assert "No upcoming meetings or contact sessions are listed for this team." in team
    assert "No current priorities are listed for this team." in team


def test_when_the_store_cannot_be_read_the_page_still_answers_with_the_force_routes(geodata, tmp_path):
    broken = Store(f"sqlite:///{tmp_path / 'never-migrated.db'}")  # no tables: every query fails
    app = create_app(
        {"ENV_NAME": "testing"}, lookup=Lookup(geodata, load_forces(), teams=TeamDirectory(broken, geodata.wards))
    )
    client = app.test_client()
    response = client.get(f"/wards/{SAMPLE_WARD}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "We could not load the details of the Met neighbourhood team for St James&#39;s just now" in html
    assert 'href="tel:101"' in html
    assert client.get(f"/api/v1/wards/{SAMPLE_WARD}").get_json()["team"] is None


def test_the_embedded_widget_shows_the_team_and_its_sample_label(team_client):
    html = team_client.get("/embed/search", query_string={"postcode": SAMPLE_POSTCODE}).get_data(as_text=True)
    team = team_section(html)
    assert "Sample data — fictional:" in team and "mailto:stjames.sample@example.org" in team
    assert "Amara Quill" not in html and f'href="/wards/{SAMPLE_WARD}" data-full-details' in html  # the rest: full page


def map_data(html: str) -> dict:
    """The JSON the page hands static/map.js in the map's data-map attribute."""
    return json.loads(unescape(re.search(r"data-map='([^']*)'", html).group(1)))


def test_the_ward_map_marks_the_front_counters_nearest_the_postcode(team_client):
    data = map_data(team_client.get("/search", query_string={"postcode": SAMPLE_POSTCODE}).get_data(as_text=True))
    place = data["places"][0]
    assert place["name"] == "Sample Police Station front counter (fictional)"
    assert "440 m from your postcode" in place["lines"] and "Sample data — fictional" in place["lines"]
    assert data["point"] == [51.501009, -0.141588]


def test_the_map_script_puts_station_text_in_with_text_content_only():
    script = (ROOT / "static" / "map.js").read_text("utf-8")
    assert "textContent" in script and "innerHTML" not in script


def test_hostile_text_in_a_team_is_shown_as_text_on_the_page(team_client):
    html = team_client.get(f"/wards/{HOSTILE_WARD}").get_data(as_text=True)
    for raw in HOSTILE_STRINGS:
        assert raw not in html
    assert "<script>" + PWN not in html and "<img src=x" not in html and "<b onmouseover" not in html
    assert "&lt;img src=x onerror=&#34;window.__pwned=1&#34;&gt;Eve &lt;b&gt;Evans&lt;/b&gt;" in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;Bromley &lt;i&gt;Town&lt;/i&gt; team" in html
    assert 'href="javascript:' not in html.lower()
    assert ">javascript:window.__pwned=1</span>" in html  # shown as text, not made a link
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert all(re.fullmatch(r'<script src="[^"]+"( defer)?>', tag) for tag in scripts), scripts


def test_hostile_text_reaches_the_map_only_as_json_in_an_attribute(team_client):
    html = team_client.get(f"/wards/{HOSTILE_WARD}").get_data(as_text=True)
    attribute = re.search(r"data-map='([^']*)'", html).group(1)
    assert "<" not in attribute and "'" not in attribute  # tojson escapes them: the attribute cannot end early
    assert "\\u003cimg src=x onerror=" in attribute and "\\u003c/script\\u003e" in attribute
    assert map_data(html)["places"][0]["name"] == HOSTILE_PLACE
    script = team_client.get(f"/maps/{HOSTILE_WARD}.js").get_data(as_text=True)
    assert PWN not in script  # the map script holds ward geometry only


@pytest.fixture(scope="module")
def extras_client(geodata):
    from tests.web.test_team_api import police_uk_extras_store

    app = create_app({"ENV_NAME": "testing"}, lookup=team_lookup(geodata, police_uk_extras_store()))
    return app.test_client()


def test_the_team_shows_more_from_the_team_with_links_only_where_they_are_http(extras_client):
    html = extras_client.get(f"/wards/{HOSTILE_WARD}").get_data(as_text=True)
    (section,) = re.findall(r"<ul class=\"team-links\" data-team-links>(.*?)</ul>", html, re.S)
    assert "More from the team</h3>" in html
    assert '<a href="https://example.org/news?a=1&amp;b=&lt;2&gt;" rel="noopener">' in section
    assert '<a href="https://x.example.com/metpoliceuk" rel="noopener">Met on X</a>' in section
    assert "&lt;img src=x onerror=&#34;window.__pwned=1&#34;&gt;Bad link" in section  # text, no link
    assert "{{ 7*7 }} template" in section and "49 template" not in section  # never rendered as a template
    assert section.count("<a ") == 2 and "javascript:" not in section and "data:text" not in section


def test_each_meeting_shows_its_own_contact_details(extras_client):
    html = extras_client.get(f"/wards/{HOSTILE_WARD}").get_data(as_text=True)
    contacts = re.findall(r"<span class=\"meeting-contact\" data-meeting-contact>(.*?)</span>", html, re.S)
    assert contacts[:2] == [
        'Email: <a href="mailto:panel@example.org">panel@example.org</a>',
        'Phone: <a href="tel:02079460123">020 7946 0123</a>',
    ]
    assert contacts[2] == "&lt;i&gt;window.__pwned=1&lt;/i&gt;: javascript:window.__pwned=1"


def test_hostile_police_uk_extras_never_reach_the_page_as_markup(extras_client):
    html = extras_client.get(f"/wards/{HOSTILE_WARD}").get_data(as_text=True)
    assert f"<script>{PWN}" not in html and "<b>window" not in html and f'onerror="{PWN}"' not in html
    assert 'href="javascript:' not in html and 'href="data:' not in html


def test_a_team_without_police_uk_links_shows_no_more_from_the_team(team_client):
    html = team_client.get(f"/wards/{SAMPLE_WARD}").get_data(as_text=True)
    assert "data-team-links" not in html
