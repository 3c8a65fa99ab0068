"""/coverage in real Chromium (issue 11, Proof): the choropleth draws every ward, the table needs no JavaScript,
and axe-core finds nothing, at a phone's width and a desktop's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from finder import create_app
from tests.browser.conftest import LiveServer, RecordedPage
from tests.browser.test_accessibility import PHONE, violations, with_axe
from tests.store.teamdata import SAMPLE_WARD, team_lookup, team_store
from tests.support.liveserver import serving

pytestmark = pytest.mark.browser

WARDS = 704


@pytest.fixture(scope="module")
def live_server(geodata) -> Iterator[LiveServer]:
    """The real app with the fictional sample teams, so some wards score and some do not."""
    app = create_app({"ENV_NAME": "testing", "TESTING": True}, lookup=team_lookup(geodata, team_store()))
    with serving(app, "finder-coverage-server") as base_url:
        yield LiveServer(base_url)


def test_the_choropleth_draws_a_shape_for_each_of_the_704_wards(page) -> None:
    page.goto("/coverage")
    shapes = page.locator("#map_coverage .leaflet-overlay-pane path")
    shapes.nth(WARDS - 1).wait_for(state="attached")
    assert shapes.count() == WARDS
    fills = set(
        page.eval_on_selector_all(
            "#map_coverage .leaflet-overlay-pane path", "ps => ps.map(p => p.getAttribute('fill'))"
        )
    )
    assert len(fills) > 1  # coloured by score: the sample wards stand out from the rest
    assert page.locator(".map-fallback").count() == 0 or not page.locator(".map-fallback").is_visible()


def test_without_javascript_the_table_lists_every_ward_and_links_to_its_page(browser_page: RecordedPage) -> None:
    recorded = browser_page.new_context(java_script_enabled=False)
    page = recorded.page
    page.goto("/coverage")
    assert page.locator("#ward-table tbody tr").count() == WARDS
    assert page.locator("#borough-table tbody tr").count() == 33
    assert page.locator(".map-fallback").is_visible()
    assert page.locator("#map_coverage .leaflet-overlay-pane path").count() == 0
    page.locator(f"#ward-{SAMPLE_WARD} th a").click()
    page.wait_for_url(f"**/wards/{SAMPLE_WARD}")
    assert page.locator("h1").first.is_visible()


@pytest.mark.parametrize("screen", [PHONE, {"width": 1280, "height": 900}], ids=["phone", "desktop"])
def test_axe_core_finds_no_violations_on_the_coverage_page(browser_page: RecordedPage, screen) -> None:
    recorded = browser_page.new_context(viewport=screen)
    page = with_axe(recorded)
    response = page.goto("/coverage")
    assert response and response.status == 200
    page.locator("#map_coverage .leaflet-overlay-pane path").nth(WARDS - 1).wait_for(state="attached")
    found = violations(page, recorded.base_url)
    assert not found, "axe-core found:\n" + "\n".join(found)
