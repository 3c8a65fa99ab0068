"""A resident without a mouse, without JavaScript, or reading the map's small print, in real Chromium (issue 9).

Keyboard only: from the home page to the team's phone or email, past the map without stopping on its shapes.
JavaScript off: the ward's boundary is still drawn (a server SVG). The map's key names every mark on it, and
the tile credit is the operator's HTML, linked, not escaped into visible markup.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from finder import create_app
from tests.browser.conftest import LiveServer
from tests.store.teamdata import HOSTILE_WARD, SAMPLE_POSTCODE, SAMPLE_WARD, team_lookup, team_store
from tests.support.httpserver import Reply, local_server
from tests.support.liveserver import serving

pytestmark = pytest.mark.browser

SCREENS = {"phone": {"width": 375, "height": 667}, "desktop": {"width": 1280, "height": 800}}
BLANK_TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
CREDIT = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
FOCUSED = """() => {
  const el = document.activeElement;
  return {tag: el.tagName, href: el.getAttribute("href") || "", name: el.getAttribute("name") || "",
          inMap: !!el.closest("#map_finder .leaflet-pane"), team: !!el.closest("[data-team-routes]"),
          outline: getComputedStyle(el).outlineStyle, width: parseFloat(getComputedStyle(el).outlineWidth)};
}"""


@pytest.fixture(scope="module")
def tiles() -> Iterator[str]:
    """A tile server on 127.0.0.1: one blank tile for every place."""
    with local_server() as server:
        server.fallback = lambda path: Reply(200, BLANK_TILE, {"Content-Type": "image/png"})
        yield server.url


@pytest.fixture(scope="module")
def live_server(geodata, tiles: str) -> Iterator[LiveServer]:
    """The real app with the fictional sample teams, a team with a front counter, and map tiles from 127.0.0.1."""
    app = create_app(
        {"ENV_NAME": "testing", "TESTING": True, "TILES_URL": tiles + "/{z}/{x}/{y}.png", "TILES_ATTRIBUTION": CREDIT},
        lookup=team_lookup(geodata, team_store()),
    )
    with serving(app, "finder-access-server") as base_url:
        yield LiveServer(base_url)


@pytest.mark.parametrize("screen", SCREENS.values(), ids=SCREENS.keys())
def test_a_keyboard_alone_goes_from_the_home_page_to_the_teams_phone_or_email(browser_page, tiles, screen) -> None:
    recorded = browser_page.new_context(viewport=screen)
    recorded.allow_origin(tiles)
    page: Page = recorded.page
    page.goto("/")
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED)["name"] == "postcode":
            break
    else:
        pytest.fail("the postcode box is not among the first 15 tab stops")
    page.keyboard.type(SAMPLE_POSTCODE.lower())
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("St James's")

    stops = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        stops.append(focused)
        assert not focused["inMap"], "a shape or marker on the map took keyboard focus"
        if focused["team"] and focused["href"].startswith(("tel:", "mailto:")):
            break
    else:
        pytest.fail(f"no team phone or email within 40 tab stops: {stops}")
    assert focused["outline"] != "none" and focused["width"] >= 2, f"the focus ring is not visible: {focused}"


def test_without_javascript_a_ward_page_still_draws_the_boundary_and_gives_no_map_instruction(browser_page) -> None:
    page = browser_page.new_context(java_script_enabled=False).page
    page.goto(f"/wards/{SAMPLE_WARD}")

    outline = page.locator("#map_finder svg.ward-outline")
    expect(outline).to_be_visible()
    assert outline.bounding_box()["height"] > 100
    expect(outline.locator("path").first).to_be_attached()
    expect(page.locator("[data-map-instruction]")).to_be_hidden()
    expect(page.locator("#map-key")).to_contain_text("St James's ward")
    expect(page.locator("#map-key .needs-map").first).to_be_hidden()  # keys for marks only the live map draws


def test_the_map_key_names_the_front_counters_and_the_tile_credit_is_a_real_link(browser_page, tiles) -> None:
    browser_page.allow_origin(tiles)
    page = browser_page.page
    page.goto(f"/wards/{HOSTILE_WARD}")

    expect(page.locator("#map_finder svg.ward-outline")).to_have_count(0)  # the live map replaced the drawing
    markers = page.locator('#map_finder path[fill="#912b88"]')  # static/map.js, placeStyle
    expect(markers.first).to_be_visible()
    key = page.locator("#map-key")
    expect(key.locator("li", has=page.locator(".key-counter"))).to_be_visible()
    expect(key).to_contain_text("front counters")

    credit = page.locator("#map_finder .leaflet-control-attribution")
    link = credit.get_by_role("link", name="OpenStreetMap", exact=True)
    expect(link).to_have_attribute("href", "https://www.openstreetmap.org/copyright")
    expect(credit).to_contain_text("© OpenStreetMap contributors")
    expect(credit).not_to_contain_text("<a")
