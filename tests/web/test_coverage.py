"""/coverage, /coverage.csv, /api/v1/coverage, the choropleth script and the staff to-do list, over a real store."""

from __future__ import annotations

import csv
import io
import re

import pytest

from finder.store.models import utcnow
from finder.teams.records import RouteData, TeamData, apply_team
from finder.web import services
from tests.store.teamdata import FORCE_NAMES, HOSTILE_STRINGS, HOSTILE_TEAM, HOSTILE_WARD, SAMPLE_WARD, team_store
from tests.support.staff import CAMDEN_WARD, WESTMINSTER, make_user, sign_in, staff_app

FORMULA_TEAM = '=HYPERLINK("https://evil.example","x")'
FORMULA_WARD = "E05013652"  # Belsize, Camden


@pytest.fixture()
def store():
    store = team_store()
    with store.session() as session:
        apply_team(
            session,
            TeamData("metropolitan", FORCE_NAMES["metropolitan"], FORMULA_TEAM, FORMULA_WARD,
                     routes=[RouteData("phone", "Phone", "020 7946 0123")]),
            source="officer",
            now=utcnow(),
        )  # fmt: skip
    return store


@pytest.fixture()
def app(store, geodata):
    return staff_app(store, geodata, REACH_COUNTING=True)


def test_the_coverage_page_lists_every_ward_worst_first_with_each_part_and_works_without_javascript(app):
    page = app.test_client().get("/coverage")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    rows = re.findall(r'<tr id="ward-(E05\d{6})">', html)
    assert len(rows) == len(set(rows)) == 704
    assert rows.index(SAMPLE_WARD) > rows.index("E05013808")  # St James's has a team; West End has none
    st_james = html[html.index(f'id="ward-{SAMPLE_WARD}"') :].split("</tr>")[0]
    assert "(sample data — fictional)" in st_james and "of 6" in st_james and "Yes" in st_james
    assert len(re.findall(r'<tr><th scope="row">', html)) == 33  # a roll-up row per borough
    assert "<script>" not in html and "<script " not in html.replace('<script src="', "")  # no inline script
    assert 'src="/coverage/map.js"' in html
    assert HOSTILE_TEAM not in html


def test_the_map_script_is_trusted_geometry_and_scores_only_and_is_cached(app):
    client = app.test_client()
    response = client.get("/coverage/map.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    script = response.get_data(as_text=True)
    assert "map_coverage" in script and script.count('"code": "E05') == 704
    assert "#4575b4" in script or "#91bfdb" in script  # some ward is well covered
    for text in (*HOSTILE_STRINGS, FORMULA_TEAM, "St James's", "sample"):
        assert text not in script, text  # nothing from the store, not even a sample team's name
    assert "public" in response.headers["Cache-Control"] and "max-age=300" in response.headers["Cache-Control"]
    again = client.get("/coverage/map.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_json_download_has_every_ward_its_parts_and_the_borough_rollups(app):
    body = app.test_client().get("/api/v1/coverage").get_json()
    assert body["maximum"] == 6 and [p["key"] for p in body["parts"]] == [
        "team",
        "phone",
        "email",
        "meeting",
        "priorities",
        "confirmed",
    ]
    assert len(body["wards"]) == 704 and len(body["boroughs"]) == 33
    scores = [w["score"] for w in body["wards"]]
    assert scores == sorted(scores)
    belsize = next(w for w in body["wards"] if w["code"] == FORMULA_WARD)
    assert belsize["parts"]["team"] and belsize["parts"]["phone"] and not belsize["parts"]["email"]
    assert "The team's email address" in belsize["missing"]
    assert belsize["lookups"]["total"] == "fewer than 10"


def test_the_csv_download_keeps_text_from_the_store_from_running_as_a_formula(app):
    response = app.test_client().get("/coverage.csv")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 704
    belsize = next(r for r in rows if r["ward_code"] == FORMULA_WARD)
    assert belsize["team_name"] == "'" + FORMULA_TEAM and belsize["phone"] == "yes" and belsize["email"] == "no"
    hostile = next(r for r in rows if r["ward_code"] == HOSTILE_WARD)
    assert hostile["team_name"] == HOSTILE_TEAM  # as text: a CSV is not HTML


def test_lookups_are_counted_per_surface_and_shown_next_to_the_score_from_ten_on(app):
    client = app.test_client()
    for _ in range(12):
        assert client.get("/search", query_string={"postcode": "SW1A 1AA"}).status_code == 200
    assert client.get("/api/v1/postcodes/SW1A1AA").status_code == 200
    assert client.get("/embed/search", query_string={"postcode": "SW1A 1AA"}).status_code == 200
    assert client.get("/search", query_string={"postcode": "SW1A"}).status_code == 200  # an outward code: no ward
    services(app).reach.flush()
    body = client.get("/api/v1/coverage").get_json()
    st_james = next(w for w in body["wards"] if w["code"] == SAMPLE_WARD)
    assert st_james["lookups"] == {"page": 12, "api": "fewer than 10", "embed": "fewer than 10", "total": 14}
    html = client.get("/coverage").get_data(as_text=True)
    row = html[html.index(f'id="ward-{SAMPLE_WARD}"') :].split("</tr>")[0]
    assert '<td class="num">14</td>' in row


def test_with_counting_off_no_lookup_is_counted(store, geodata):
    app = staff_app(store, geodata, REACH_COUNTING=False)
    client = app.test_client()
    client.get("/search", query_string={"postcode": "SW1A 1AA"})
    assert services(app).reach is None


def test_a_borough_admin_sees_their_own_wards_gaps_as_a_to_do_list_linking_to_the_edit_pages(app, store, geodata):
    admin = make_user(store, "admin@met.police.uk", "borough_admin", borough_code=WESTMINSTER)
    client = app.test_client()
    sign_in(client, admin)
    page = client.get("/admin/coverage")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    listed = re.findall(r'id="todo-(E05\d+)"', html)
    assert len(listed) >= 17 and all(geodata.wards.by_code[code].borough_code == WESTMINSTER for code in listed)
    assert 'href="/admin/wards/E05013808"' in html  # West End: no team, everything missing
    west_end = html[html.index('id="todo-E05013808"') :].split("</li>\n  </ul>")[0]
    assert "A named team" in west_end
    assert f"/admin/wards/{CAMDEN_WARD}" not in html and f"/admin/wards/{FORMULA_WARD}" not in html  # not theirs
    assert "Westminster" in html and "Camden" not in html


def test_a_ward_editor_sees_only_their_wards_and_a_stranger_is_sent_to_sign_in(app, store):
    editor = make_user(store, "ed@met.police.uk", "ward_editor", wards=["E05013808"])
    client = app.test_client()
    assert client.get("/admin/coverage").status_code == 302
    sign_in(client, editor)
    html = client.get("/admin/coverage").get_data(as_text=True)
    assert re.findall(r'id="todo-(E05\d+)"', html) == ["E05013808"]
