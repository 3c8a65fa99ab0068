"""Issue 26 on the resident pages, the embed and the API: codes that are no place, withdrawn PO boxes, old
London districts in full postcodes, and whole addresses pasted into the search box."""

from urllib.parse import quote

import pytest


@pytest.mark.parametrize("code", ["BX1 1LT", "XM4 5HQ", "ZZ99 3VZ", "ZZ1 1ZZ"])
def test_a_code_that_is_no_place_is_answered_with_the_routes_that_reach_the_police_anyway(client, code):
    response = client.get(f"/search?postcode={quote(code)}")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "outside London" not in html and "Metropolitan Police" not in html
    assert "data-not-a-place" in html and 'href="tel:999"' in html and 'href="tel:0800555111"' in html
    assert 'href="https://www.police.uk/"' in html


def test_the_embed_answers_a_code_that_is_no_place_with_the_routes(client):
    response = client.get("/embed/search?postcode=XM4+5HQ")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "Father Christmas" in html and 'href="tel:999"' in html


def test_the_api_says_a_code_is_no_place_and_gives_the_routes_and_no_force(client):
    response = client.get("/api/v1/postcodes/BX1%201LT")
    error = response.get_json()["error"]
    assert response.status_code == 404
    assert (error["code"], error["kind"]) == ("not_a_place", "non_geographic")
    assert "force" not in error and error["contact_routes"][0]["value"] == "999"


def test_a_withdrawn_po_box_page_says_first_it_is_no_longer_in_use(client):
    response = client.get("/search?postcode=N1P+1AA")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    lead = "N1P 1AA is no longer in use: Code-Point Open, the postcode list we use, has not listed it since its "
    assert lead + "2018.3.0 release. It was a postcode for PO boxes" in html


def test_a_withdrawn_postcodes_page_names_the_last_release_that_listed_it(client):
    html = client.get("/search?postcode=BR1+1HF").get_data(as_text=True)
    assert "BR1 1HF is no longer in use." in html
    assert "has not listed it since its 2014.3.0 release" in html


def test_a_full_postcode_with_an_old_district_links_the_real_postcode_and_the_districts_parts(client):
    response = client.get("/search?postcode=W1+0AX")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "outside London" not in html
    assert "Is it W1J 0AX?" in html
    assert 'href="/search?postcode=W1J+0AX"' in html and 'href="/search?postcode=W1A"' in html


def test_the_api_lists_the_real_postcodes_for_an_old_district(client):
    error = client.get("/api/v1/postcodes/SW1%201AA").get_json()["error"]
    assert error["code"] == "postal_district"
    assert error["postcodes"] == ["SW1A 1AA", "SW1P 1AA", "SW1V 1AA"] and error["outcodes"][0] == "SW1A"


# Item 7: an address pasted whole. The postcode in it is used and said; the line itself stays out of every
# address the resident is left on, and out of the page.
ADDRESS = "Flat 3, 12 Example Road, London SE1 7PB"


def test_the_search_box_takes_a_whole_address_line(client):
    html = client.get("/").get_data(as_text=True)
    assert 'maxlength="200"' in html and 'maxlength="32"' not in html


@pytest.mark.parametrize("prefix", ["", "/embed"])
def test_a_pasted_address_redirects_at_once_to_the_postcode_found_in_it_and_says_so(client, prefix):
    response = client.get(f"{prefix}/search", query_string={"postcode": ADDRESS})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location == f"{prefix}/search?postcode=SE1+7PB&pasted=1"
    page = client.get(location)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Waterloo &amp; South Bank" in html
    assert "We found the postcode SE1 7PB in what you entered and used it." in html
    assert "Example Road" not in html and "Flat 3" not in html
    typed = client.get(f"{prefix}/search?postcode=se17pb")  # a postcode alone is answered where it was asked
    assert typed.status_code == 200 and "data-pasted" not in typed.get_data(as_text=True)


