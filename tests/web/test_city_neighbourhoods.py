"""The City of London's wards: police.uk lists the City of London Police's six neighbourhood teams, which are not
wards, so a City ward's page, embed and API answer name them all (read from the raw March 2026 file) without
saying which covers the ward; without the file, everything is as before."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest

from finder import create_app
from finder.config import default_raw_data
from finder.lookup.service import Lookup, load_forces
from finder.store import Store
from finder.teams.directory import TeamDirectory

CITY_FILE = Path("policeuk-forces-2026-03") / "neighbourhoods_city-of-london_2026-03-09.json"  # as in data-raw
SIX = "Bank, Barbican, Fenchurch Street, Fleet, Liverpool Street and Monument"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    """A store made by `finder init-db` (the City's wards have no team in it, with or without the raw files)."""
    folder = tmp_path_factory.mktemp("city")
    url = f"sqlite:///{folder / 'finder.db'}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FINDER_RAW_DATA", str(folder / "no-raw-data"))
        result = create_app({"ENV_NAME": "testing", "DATABASE_URL": url}).test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    return Store(url)


def client(geodata, store: Store, raw_dir: Path):
    lookup = Lookup(geodata, load_forces(raw_dir=raw_dir), teams=TeamDirectory(store, geodata.wards))
    return create_app({"ENV_NAME": "testing"}, lookup=lookup).test_client()


def words(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def reach(html: str) -> str:
    return words(html[html.index('id="reach"') : html.index('id="force-routes"')])


@pytest.mark.parametrize("postcode, ward", [("EC2V 7HH", "Bassishaw"), ("EC4M 7RF", "Farringdon Within")])
def test_a_city_wards_page_names_the_six_neighbourhood_teams_with_source_and_date_and_claims_none_covers_it(
    geodata, store, postcode, ward
):
    html = client(geodata, store, default_raw_data()).get("/search", query_string={"postcode": postcode}).text
    text = reach(html)
    assert f"The City of London Police’s neighbourhood teams: {SIX} (as listed on police.uk in March 2026)." in text
    assert f"police.uk does not say which of these teams covers {ward}, so we do not guess." in text
    assert "We hold no direct contact details" not in text
    assert 'id="force-routes"' in html and 'class="route route-' in html  # the force's routes, as before


def test_the_city_embed_names_the_six_neighbourhood_teams(geodata, store):
    html = client(geodata, store, default_raw_data()).get("/embed/search", query_string={"postcode": "EC2V 7HH"}).text
    assert f"neighbourhood teams: {SIX} (as listed on police.uk in March 2026)." in words(html)


def test_the_api_answer_for_a_city_postcode_carries_the_six_names_with_source_and_date(geodata, store):
    body = client(geodata, store, default_raw_data()).get("/api/v1/postcodes/EC2V7HH").get_json()
    assert body["force_neighbourhoods"] == {
        "names": ["Bank", "Barbican", "Fenchurch Street", "Fleet", "Liverpool Street", "Monument"],
        "source": "https://data.police.uk/api/city-of-london/neighbourhoods",
        "as_of": "2026-03-09",
        "covers_ward": None,
    }
    assert body["contact_routes"] and body["force"]["id"] == "city-of-london"


def test_without_the_raw_file_a_city_ward_page_and_answer_are_as_before(geodata, store, tmp_path):
    resident = client(geodata, store, tmp_path / "no-raw-data")
    html = resident.get("/search", query_string={"postcode": "EC2V 7HH"}).text
    assert "We hold no direct contact details for the Bassishaw team." in reach(html)
    assert "data-force-neighbourhoods" not in html and "Barbican" not in html
    assert resident.get("/api/v1/postcodes/EC2V7HH").get_json()["force_neighbourhoods"] is None


def test_a_hostile_neighbourhood_name_in_the_source_is_shown_as_text(geodata, store, tmp_path):
    path = tmp_path / CITY_FILE
    path.parent.mkdir(parents=True)
    hostile = [{"id": "x", "name": "<script>alert(1)</script>"}, {"id": "y", "name": "Bank & <b>Co</b>"}]
    path.write_text(json.dumps(hostile), "utf-8")
    html = client(geodata, store, tmp_path).get("/search", query_string={"postcode": "EC2V 7HH"}).text
    assert "<script>alert(1)</script>" not in html and "<b>Co</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; and Bank &amp; &lt;b&gt;Co&lt;/b&gt;" in html


def test_a_met_wards_api_answer_has_no_force_neighbourhoods(geodata, store):
    body = client(geodata, store, default_raw_data()).get("/api/v1/postcodes/SW1A1AA").get_json()
    assert body["force_neighbourhoods"] is None


def team_block(html: str) -> str:
    return html[html.index('aria-labelledby="team-title"') : html.index("</section>", html.index('id="team-title"'))]


@pytest.mark.parametrize("path", ["/search?postcode=EC2V+7HH", "/wards/E05009288"])
def test_a_city_wards_team_block_gives_the_six_neighbourhood_teams_as_the_answer_not_no_team(geodata, store, path):
    html = client(geodata, store, default_raw_data()).get(path).text
    block = team_block(html)
    text = words(block)
    assert "The City of London Police’s neighbourhood teams" in text
    assert re.findall(r"<li>([^<]+)</li>", block) == [
        "Bank",
        "Barbican",
        "Fenchurch Street",
        "Fleet",
        "Liverpool Street",
        "Monument",
    ]
    assert "As listed on police.uk in March 2026" in text and "so we do not guess" in text
    assert 'href="#force-routes"' in block and 'id="force-routes"' in html  # the force's routes, on the page
    assert "data-team-missing" not in block and "We have not loaded details" not in text
    assert "data-no-team-report" not in html and "no published team" not in html


def test_the_city_poster_names_the_six_neighbourhood_teams_instead_of_no_team(geodata, store):
    html = client(geodata, store, default_raw_data()).get("/wards/E05009288/poster").text
    assert f"The City of London Police’s neighbourhood teams: {SIX} (as listed on police.uk in March 2026)." in words(
        html
    )
    assert "data-team-missing" not in html


def test_without_the_raw_file_a_city_wards_team_block_still_offers_the_no_team_report(geodata, store, tmp_path):
    html = client(geodata, store, tmp_path / "no-raw-data").get("/search?postcode=EC2V+7HH").text
    assert "data-team-missing" in team_block(html) and "data-no-team-report" in html


def test_a_hostile_neighbourhood_name_is_text_in_the_team_block_and_on_the_poster(geodata, store, tmp_path):
    path = tmp_path / CITY_FILE
    path.parent.mkdir(parents=True)
    hostile = [{"id": "x", "name": "<script>alert(1)</script>"}, {"id": "y", "name": 'Bank" onmouseover="x'}]
    path.write_text(json.dumps(hostile), "utf-8")
    resident = client(geodata, store, tmp_path)
    block = team_block(resident.get("/search", query_string={"postcode": "EC2V 7HH"}).text)
    assert "<li>&lt;script&gt;alert(1)&lt;/script&gt;</li>" in block and "<script>" not in block
    assert "<li>Bank&#34; onmouseover=&#34;x</li>" in block
    poster = resident.get("/wards/E05009288/poster").text
    assert "<script>alert(1)" not in poster and "&lt;script&gt;alert(1)&lt;/script&gt;" in poster
