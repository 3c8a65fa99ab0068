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
