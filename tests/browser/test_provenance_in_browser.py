"""On the default install (the March 2023 police.uk snapshot, the City's March 2026 neighbourhoods), in real Chromium:
a Met postcode's mailbox is on the first screen at 375 px with where and when it comes from, and the pages that
say so (result, embed, poster, a City ward) have no axe-core violations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from finder import create_app
from finder.config import default_raw_data
from finder.lookup.service import Lookup, load_forces
from finder.store import Store
from finder.teams.directory import TeamDirectory
from tests.browser.conftest import LiveServer, RecordedPage
from tests.browser.test_accessibility import PHONE, violations, with_axe
from tests.support.liveserver import serving

pytestmark = pytest.mark.browser

MAILBOX = "AWMailbox.SNTCWStJamesWard@met.police.uk"  # St James's, SW1A 1AA


@pytest.fixture(scope="module")
def live_server(geodata, tmp_path_factory) -> Iterator[LiveServer]:
    """The app over a store made by `finder init-db` with the raw data beside, as ./scripts/setup makes it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('snapshot') / 'finder.db'}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FINDER_RAW_DATA", str(default_raw_data()))
        result = create_app({"ENV_NAME": "testing", "DATABASE_URL": url}).test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0 and "snapshot: 679 Met ward teams" in result.output, result.output
    forces = load_forces(raw_dir=default_raw_data())
    lookup = Lookup(geodata, forces, teams=TeamDirectory(Store(url), geodata.wards))
    with serving(create_app({"ENV_NAME": "testing", "TESTING": True}, lookup=lookup), "finder-snapshot") as base:
        yield LiveServer(base)


def test_a_met_postcodes_mailbox_and_its_source_and_date_are_on_the_first_screen_at_375_px(
    browser_page: RecordedPage,
) -> None:
    page = browser_page.new_context(viewport=PHONE).page
    page.goto("/search?postcode=SW1A+1AA")
    route = page.locator("[data-team-routes] li", has=page.locator(f'a[href="mailto:{MAILBOX}"]'))
    words = route.locator(".confirmed")
    assert words.inner_text() == "As published on police.uk in March 2023: it may have changed since"
    for part in (route.locator("a"), words):
        box = part.bounding_box()
        assert box is not None and box["y"] + box["height"] <= PHONE["height"], box
    assert page.locator("[data-stale-note] a").get_attribute("href") == "https://www.police.uk/pu/your-area/"


PAGES = {
    "met result": "/search?postcode=SW1A+1AA",
    "met embed": "/embed/search?postcode=SW1A+1AA",
    "met poster": "/wards/E05013806/poster",
    "city ward": "/wards/E05009288",
    "city poster": "/wards/E05009288/poster",
}


@pytest.mark.parametrize(("name", "path"), PAGES.items(), ids=PAGES.keys())
def test_axe_core_finds_no_violations_where_the_snapshots_dates_and_the_citys_teams_are_shown(
    browser_page: RecordedPage, name: str, path: str
) -> None:
    recorded = browser_page.new_context(viewport=PHONE)
    page = with_axe(recorded)
    response = page.goto(path)
    assert response and response.status == 200
    if name.startswith("met"):
        assert page.locator("[data-stale]").count() > 0
    else:
        assert page.get_by_text("Liverpool Street").count() > 0
    found = violations(page, recorded.base_url)
    assert not found, "axe-core found:\n" + "\n".join(found)
