"""Move up and Move down in real Chromium (issue 25): a borough admin puts the team's second way to reach it first,
at a phone's and a desktop's width with axe-core finding nothing, and without JavaScript."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import RecordedPage
from tests.browser.test_accessibility import with_axe
from tests.browser.test_staff_area import (  # noqa: F401  (live_server: the staff area's server fixture)
    SCREENS,
    StaffServer,
    live_server,
    new_admin,
    no_violations,
    sign_in,
)
from tests.store.teamdata import SAMPLE_WARD

pytestmark = pytest.mark.browser


def residents_see(server: StaffServer) -> list[str]:
    team = requests.get(f"{server.base_url}/api/v1/wards/{SAMPLE_WARD}", timeout=10).json()["team"]
    return [route["label"] for route in team["contact_routes"]]


def move_the_second_way_up(page, server: StaffServer) -> None:
    before = residents_see(server)
    page.goto(f"/admin/wards/{SAMPLE_WARD}")
    ways = page.locator("section", has=page.get_by_role("heading", name="Ways to reach the team"))
    expect(ways.get_by_role("button", name="Move up").first).to_be_visible()
    ways.get_by_role("button", name=re.compile(rf"^Move up\W+{re.escape(before[1])}$")).click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Saved the order of the ways to reach the team"
    )
    assert residents_see(server) == [before[1], before[0], *before[2:]]


@pytest.mark.parametrize("screen", SCREENS.values(), ids=SCREENS.keys())
def test_an_admin_moves_the_teams_second_way_to_reach_it_to_the_top_and_residents_see_it_first(
    browser_page: RecordedPage,
    live_server: StaffServer,  # noqa: F811
    screen,
) -> None:
    recorded = browser_page.new_context(viewport=screen)
    page = with_axe(recorded)
    sign_in(page, *new_admin(live_server))
    page.goto(f"/admin/wards/{SAMPLE_WARD}")
    no_violations(page, recorded)
    move_the_second_way_up(page, live_server)
    no_violations(page, recorded)


def test_without_javascript_move_up_still_works(browser_page: RecordedPage, live_server: StaffServer) -> None:  # noqa: F811
    recorded = browser_page.new_context(java_script_enabled=False, viewport=SCREENS["phone"])
    sign_in(recorded.page, *new_admin(live_server))
    move_the_second_way_up(recorded.page, live_server)
