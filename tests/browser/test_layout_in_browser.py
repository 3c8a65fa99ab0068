"""Layout and basic accessibility in a real browser: phones, labels, headings, the skip link."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

if TYPE_CHECKING:
    from tests.browser.conftest import RecordedPage

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 375, "height": 667}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PAGES = ["/", "/search?postcode=SW1A+1AA", "/wards/E05013806", "/search?postcode=zzz"]
# Each contact route's number or link, and how far it runs past its own box or into the description beside it.
ROUTE_OVERFLOWS = """() => [...document.querySelectorAll(".route")].map((route) => {
  const value = route.querySelector(".route-value"), when = route.querySelector(".route-when").getBoundingClientRect();
  const box = value.getBoundingClientRect();
  const intoWhen = when.left > box.left ? box.left + value.scrollWidth - when.left : 0;
  return [value.textContent, Math.max(value.scrollWidth - Math.ceil(box.width), intoWhen, 0)];
}).filter(([, overflow]) => overflow > 0)"""
UNLABELLED_INPUTS = """() => [...document.querySelectorAll("input, select, textarea")]
  .filter((el) => el.type !== "hidden" && el.labels.length === 0 && !el.getAttribute("aria-label"))
  .map((el) => el.outerHTML)"""


@pytest.mark.parametrize("path", ["/", "/search?postcode=SW1A+1AA"])
def test_pages_fit_a_phone_screen_without_scrolling_sideways(browser_page: RecordedPage, path: str) -> None:
    page = browser_page.new_context(**PHONE).page
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    widths = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")

    assert widths[0] <= widths[1], f"{path} is {widths[0]}px wide on a {widths[1]}px screen"


@pytest.mark.parametrize("screen", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_contact_routes_stay_in_their_own_column(browser_page: RecordedPage, screen: dict) -> None:
    page = browser_page.new_context(**screen).page
    page.goto("/search?postcode=SW1A+1AA")
    expect(page.locator(".route")).not_to_have_count(0)

    assert page.evaluate(ROUTE_OVERFLOWS) == []


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_a_language_one_h1_and_labelled_inputs(browser_page: RecordedPage, path: str) -> None:
    if "zzz" in path:
        browser_page.expect_status_console_error(400)
    page = browser_page.page
    page.goto(path)

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_count(1)
    assert page.evaluate(UNLABELLED_INPUTS) == []


def test_the_skip_link_is_the_first_stop_and_moves_focus_to_the_main_content(page: Page) -> None:
    page.goto("/search?postcode=SW1A+1AA")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # shown when focused, not left off-screen
    page.keyboard.press("Enter")

    main = page.locator("main#main")
    expect(main).to_be_focused()
    expect(main).to_have_css("background-color", "rgba(0, 0, 0, 0)")  # focused, not painted over
    page.keyboard.press("Tab")  # the next stop is inside the main content, not back in the header
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")
