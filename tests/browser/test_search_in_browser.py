"""Searching by postcode in a real browser: the result, its map, the error paths, and no JavaScript."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, Response, expect

if TYPE_CHECKING:
    from tests.browser.conftest import RecordedPage

pytestmark = pytest.mark.browser

WARD_STROKE = "#1d70b8"  # finder.geo.maps.WARD_STYLE
POINT_FILL = "#ffdd00"  # the searched point's circle marker


def search_from_home(page: Page, text: str) -> Response:
    """Type into the home page's form and submit it, as a person would; the result page's response."""
    page.goto("/")
    page.get_by_label("Postcode").fill(text)
    with page.expect_response(lambda r: r.request.is_navigation_request() and "/search?" in r.url) as answer:
        page.get_by_role("button", name="Find my team").click()
    page.wait_for_load_state()
    return answer.value


def test_searching_a_postcode_from_the_home_page_shows_its_ward_force_contacts_and_map(page: Page) -> None:
    response = search_from_home(page, "sw1a1aa")

    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_contain_text("St James's")
    # The address bar and the history show the ward's own page, not the postcode searched for.
    expect(page).to_have_url(re.compile(r"/wards/E05013806$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Westminster")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("SW1A 1AA")
    expect(facts).to_contain_text("Metropolitan Police Service")
    routes = page.locator(".contact-routes")
    expect(routes.locator('a[href="tel:999"]').first).to_have_text("999")
    expect(routes.locator('a[href="tel:101"]')).to_have_text("101")

    map_ = page.locator("#map_finder")
    expect(map_).to_have_class(re.compile(r"\bleaflet-container\b"))
    overlay = map_.locator(".leaflet-overlay-pane svg")
    ward_paths = overlay.locator(f'path[stroke="{WARD_STROKE}"]')
    expect(ward_paths.first).to_be_visible()
    assert ward_paths.first.get_attribute("d"), "the ward boundary has no outline"
    expect(overlay.locator(f'path[fill="{POINT_FILL}"]')).to_have_count(1)
    expect(overlay.locator(f'path[fill="{POINT_FILL}"]')).to_be_visible()


def test_a_malformed_postcode_shows_the_problem_keeps_what_was_typed_and_takes_focus(
    browser_page: RecordedPage,
) -> None:
    browser_page.expect_status_console_error(400)
    page = browser_page.page

    response = search_from_home(page, "zzz")

    assert response.status == 400
    summary = page.locator("[data-error-summary]")
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link")).to_have_text("Enter a full postcode, like SW1A 2AA")
    expect(summary).to_be_focused()
    expect(summary).to_have_css("background-color", "rgba(0, 0, 0, 0)")  # focus outlines it, keeps red on white
    expect(page.locator("#postcode-error")).to_contain_text("Enter a full postcode, like SW1A 2AA")
    expect(page.get_by_label("Postcode")).to_have_value("zzz")
    expect(page).to_have_title(re.compile(r"^Error: "))


def test_an_unknown_london_postcode_says_it_could_not_be_found(browser_page: RecordedPage) -> None:
    browser_page.expect_status_console_error(404)
    page = browser_page.page

    response = search_from_home(page, "SW1A 9ZZ")

    assert response.status == 404
    expect(page.locator("[data-error-summary]")).to_contain_text(
        "We could not find SW1A 9ZZ. Check it is typed correctly"
    )
    expect(page.get_by_label("Postcode")).to_have_value("SW1A 9ZZ")


def test_a_postcode_outside_london_names_its_area_its_101_and_links_to_its_force(browser_page: RecordedPage) -> None:
    browser_page.expect_status_console_error(404)
    page = browser_page.page

    response = search_from_home(page, "TS1 1AA")  # Cleveland Police: its website from police.uk's 2026 force list

    assert response.status == 404
    summary = page.locator("[data-error-summary]")
    expect(summary).to_contain_text("TS1 1AA is in Middlesbrough, outside the area this finder covers")
    expect(summary).to_contain_text("Its non-emergency number is 101, as published on police.uk in March 2026")
    force = summary.get_by_role("link", name="Cleveland Police", exact=True)
    expect(force).to_have_attribute("href", "https://www.cleveland.police.uk/")


def test_search_works_without_javascript_and_every_fact_is_in_the_html(browser_page: RecordedPage) -> None:
    page = browser_page.new_context(java_script_enabled=False).page
    page.goto("/")
    expect(page.get_by_role("button", name="Use my location")).to_be_hidden()  # it needs JavaScript

    page.get_by_label("Postcode").fill("sw1a 1aa")
    page.get_by_role("button", name="Find my team").click()

    expect(page).to_have_url(re.compile(r"/search\?postcode=sw1a\+1aa$"))
    facts = {
        term.inner_text(): term.locator("xpath=following-sibling::dd").inner_text()
        for term in page.locator("dl.facts dt").all()
    }
    assert facts == {"Postcode": "SW1A 1AA", "Police force": "Metropolitan Police Service"}  # not the heading again
    expect(page.get_by_role("heading", level=1)).to_have_text("St James's ward, Westminster")
    routes = page.locator(".contact-routes")
    expect(routes.get_by_role("heading")).to_have_text("Contact Metropolitan Police Service")
    for href in ("tel:999", "tel:101", "https://www.met.police.uk/ro/report/", "tel:18000", "tel:0800555111"):
        expect(routes.locator(f'a[href="{href}"]').first).to_be_visible()
    expect(page.locator("#map_finder")).not_to_have_class(re.compile("leaflet-container"))  # no script ran
    # The ward's boundary, drawn on the server, stands in for the map; no instruction to use a map that is not there.
    outline = page.get_by_role("img", name="Outline of St James's ward")
    expect(outline).to_be_visible()
    assert outline.bounding_box()["height"] > 100
    assert outline.locator("path").get_attribute("d").count("L") > 20
    expect(page.locator("[data-map-instruction]")).to_be_hidden()
    expect(page.get_by_text("Select a place on the map")).to_have_count(0)


def test_an_address_pasted_whole_finds_its_postcode_and_leaves_no_trace_of_the_line(page: Page) -> None:
    """Issue 26 item 7: the whole line fits the box; the postcode in it is used and said; the line itself is in
    no address the resident is left on, nor in the history."""
    address = "Flat 3, 12 Example Road, London SE1 7PB"
    page.goto("/")
    page.get_by_label("Postcode").fill(address)
    expect(page.get_by_label("Postcode")).to_have_value(address)  # not cut at 32 characters
    page.get_by_role("button", name="Find my team").click()
    page.wait_for_load_state()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Waterloo & South Bank")
    expect(page.locator("[data-pasted]")).to_have_text(
        "We found the postcode SE1 7PB in what you entered and used it. We did not keep the rest."
    )
    expect(page).to_have_url(re.compile(r"/wards/E\d{8}$"))
    page.go_back()
    page.wait_for_load_state()
    assert "Example" not in page.url and "Flat" not in page.url
    assert "Example Road" not in page.content()
