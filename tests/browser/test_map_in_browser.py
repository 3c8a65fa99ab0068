"""The Leaflet map in a real browser: a ward and its neighbours, map clicks and "use my location"."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from finder.lookup.service import Lookup

if TYPE_CHECKING:
    from tests.browser.conftest import RecordedPage

pytestmark = pytest.mark.browser

ST_JAMESS = "E05013806"
WARD_PATH = 'path[stroke="#1d70b8"]'  # finder.geo.maps.WARD_STYLE
NEIGHBOUR_PATH = 'path[stroke="#505a5f"]'  # finder.geo.maps.NEIGHBOUR_STYLE
POINT_MARKER = 'path[fill="#ffdd00"]'

# A point on the map where a neighbouring ward, not the ward itself, is under the pointer; with its name.
FIND_NEIGHBOUR_POINT = """(selector) => {
  const paths = new Map();
  window.map_finder.eachLayer((layer) => {
    if (layer.feature && layer.getElement) paths.set(layer.getElement(), layer.feature.properties.name);
  });
  const box = document.getElementById("map_finder").getBoundingClientRect();
  const bottom = Math.min(box.bottom, window.innerHeight), right = Math.min(box.right, window.innerWidth);
  const decode = (html) => new DOMParser().parseFromString(html, "text/html").documentElement.textContent;
  for (let y = Math.max(box.top, 0) + 20; y < bottom - 20; y += 15) {
    for (let x = Math.max(box.left, 0) + 20; x < right - 20; x += 15) {
      const el = document.elementFromPoint(x, y);
      if (el && el.matches(selector) && paths.has(el)) return {x, y, name: decode(paths.get(el))};
    }
  }
  return null;
}"""


def test_a_ward_page_draws_the_ward_and_each_of_its_neighbours(page: Page) -> None:
    page.goto(f"/wards/{ST_JAMESS}")

    expect(page.get_by_role("heading", level=1)).to_contain_text("St James's")
    overlay = page.locator("#map_finder.leaflet-container .leaflet-overlay-pane svg")
    expect(overlay.locator(WARD_PATH)).to_have_count(1)
    expect(overlay.locator(WARD_PATH)).to_be_visible()
    neighbours_listed = page.locator("section[aria-labelledby=neighbours-title] li")
    assert neighbours_listed.count() > 1
    expect(overlay.locator(NEIGHBOUR_PATH)).to_have_count(neighbours_listed.count())
    expect(overlay.locator(POINT_MARKER)).to_have_count(0)  # a ward page has no searched point


def test_hovering_a_neighbouring_ward_on_the_map_names_it(page: Page) -> None:
    page.goto(f"/wards/{ST_JAMESS}")
    expect(page.locator(f"#map_finder {NEIGHBOUR_PATH}").first).to_be_visible()
    page.locator("#map_finder").scroll_into_view_if_needed()

    spot = page.evaluate(FIND_NEIGHBOUR_POINT, NEIGHBOUR_PATH)
    assert spot, "no neighbouring ward is visible on the map"
    page.mouse.move(spot["x"], spot["y"])

    tooltip = page.locator(".leaflet-tooltip.foliumtooltip")
    expect(tooltip).to_be_visible()
    expect(tooltip).to_contain_text(spot["name"])
    expect(page.locator("section[aria-labelledby=neighbours-title]")).to_contain_text(spot["name"])


def test_clicking_the_map_asks_first_then_looks_up_the_place_and_leaves_only_the_wards_address(
    page: Page, finder_lookup: Lookup
) -> None:
    page.goto(f"/wards/{ST_JAMESS}")
    map_ = page.locator("#map_finder.leaflet-container")
    expect(map_.locator(WARD_PATH)).to_be_visible()

    map_.click()  # the centre of the map, which Leaflet has fitted to the ward
    expect(page.locator(".leaflet-popup")).to_contain_text("Look up this place?")
    expect(page).to_have_url(re.compile(rf"/wards/{ST_JAMESS}$"))  # nothing happens until the resident says so
    with page.expect_request(re.compile(r"/locate\?lat=-?[\d.]+&lon=-?[\d.]+$")) as asked:
        page.get_by_role("button", name="Look up this place").click()

    query = parse_qs(urlsplit(asked.value.url).query)
    expected = finder_lookup.resolve(lat=query["lat"][0], lon=query["lon"][0])
    expect(page).to_have_url(re.compile(rf"/wards/{expected.ward.code}$"))  # the point is not kept in the address
    expect(page.locator(".kicker")).to_have_text("Your location")
    expect(page.get_by_role("heading", level=1)).to_contain_text(expected.ward.name)


def test_a_postcode_result_marks_the_postcode_on_the_map(page: Page) -> None:
    page.goto("/")
    page.get_by_label("Postcode").fill("sw1a 1aa")
    page.get_by_role("button", name="Find my team").click()

    expect(page.locator(f"#map_finder {POINT_MARKER}")).to_be_visible()  # drawn by static/map.js from the page's JSON
    page.locator(f"#map_finder {POINT_MARKER}").hover(force=True)
    expect(page.locator(".leaflet-tooltip")).to_have_text("Your postcode")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/$"))  # the search left nothing in the history


def test_use_my_location_finds_the_ward_where_the_browser_says_you_are(browser_page: RecordedPage) -> None:
    page = browser_page.new_context(
        geolocation={"latitude": 51.50101, "longitude": -0.14156}, permissions=["geolocation"]
    ).page
    page.goto("/")

    page.get_by_role("button", name="Use my location").click()

    expect(page).to_have_url(re.compile(rf"/wards/{ST_JAMESS}$"))
    expect(page.locator(".kicker")).to_have_text("Your location")
    expect(page.get_by_role("heading", level=1)).to_contain_text("St James's")
    expect(page.locator("dl.facts")).to_contain_text("Metropolitan Police Service")


def test_use_my_location_on_the_thames_names_both_banks_and_links_each_banks_ward(browser_page: RecordedPage) -> None:
    recorded = browser_page.new_context(
        geolocation={"latitude": 51.5008, "longitude": -0.1218}, permissions=["geolocation"]
    )  # mid-river by Westminster Bridge
    recorded.expect_console_error(r"status of 404 .*/locate\?")  # no ward answers for the river: a 404
    page = recorded.page
    page.goto("/")

    page.get_by_role("button", name="Use my location").click()

    river = page.locator("[data-on-river]")
    expect(river).to_contain_text("Waterloo & South Bank, Lambeth")
    expect(river).to_contain_text("St James's, Westminster")
    expect(page.locator("body")).to_contain_text("on the River Thames in London")
    river.get_by_role("link", name="St James's").click()
    expect(page).to_have_url(re.compile(rf"/wards/{ST_JAMESS}$"))
