"""Residents' pages in other languages, in real Chromium: Arabic lays out right to left on a phone,
and Arabic and Polish pages are as accessible as the English ones (axe-core, the same rules)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from finder import create_app
from tests.browser.conftest import LiveServer, RecordedPage
from tests.browser.test_accessibility import PHONE, violations, with_axe
from tests.store.teamdata import SAMPLE_POSTCODE, SAMPLE_WARD, team_lookup, team_store
from tests.support.liveserver import serving

pytestmark = pytest.mark.browser

RESULT = f"/search?postcode={SAMPLE_POSTCODE.replace(' ', '+')}"


@pytest.fixture(scope="module")
def live_server(geodata) -> Iterator[LiveServer]:
    """The real app with the fictional sample teams, so a result shows a whole team."""
    app = create_app({"ENV_NAME": "testing", "TESTING": True}, lookup=team_lookup(geodata, team_store()))
    with serving(app, "finder-languages-server") as base_url:
        yield LiveServer(base_url)


def test_an_arabic_result_on_a_phone_reads_right_to_left_and_fits_the_screen(
    browser_page: RecordedPage, tmp_path
) -> None:
    recorded = browser_page.new_context(viewport=PHONE)
    page = with_axe(recorded)
    page.goto(RESULT + "&lang=ar")

    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.evaluate("document.documentElement.lang") == "ar"
    assert page.evaluate("getComputedStyle(document.querySelector('main')).direction") == "rtl"
    # Right to left: the heading starts at the right edge, and nothing makes the page scroll sideways.
    heading = page.locator("h1").bounding_box()
    assert heading and heading["x"] + heading["width"] > PHONE["width"] - 40
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Phone numbers stay left to right inside the Arabic text, and 999 is there to tap.
    assert page.locator(".route-emergency .route-value").evaluate("e => getComputedStyle(e).direction") == "ltr"
    assert page.locator('.emergency-banner a[href="tel:999"]').is_visible()
    page.screenshot(path=tmp_path / "arabic-result-375.png", full_page=True)
    assert (tmp_path / "arabic-result-375.png").stat().st_size > 10_000

    found = violations(page, recorded.base_url)
    assert not found, "axe-core found:\n" + "\n".join(found)


@pytest.mark.parametrize("path", ["/", RESULT, f"/wards/{SAMPLE_WARD}", "/about", "/embed"])
@pytest.mark.parametrize("lang", ["pl", "ar", "bn"])
def test_axe_core_finds_no_violations_in_another_language(browser_page: RecordedPage, path: str, lang: str) -> None:
    recorded = browser_page.new_context(viewport=PHONE)
    page = with_axe(recorded)
    response = page.goto(path + ("&" if "?" in path else "?") + f"lang={lang}")

    assert response and response.status == 200
    assert page.evaluate("document.documentElement.lang") == lang
    found = violations(page, recorded.base_url)
    assert not found, "axe-core found:\n" + "\n".join(found)


def test_the_language_switcher_works_without_javascript_and_keeps_the_ward(browser_page: RecordedPage) -> None:
    recorded = browser_page.new_context(java_script_enabled=False)
    page = recorded.page
    page.goto(RESULT)

    page.get_by_role("navigation", name="Language").get_by_role("link", name="Polski").click()

    assert page.url.endswith(f"/wards/{SAMPLE_WARD}?lang=pl")
    assert page.locator("html").get_attribute("lang") == "pl"
    page.get_by_label("Kod pocztowy").fill("SE1 7PB")
    page.get_by_role("button", name="Znajdź mój zespół").click()
    assert "lang=pl" in page.url and page.locator("html").get_attribute("lang") == "pl"