@pytest.mark.parametrize(
    ("line", "kept", "says"),
    [
        ("1 Piccadilly, Manchester M1 1AE", "M1+1AE", "M1 1AE is in Manchester"),
        ("12 Example Road, London", "", "We could not find a postcode in what you entered"),
        ("To SE1 7PB or SW1A 2AA", "SE1+7PB,+SW1A+2AA", "more than one postcode in it (SE1 7PB, SW1A 2AA)"),
        ("c/o Lloyds, BX1 1LT", "BX1+1LT", "non-geographic postcode"),
        ("Old office, SW1 1AA", "SW1+1AA", "Is it one of SW1A 1AA, SW1P 1AA, SW1V 1AA?"),
        ("x" * 300 + " SE1 7PB", "", "We could not find a postcode in what you entered"),
    ],
)
def test_a_pasted_line_that_gives_no_single_answer_keeps_only_its_postcodes(client, line, kept, says):
    response = client.get("/search", query_string={"postcode": line})
    assert response.status_code == 303 and response.headers["Location"] == f"/search?postcode={kept}&pasted=1"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert says in html
    assert line not in html and "Example Road" not in html and "Lloyds" not in html


@pytest.mark.parametrize("prefix", ["", "/embed"])
@pytest.mark.parametrize(
    "line",
    [
        "<script>alert(1)</script>{{ 7*7 }}{% raw %} SE1 7PB",
        "\"'><img src=x onerror=alert(1)>{{ config }} BX1 1LT",
        "{{ config }}<script>alert(1)</script> SW1 1AA",
        "<script>alert(1)</script>{{ 7*7 }} no postcode here",
    ],
)
def test_hostile_text_around_a_pasted_postcode_is_never_echoed_or_evaluated(client, prefix, line):
    response = client.get(f"{prefix}/search", query_string={"postcode": line}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code in (200, 400, 404)
    assert "alert(1)" not in html and "<img" not in html and "onerror" not in html
    assert "{{" not in html and "{%" not in html and "SECRET_KEY" not in html and "&lt;Config" not in html
    assert "7*7" not in html and "no postcode here" not in html


def test_a_pasted_address_is_never_logged(app, client, caplog):
    with caplog.at_level("DEBUG"):
        client.get("/search", query_string={"postcode": ADDRESS}, follow_redirects=True)
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "GET /search 303" in logged
    assert "Example" not in logged and "SE1" not in logged and "7PB" not in logged


# Item 1: points just outside London, and points on the line.
def test_use_my_location_just_outside_london_says_outside_and_names_the_force_there(client):
    response = client.get("/locate?lat=51.398824&lon=-0.336986")  # 39 m outside, once Hampton ward
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "outside London" in html
    assert "Surrey Police" in html and "Metropolitan" not in html and "Hampton" not in html


def test_use_my_location_on_the_boundary_shows_the_london_ward_and_the_force_beyond(client):
    response = client.get("/locate?lat=51.441784&lon=-0.455672")  # 12 m outside, by Bedfont
    assert response.status_code == 303
    assert response.headers["Location"] == "/wards/E05013606?from=location&beyond=surrey"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "data-london-edge" in html and "within 20 m" in html
    assert 'policed by <a href="https://www.surrey.police.uk/">Surrey Police</a>' in html
    assert "Bedfont" in html
    plain = client.get("/wards/E05013606?from=location").get_data(as_text=True)  # the kept page is not shared
    assert "data-london-edge" not in plain
    for beyond in ("metropolitan", "city-of-london", "<script>alert(1)</script>", "nowhere"):  # only a force beyond
        page = client.get("/wards/E05013606", query_string={"from": "location", "beyond": beyond})
        assert "data-london-edge" not in page.get_data(as_text=True) and "alert(1)" not in page.get_data(as_text=True)


def test_the_api_gives_both_answers_on_the_boundary_and_no_met_outside(client):
    body = client.get("/api/v1/locate?lat=51.5821&lon=-0.490014").get_json()  # 1.3 m outside
    assert body["ward"]["name"] == "Ickenham & South Harefield"
    assert body["london_edge"]["side"] == "outside" and body["london_edge"]["distance_m"] <= 20
    assert body["london_edge"]["outside"]["force"]["id"] == "thames-valley"
    outside = client.get("/api/v1/locate?lat=51.471721&lon=0.215244")  # 294 m outside; nearest postcode is Bexley's
    assert outside.status_code == 404 and outside.get_json()["error"]["force"]["id"] == "kent"


# Item 4: an outward code outside London that more than one force polices.
def test_an_outward_code_spanning_forces_lists_them_largest_first_and_asks_for_the_full_postcode(client):
    response = client.get("/search?postcode=PE6")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "data-outcode-forces" in html
    assert '<a href="https://www.lincs.police.uk/">Lincolnshire Police</a>: 56%' in html
    assert html.index("Lincolnshire Police") < html.index("Cambridgeshire Constabulary")
    assert "Enter your full postcode to find which force polices yours." in html
    error = client.get("/api/v1/outcodes/SN6").get_json()["error"]
    assert error["code"] == "outcode_spans_forces" and error["force"] is None
    assert [f["force"]["id"] for f in error["forces"]] == ["wiltshire", "thames-valley", "gloucestershire"]


@pytest.mark.parametrize("postcode", ["EC4Y 9DH", "EC4Y 9BW", "EC4Y 9BS"])
@pytest.mark.parametrize("path", ["/search", "/embed/search"])
def test_a_page_by_the_temples_shows_the_recorded_ward_and_the_city_of_london_polices_routes(client, path, postcode):
    response = client.get(f"{path}?postcode={quote(postcode)}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "St James" in html and "data-near-temples" in html
    assert f"{postcode} is recorded in St James" in html
    assert "The Inner and Middle Temple are policed by the City of London Police" in html
    assert f"we cannot tell whether {postcode} is inside one" in html
    assert 'href="https://www.cityoflondon.police.uk/"' in html and "City of London Police — Report online" in html


def test_a_page_well_away_from_the_temples_has_no_temples_note(client):
    for postcode in ("SW1A 2AA", "EC4Y 7HL", "EC3N 4DJ"):  # far off; in the City; 3 m from it, by the Tower
        html = client.get(f"/search?postcode={quote(postcode)}").get_data(as_text=True)
        assert "data-near-temples" not in html and "Inner and Middle Temple" not in html


def test_the_api_adds_the_temples_to_the_recorded_answer_and_documents_it(client):
    body = client.get("/api/v1/postcodes/EC4Y%209DH").get_json()
    assert body["force"]["id"] == "metropolitan" and body["ward"]["name"] == "St James's"
    near = body["near_temples"]
    assert near["force"]["id"] == "city-of-london" and near["inside_temple"] is None and near["distance_m"] == 10.2
    assert any(r["id"] == "non_emergency" and r["value"] == "101" for r in near["contact_routes"])
    assert client.get("/api/v1/postcodes/SW1A%202AA").get_json()["near_temples"] is None
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["PostcodeResult"]
    assert "near_temples" in schema["allOf"][1]["properties"]


def test_use_my_location_on_the_thames_names_both_banks_the_met_and_links_each_banks_ward(client):
    response = client.get("/locate?lat=51.5008&lon=-0.1218")  # mid-river by Westminster Bridge
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "data-on-river" in html
    assert "on the River Thames in London" in html and "outside London" not in html
    assert "Marine Policing Unit" in html and "Metropolitan Police" in html
    assert '<a href="/wards/E05014118">Waterloo &amp; South Bank</a>, Lambeth' in html
    assert '<a href="/wards/E05013806">St James&#39;s</a>, Westminster' in html


def test_the_api_answers_a_point_on_the_thames_with_both_banks_and_the_mets_routes(client):
    response = client.get("/api/v1/locate?lat=51.5055&lon=-0.0754")  # by Tower Bridge
    error = response.get_json()["error"]
    assert response.status_code == 404 and error["code"] == "on_river"
    assert [b["borough"]["name"] for b in error["banks"]] == ["Tower Hamlets", "Southwark"]
    assert error["force"]["id"] == "metropolitan" and error["unit"] == "Marine Policing Unit"
    assert any(route["id"] == "emergency" for route in error["contact_routes"])
