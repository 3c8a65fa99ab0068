"""A result with a team, as a resident sees it first: the ward and a way to reach the team on the first screen,
and the whole page (map tiles aside) under 100 KB over the wire from an empty cache."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from finder import create_app
from tests.browser.conftest import LiveServer
from tests.store.teamdata import SAMPLE_WARD, team_lookup, team_store
from tests.support.liveserver import serving

pytestmark = pytest.mark.browser

SCREENS = {"phone": {"width": 375, "height": 667}, "desktop": {"width": 1280, "height": 800}}


@pytest.fixture(scope="module")
def live_server(geodata) -> Iterator[LiveServer]:
    """The real app with the fictional sample teams in its store."""
    app = create_app({"ENV_NAME": "testing", "TESTING": True}, lookup=team_lookup(geodata, team_store()))
    with serving(app, "finder-layout-server") as base_url:
        yield LiveServer(base_url)


@pytest.mark.parametrize("screen", SCREENS.values(), ids=SCREENS.keys())
def test_the_first_screen_of_a_team_result_names_the_ward_and_a_way_to_reach_the_team(browser_page, screen) -> None:
    page = browser_page.new_context(viewport=screen).page
    page.goto(f"/wards/{SAMPLE_WARD}")

    heading = page.get_by_role("heading", level=1)
    team_phone = page.locator("[data-team-routes] a.route-value").first  # the team's own phone or email
    expect(heading).to_contain_text("St James's")
    expect(team_phone).to_be_visible()
    for element in (heading, team_phone):
        box = element.bounding_box()
        assert box and box["y"] + box["height"] <= screen["height"], f"{element} is below the first screen"
    # Before the officers, the meetings and the map.
    routes, officer = page.locator("[data-team-routes]"), page.locator("[data-officer]").first
    assert routes.bounding_box()["y"] < officer.bounding_box()["y"]


def test_a_team_result_weighs_under_100_kb_from_an_empty_cache(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(base_url=live_server.base_url, viewport=SCREENS["phone"])
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    sizes: dict[str, int] = {}
    urls: dict[str, str] = {}
    cdp.on("Network.responseReceived", lambda e: urls.__setitem__(e["requestId"], e["response"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    page.goto(f"/wards/{SAMPLE_WARD}", wait_until="networkidle")
    context.close()

    total = sum(sizes.values())
    assert any("leaflet" in url for url in urls.values())
    assert total < 100_000, f"{total:,} bytes: " + ", ".join(f"{urls.get(k)}={v}" for k, v in sizes.items())
