"""Resident pages: honest status codes, clear messages, facts in the HTML, nothing from elsewhere."""

import gzip
import json
import re
from html import unescape

import brotli
import pytest


def test_the_home_page_has_the_postcode_form(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<form class="search-form" action="/search" method="get" target="_self" novalidate>' in html
    assert '<label class="label" for="postcode">Postcode</label>' in html
    assert "data-use-location" in html


def test_a_postcode_search_shows_the_ward_borough_force_and_routes(client):
    response = client.get("/search?postcode=+sw1a-1aa+")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "St James&#39;s" in html and "Westminster" in html
    assert "Metropolitan Police Service" in html
    for href in ('href="tel:999"', 'href="tel:101"', 'href="tel:18000"', 'href="tel:0800555111"'):
        assert href in html
    assert "https://www.met.police.uk/ro/report/" in html
    assert 'id="map_finder"' in html
    assert re.search(r'<script src="/maps/E05013806.js\?v=[0-9a-f]{12}" defer>', html)  # the same for everyone
    data = json.loads(unescape(re.search(r"data-map='([^']*)'", html).group(1)))
    assert data["point"] == [51.501009, -0.141588]  # the searched point reaches the page as JSON
    assert 'value=" sw1a-1aa "' in html  # re-shows what was typed in the search-again form


def test_the_team_section_says_plainly_that_details_are_not_loaded(client):
    html = client.get("/search?postcode=SW1A1AA").get_data(as_text=True)
    assert "Your neighbourhood team" in html
    assert "not loaded" in html


@pytest.mark.parametrize("typed", ["banana", "SW1A 1A", "12345", "<script>alert(1)</script>"])
def test_an_invalid_postcode_is_400_with_an_error_summary_and_an_example(client, typed):
    # Text longer than a postcode is redirected first, so that it stays out of the address bar (issue 26).
    response = client.get("/search", query_string={"postcode": typed}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in html
    assert "SW1A 2AA" in html
    assert "<script>alert(1)</script>" not in html
    assert 'aria-describedby="postcode-hint postcode-error"' in html
    assert "<title>Error:" in html


def test_hostile_input_is_shown_back_as_text(client):
    # As short as a postcode: longer text is never shown back at all (tests/web/test_edge_pages.py).
    html = client.get("/search", query_string={"postcode": '"><i>1'}).get_data(as_text=True)
    assert 'value="&#34;&gt;&lt;i&gt;1"' in html


def test_an_empty_search_asks_for_a_postcode(client):
    response = client.get("/search?postcode=")
    assert response.status_code == 400
    assert "Enter a postcode" in response.get_data(as_text=True)


def test_an_unknown_london_postcode_is_404(client):
    response = client.get("/search?postcode=SW1A9ZZ")
    assert response.status_code == 404
    assert "We could not find SW1A 9ZZ" in response.get_data(as_text=True)


def test_a_postcode_outside_london_names_its_district_and_links_to_its_force(client):
    response = client.get("/search?postcode=m11ae")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "M1 1AE is in Manchester, outside the area this finder covers" in html
    assert 'href="https://www.gmp.police.uk/"' in html


def test_a_postcode_in_cleveland_links_to_the_forces_website_and_gives_its_101_as_police_uk_published_them(client):
    html = client.get("/search?postcode=TS11AA").get_data(as_text=True)
    assert "It is policed by Cleveland Police." in html
    assert 'href="https://www.cleveland.police.uk/"' in html
    assert "Its non-emergency number is 101, as published on police.uk in March 2026." in html


def test_a_withdrawn_postcode_says_it_is_no_longer_in_use(client):
    response = client.get("/search?postcode=BR11HF")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "BR1 1HF is no longer in use" in html
    assert "Bromley Town" in html


def test_a_letter_o_typed_for_zero_is_corrected_and_said(client):
    html = client.get("/search?postcode=SW1A OAA").get_data(as_text=True)
    assert "We read “SW1A OAA” as SW1A 0AA" in html


def test_an_outward_code_offers_its_wards(client):
    response = client.get("/search?postcode=se1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Choose your ward in SE1" in html
    assert re.search(r'href="/wards/E05\d{6}"', html)


def test_the_city_of_london_shows_city_of_london_police(client):
    html = client.get("/search?postcode=EC2V 7HH").get_data(as_text=True)
    assert "City of London Police" in html
    assert "https://www.cityoflondon.police.uk/ro/report/" in html


def test_a_ward_page_is_shareable_and_lists_neighbours(client):
    response = client.get("/wards/E05013806")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Neighbouring wards" in html
    assert "http://localhost/wards/E05013806" in html
    assert "/maps/E05013806.js?v=" in html


def test_a_lowercase_ward_code_redirects_to_the_canonical_page(client):
    response = client.get("/wards/e05013806")
    assert response.status_code == 301 and response.headers["Location"].endswith("/wards/E05013806")


def test_an_unknown_ward_page_is_404(client):
    response = client.get("/wards/E05999999")
    assert response.status_code == 404
    assert "We do not know that ward" in response.get_data(as_text=True)


def test_locate_sends_the_resident_to_the_wards_own_page_so_the_location_leaves_the_address_bar(client):
    response = client.get("/locate?lat=51.50101&lon=-0.14156")
    assert response.status_code == 303 and response.headers["Location"] == "/wards/E05013806?from=location"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "St James&#39;s" in html and "Your location" in html
    assert "51.50101" not in html and "-0.14156" not in html


@pytest.mark.parametrize("query, status", [("lat=x&lon=y", 400), ("lat=53.48&lon=-2.24", 404)])
def test_locate_errors_are_honest(client, query, status):
    assert client.get(f"/locate?{query}").status_code == status


def test_the_map_script_draws_the_ward_and_its_neighbours_and_nothing_else(client):
    response = client.get("/maps/E05013806.js")
    script = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert "var map_finder = L.map(" in script
    assert script.count("L.geoJson(") == 2  # the ward and its neighbours
    assert "L.circleMarker(" not in script  # the point and places are drawn by static/map.js
    # Names are HTML-escaped before Leaflet puts them in a tooltip's innerHTML.
    assert "St James\\u0026#x27;s" in script and "St James's" not in script
    assert "tile.openstreetmap.org" not in script  # tests run without a tile server


@pytest.mark.parametrize(
    "query", ["", "?at=51.501009,-0.141588", "?at=nan,nan", "?at=inf,inf", "?at=91,181", "?at=a,b"]
)
def test_the_map_script_is_one_file_per_ward_whatever_the_query(client, query):
    """No query reaches the script (it once took ?at=lat,lon, and nan crashed it): one cached answer per ward."""
    response = client.get(f"/maps/E05013806.js{query}")
    assert response.status_code == 200
    assert response.get_data() == client.get("/maps/E05013806.js").get_data()
    assert response.headers["ETag"] and response.cache_control.max_age == 3600


def test_a_pages_map_script_address_names_its_content_so_browsers_keep_it_for_good(client):
    """A returning visitor's ward view is one request: the script the page names is never asked for again."""
    html = client.get("/wards/E05013806").get_data(as_text=True)
    address = unescape(re.search(r'<script src="(/maps/E05013806.js\?v=[0-9a-f]{12})"', html).group(1))
    named = client.get(address)
    assert named.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert named.headers["ETag"].strip('"').startswith(address.rsplit("=", 1)[1])  # the version is its hash
    assert named.get_data() == client.get("/maps/E05013806.js").get_data()
    for other in ("/maps/E05013806.js", "/maps/E05013806.js?v=000000000000"):  # an old page's address: an hour
        assert client.get(other).headers["Cache-Control"] == "public, max-age=3600"


def test_the_map_script_answers_304_when_the_browser_has_it(client):
    etag = client.get("/maps/E05013806.js").headers["ETag"]
    assert client.get("/maps/E05013806.js", headers={"If-None-Match": etag}).status_code == 304


def test_the_map_script_is_compressed_once_and_each_encoding_has_its_own_etag_and_304(client):
    plain = client.get("/maps/E05013806.js")
    br = client.get("/maps/E05013806.js", headers={"Accept-Encoding": "gzip, br"})
    gz = client.get("/maps/E05013806.js", headers={"Accept-Encoding": "gzip"})
    assert brotli.decompress(br.data) == plain.data == gzip.decompress(gz.data)
    assert (br.headers["Content-Encoding"], gz.headers["Content-Encoding"]) == ("br", "gzip")
    assert br.headers["ETag"] == plain.headers["ETag"][:-1] + ':br"'
    for response in (plain, br, gz):
        assert "Accept-Encoding" in response.headers["Vary"] and "Accept-Language" not in response.headers["Vary"]
        assert response.headers["Cache-Control"] == "public, max-age=3600"
    again = client.get("/maps/E05013806.js", headers={"Accept-Encoding": "br", "If-None-Match": br.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    stale = client.get("/maps/E05013806.js", headers={"Accept-Encoding": "br", "If-None-Match": plain.headers["ETag"]})
    assert stale.status_code == 200 and stale.data == br.data


def test_an_unknown_wards_map_script_is_404(client):
    assert client.get("/maps/E05999999.js").status_code == 404


def test_pages_load_nothing_from_another_origin(client):
    for path in ("/", "/search?postcode=SW1A1AA", "/wards/E05013806", "/about"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//', html), path


def test_every_page_carries_the_data_attribution(client):
    for path in ("/", "/search?postcode=SW1A1AA", "/search?postcode=junk", "/about"):
        html = client.get(path).get_data(as_text=True)
        assert "Contains OS data © Crown copyright and database right 2025" in html
        assert "Royal Mail copyright" in html and "Open Government Licence" in html


def test_an_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404 and "Page not found" in response.get_data(as_text=True)


def test_a_scottish_postcode_points_to_police_scotland_not_police_uk(client):
    html = client.get("/search?postcode=EH1 1YZ").get_data(as_text=True)
    assert "EH1 1YZ is in City of Edinburgh" in html
    assert 'href="https://www.scotland.police.uk/"' in html
    assert 'href="https://www.police.uk/"' not in html


def test_an_outward_code_across_the_boundary_says_most_postcodes_are_outside_and_who_polices_them(client):
    html = client.get("/search?postcode=KT19").get_data(as_text=True)
    assert "Most KT19 postcodes are outside London" in html
    assert "728 in Epsom and Ewell, policed by" in html and "Surrey Police" in html
    assert "Enter your full postcode" in html


def test_a_london_postal_district_links_the_outward_codes_it_covers(client):
    response = client.get("/search?postcode=W1")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "W1 is a London postal district" in html
    assert 'href="/search?postcode=W1A"' in html and "outside London" not in html


def test_a_mistyped_i_and_a_pasted_address_are_read_and_said(client):
    html = client.get("/search?postcode=SWIA+2AA").get_data(as_text=True)
    assert "We read “SWIA 2AA” as SW1A 2AA." in html
    html = client.get("/search?postcode=10+Downing+Street%2C+SW1A+2AA", follow_redirects=True).get_data(as_text=True)
    assert "We found the postcode SW1A 2AA in what you entered" in html and "St James" in html
    assert "Downing" not in html


def test_a_postcode_whose_centre_lies_in_another_ward_shows_both_teams(client):
    html = client.get("/search?postcode=EC4Y+9AH").get_data(as_text=True)
    assert "its centre lies in St James&#39;s (Westminster)" in html
    assert "policed by Metropolitan Police Service" in html and 'href="/wards/E05013806"' in html


def test_a_po_box_postcode_is_not_given_a_ward_team(client):
    response = client.get("/search?postcode=N1P+1AA")
    assert response.status_code == 404 and "not a home address" in response.get_data(as_text=True)


def test_the_embed_names_the_force_outside_london(client):
    html = client.get("/embed/search?postcode=EH1+1YZ").get_data(as_text=True)
    assert "It is policed by Police Scotland." in html and 'href="https://www.scotland.police.uk/"' in html
