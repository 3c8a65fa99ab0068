"""Browser fixtures: the real app on 127.0.0.1, driven by Debian's headless Chromium through Playwright.

- `live_server`: the real app (testing config: no tiles, no geocoder) served on an ephemeral port
  by werkzeug in a background thread, sharing the session's already-loaded geodata.
- `browser`: one Chromium for the session, at $FINDER_CHROMIUM (./scripts/test sets it) or
  /usr/bin/chromium. If it cannot start, every browser test errors with the reason: never skipped.
- `browser_page`: a `RecordedPage` in a fresh context. It records console errors, page errors,
  failed requests and every request URL; after the test, it fails the test on any of those
  problems or on any request that left the live server's origin. `browser_page.new_context(...)`
  opens another context (JavaScript off, geolocation, a phone viewport, a second user…) that is
  recorded and checked the same way. `page` is `browser_page.page`, for tests that need no more.

Write `page.goto("/search?postcode=SW1A1AA")`: contexts carry the live server as base_url.
A test that causes a problem on purpose says so first: `expect_problem(regex)` for any line of
`problems()`, `expect_console_error(regex)` for a console error, `expect_status_console_error(404)`
for an error page. One that serves a second origin of its own (an embedding page, say) allows it
with `allow_origin(...)`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Playwright,
    Request,
    Route,
    sync_playwright,
)

from finder import create_app
from finder.lookup.service import Lookup
from tests.support.liveserver import serving

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_VIEWPORT = {"width": 1280, "height": 900}
TIMEOUT_MS = 10_000  # generous for one page on 127.0.0.1; a hang fails in seconds, not minutes
LOCAL_SCHEMES = ("data:", "blob:")


@dataclass(frozen=True)
class LiveServer:
    """Where the real app is listening."""

    base_url: str  # "http://127.0.0.1:<port>", no trailing slash

    def url(self, path: str = "/") -> str:
        return self.base_url + path


@pytest.fixture(scope="session")
def live_server(finder_lookup: Lookup) -> Iterator[LiveServer]:
    """The real app, threaded, on 127.0.0.1 and a port the OS picks."""
    app = create_app({"ENV_NAME": "testing", "TESTING": True}, lookup=finder_lookup)
    assert not app.config["TILES_URL"], "testing config must not load map tiles from outside 127.0.0.1"
    with serving(app) as base_url:
        yield LiveServer(base_url)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless. A missing or broken browser fails the run; it is never skipped."""
    executable = os.environ.get("FINDER_CHROMIUM", "/usr/bin/chromium")
    try:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
    except Error as exc:
        message = (
            f"Chromium could not start from {executable} (FINDER_CHROMIUM): {exc.message}\n"
            "Install it with `apt-get install chromium` or run ./scripts/test, which does. "
            "Do not run `playwright install`."
        )
        raise pytest.fail.Exception(message, pytrace=False) from None
    yield browser
    browser.close()


@dataclass
class RecordedPage:
    """A page in its own browser context, with everything worth failing a test on recorded."""

    context: BrowserContext = field(repr=False)
    base_url: str
    open_context: Callable[..., RecordedPage] = field(repr=False)
    page: Page = field(init=False, repr=False)
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    cancelled_requests: list[str] = field(default_factory=list)  # by the page itself: not a problem
    expected_problems: list[re.Pattern[str]] = field(default_factory=list)
    other_origins: list[str] = field(default_factory=list)  # see allow_origin

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def new_context(self, **options: Any) -> RecordedPage:
        """Another context (its own cookies, permissions, viewport…), recorded and checked like this one."""
        return self.open_context(**options)

    def expect_problem(self, pattern: str) -> None:
        """Declare a problem this test causes on purpose: a regex, searched for in each line of `problems()`
        ("console error: …", "page error: …", "failed request: GET <url>: net::…", "request outside …")."""
        self.expected_problems.append(re.compile(pattern))

    def expect_console_error(self, pattern: str) -> None:
        """Declare a console error this test causes on purpose (a regex, searched for in console error lines)."""
        self.expect_problem(rf"^console error: .*?(?:{pattern})")

    def expect_status_console_error(self, status: int) -> None:
        """Chromium logs an error for every response with an error status, even a page's own."""
        self.expect_console_error(rf"status of {status}\b")

    def allow_origin(self, origin: str) -> None:
        """Let this context reach another origin the test itself serves, like "http://localhost:<port>"."""
        self.other_origins.append(origin.rstrip("/") + "/")

    def allowed(self, url: str) -> bool:
        return url.startswith((self.base_url + "/", *LOCAL_SCHEMES, *self.other_origins))

    def off_origin_requests(self) -> list[str]:
        return [url for url in self.requests if not self.allowed(url)]

    def problems(self) -> list[str]:
        """Everything that should fail the test and was not expected, as readable lines (empty when all is well)."""
        lines = (
            [f"console error: {m}" for m in self.console_errors]
            + [f"page error: {m}" for m in self.page_errors]
            + [f"failed request: {m}" for m in self.failed_requests]
            + [f"request outside {self.base_url}: {url}" for url in self.off_origin_requests()]
        )
        return [line for line in lines if not any(p.search(line) for p in self.expected_problems)]


def _record(recorded: RecordedPage) -> None:
    context, origin = recorded.context, recorded.base_url

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            recorded.console_errors.append(f"{message.text} ({where})" if where else message.text)

    def on_request_failed(request: Request) -> None:
        if not recorded.allowed(request.url):
            return  # reported as a request that left the allowed origins
        line = f"{request.method} {request.url}: {request.failure}"
        # ERR_ABORTED is the page cancelling its own load (navigating away, replacing an iframe's src).
        cancelled = request.failure == "net::ERR_ABORTED"
        (recorded.cancelled_requests if cancelled else recorded.failed_requests).append(line)

    def off_origin(route: Route) -> None:
        # Nothing may leave 127.0.0.1: such a request is recorded, then refused at once rather than left to hang.
        if recorded.allowed(route.request.url):
            route.continue_()
        else:
            route.abort()

    context.on("request", lambda request: recorded.requests.append(request.url))
    context.on("requestfailed", on_request_failed)
    context.on("console", on_console)
    context.on("weberror", lambda e: recorded.page_errors.append(f"{e.error.name}: {e.error.message}"))
    context.route(re.compile(rf"^(?!{re.escape(origin)}/)"), off_origin)


@pytest.fixture()
def browser_page(browser: Browser, live_server: LiveServer) -> Iterator[RecordedPage]:
    """A recorded page in a fresh context; the test fails if the browser saw any problem."""
    opened: list[RecordedPage] = []

    def open_context(**options: Any) -> RecordedPage:
        settings = {"viewport": DEFAULT_VIEWPORT, "locale": "en-GB", "service_workers": "block", **options}
        context = browser.new_context(base_url=live_server.base_url, **settings)
        context.set_default_timeout(TIMEOUT_MS)
        recorded = RecordedPage(context=context, base_url=live_server.base_url, open_context=open_context)
        _record(recorded)
        recorded.page = context.new_page()
        opened.append(recorded)
        return recorded

    yield open_context()
    problems = [problem for recorded in opened for problem in recorded.problems()]
    for recorded in opened:  # after reading the records, so closing cannot add to them
        recorded.context.close()
    assert not problems, "the browser saw problems:\n" + "\n".join(problems)


@pytest.fixture()
def page(browser_page: RecordedPage) -> Page:
    """The recorded page itself, for tests that need nothing more."""
    return browser_page.page
