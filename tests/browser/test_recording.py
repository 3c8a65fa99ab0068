"""The browser fixtures themselves: what they record is what fails a browser test."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.browser.conftest import RecordedPage

pytestmark = pytest.mark.browser

OFF_ORIGIN = "https://tile.openstreetmap.org/1/1/1.png"
MISBEHAVE = """async () => {
  console.error("deliberate console error");
  setTimeout(() => { throw new Error("deliberate page error"); });
  await new Promise((resolve) => setTimeout(resolve, 0));
  await fetch("/broken").catch(() => null);
}"""


def test_console_errors_page_errors_failed_and_off_origin_requests_are_all_reported(
    browser_page: RecordedPage,
) -> None:
    page = browser_page.page
    page.goto("/")
    assert browser_page.problems() == []
    browser_page.context.route("**/broken", lambda route: route.abort())  # a request on the origin that fails

    page.evaluate(MISBEHAVE)
    with page.expect_request(OFF_ORIGIN):  # a navigation: the app's Content-Security-Policy would stop a fetch
        page.evaluate("url => window.location.assign(url)", OFF_ORIGIN)

    problems = "\n".join(browser_page.problems())
    assert "console error: deliberate console error" in problems
    assert "page error: Error: deliberate page error" in problems
    assert f"failed request: GET {browser_page.base_url}/broken: net::ERR_FAILED" in problems
    assert f"request outside {browser_page.base_url}: {OFF_ORIGIN}" in problems
    for record in (browser_page.console_errors, browser_page.page_errors, browser_page.failed_requests):
        record.clear()  # every problem was seen: let this test pass the fixture's own check
    browser_page.requests.clear()
