"""The embedded finder in real Chromium, on a council's page served from a second origin.

The council's page is served by a tiny http.server on another 127.0.0.1 port, so the finder's
frame is cross-origin to it, as on a real council site. It holds the snippet exactly as the
"Embed this finder" page writes it. Every frame in these tests fails the test on a Content
Security Policy violation (a `securitypolicyviolation` listener installed before any page
script), a console error, a page error, a failed request or a request to any third origin.
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, BrowserContext, Frame, Page, expect

from finder import create_app
from finder.lookup.service import Lookup
from tests.support.liveserver import serving

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer, RecordedPage

pytestmark = pytest.mark.browser

WESTMINSTER = "E09000033"
CAMDEN = "E09000007"
ST_JAMESS = "E05013806"
TIMEOUT_MS = 10_000
WATCH_CSP = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolation(JSON.stringify({
    page: document.location.href, directive: event.effectiveDirective,
    blocked: event.blockedURI, source: event.sourceFile, line: event.lineNumber, sample: event.sample,
  }));
}, true);
"""
# Height of the frame on the host page and of the widget's own content, in CSS pixels.
FRAME_HEIGHT = "() => document.querySelector('iframe.finder-embed').getBoundingClientRect().height"
CONTENT_HEIGHT = "() => document.querySelector('[data-embed-root]').getBoundingClientRect().height"
PREVIEW_FITS = (
    "(h) => Math.abs(document.querySelector('[data-embed-preview] iframe').getBoundingClientRect().height - h) < 3"
)
FRAME_AFTER_SNIPPET = """() => document.querySelector('script[src$="/static/embed.js"]').nextElementSibling
  === document.querySelector("iframe.finder-embed")"""


BLANK_TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


# --- a second origin for the council's page ----------------------------------------------------


@dataclass
class HostServer:
    """A council's website: pages set by the test, on its own port of 127.0.0.1."""

    base_url: str
    pages: dict[str, str] = field(default_factory=dict)

    def serve(self, path: str, body: str) -> str:
        self.pages[path] = body
        return self.base_url + path


@pytest.fixture(scope="session")
def host_server() -> Iterator[HostServer]:
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/tiles/"):  # a map tile server too: one blank tile for every place
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()
                self.wfile.write(BLANK_TILE)
                return
            body = pages.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write((body or "not found").encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="council-host", daemon=True)
    thread.start()
    try:
        yield HostServer(f"http://127.0.0.1:{server.server_port}", pages)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def council_page(snippet: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Anytown Council</title></head>'
        "<body><h1>Anytown Council: community safety</h1><p>Find out who polices your street.</p>"
        f"{snippet}<p id='after-finder'>More council services</p></body></html>"
    )


def builder_snippet(live_server: LiveServer, query: str, box: str = "data-snippet") -> str:
    """The snippet (or with box="data-iframe-code", the frame) as the builder writes it for councils to copy."""
    with urllib.request.urlopen(live_server.url(f"/embed/build?{query}")) as response:
        page = response.read().decode()
    match = re.search(rf"<textarea[^>]*{box}>(.*?)</textarea>", page, re.S)
    assert match, f"the embed builder shows no {box}"
    return html.unescape(match.group(1))


# --- recording problems across both origins ----------------------------------------------------


@dataclass
class Watched:
    """A browser context whose frames are all watched for problems."""

    context: BrowserContext
    page: Page
    allowed_origins: tuple[str, ...]
    problems: list[str] = field(default_factory=list)
    expected: list[re.Pattern[str]] = field(default_factory=list)

    def expect_console_error(self, pattern: str) -> None:
        self.expected.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [p for p in self.problems if not any(e.search(p) for e in self.expected)]


def watch(context: BrowserContext, allowed_origins: tuple[str, ...]) -> Watched:
    """Record CSP violations in every frame, console and page errors, and requests elsewhere."""
    context.set_default_timeout(TIMEOUT_MS)
    watched = Watched(context, context.new_page(), allowed_origins)
    context.expose_binding("__cspViolation", lambda source, text: watched.problems.append(f"CSP violation: {text}"))
    context.add_init_script(WATCH_CSP)
    context.on(
        "console", lambda message: message.type == "error" and watched.problems.append(f"console error: {message.text}")
    )
    context.on("weberror", lambda error: watched.problems.append(f"page error: {error.error}"))
    # net::ERR_ABORTED is the page cancelling its own load (Leaflet drops tiles it no longer needs
    # when the map zooms), as the shared recorder in conftest.py also treats it.
    context.on(
        "requestfailed",
        lambda request: (
            request.url.startswith(allowed_origins)
            and "ERR_ABORTED" not in (request.failure or "")
            and watched.problems.append(f"failed request: {request.url}: {request.failure}")
        ),
    )
    local = "|".join(re.escape(origin + "/") for origin in allowed_origins)

    def refuse(route) -> None:
        watched.problems.append(f"request to a third origin: {route.request.url}")
        route.abort()

    context.route(re.compile(rf"^(?!{local})(?!data:|blob:)"), refuse)
    return watched


@pytest.fixture()
def council(browser: Browser, live_server: LiveServer, host_server: HostServer) -> Iterator[Watched]:
    """A resident's browser on the council's site, which embeds the finder."""
    context = browser.new_context(viewport={"width": 1024, "height": 800}, locale="en-GB", service_workers="block")
    watched = watch(context, (live_server.base_url, host_server.base_url))
    yield watched
    context.close()
    assert not watched.unexpected(), "the browser saw problems:\n" + "\n".join(watched.unexpected())


def finder_frame(page: Page, live_server: LiveServer) -> Frame:
    """The finder's frame on the host page, once it has loaded."""
    page.wait_for_selector("iframe.finder-embed")
    frame = page.frame_locator("iframe.finder-embed")
    expect(frame.locator("[data-embed-root]")).to_be_visible()
    return next(f for f in page.frames if f.url.startswith(live_server.base_url + "/embed"))


def wait_until_frame_fits(page: Page, frame: Frame) -> float:
    """Wait until the host has sized the frame to the widget's content; return that height."""
    for _ in range(50):
        content = frame.evaluate(CONTENT_HEIGHT)
        if abs(page.evaluate(FRAME_HEIGHT) - content) <= 2:
            return content
        page.wait_for_timeout(100)
    raise AssertionError(
        f"the frame is {page.evaluate(FRAME_HEIGHT)}px for {frame.evaluate(CONTENT_HEIGHT)}px of content"
    )


# --- the tests ---------------------------------------------------------------------------------


def test_a_resident_finds_their_team_inside_the_council_page_and_the_frame_grows_to_fit(
    council: Watched, live_server: LiveServer, host_server: HostServer
) -> None:
    page = council.page
    page.goto(host_server.serve("/safety.html", council_page(builder_snippet(live_server, f"borough={WESTMINSTER}"))))

    frame = finder_frame(page, live_server)
    assert frame.url.startswith(f"{live_server.base_url}/embed?borough={WESTMINSTER}&parent=")
    form_height = wait_until_frame_fits(page, frame)
    assert page.evaluate(FRAME_AFTER_SNIPPET), "the frame is not right after the snippet's script"

    frame.get_by_label("Postcode").fill("sw1a 1aa")
    frame.get_by_role("button", name="Find my team").click()

    expect(frame.get_by_role("heading", level=1)).to_contain_text("St James's")
    expect(frame.locator(".contact-routes")).to_contain_text("101")
    expect(frame.locator("#map_finder.leaflet-container path").first).to_be_visible()
    result_height = wait_until_frame_fits(page, frame)
    assert result_height > form_height + 200, "the frame did not grow for the result"
    assert frame.evaluate("() => document.scrollingElement.scrollHeight <= window.innerHeight + 1"), (
        "the widget scrolls inside its frame"
    )
    assert page.url == host_server.base_url + "/safety.html", "the search left the council's page"

    frame.get_by_role("link", name=re.compile("Full details for St James's")).click()

    page.wait_for_url(f"{live_server.base_url}/wards/{ST_JAMESS}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("St James's")
    assert not page.locator("iframe").count(), "the link opened inside the frame, not the top window"


def test_a_postcode_in_another_borough_is_sent_to_the_full_finder_in_the_top_window(
    council: Watched, live_server: LiveServer, host_server: HostServer
) -> None:
    page = council.page
    snippet = builder_snippet(live_server, f"borough={CAMDEN}&accent=%23d4351c&map=0")
    page.goto(host_server.serve("/camden.html", council_page(snippet)))
    frame = finder_frame(page, live_server)
    assert frame.locator("button.button").evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(212, 53, 28)"

    frame.get_by_label("Postcode").fill("SW1A 1AA")
    frame.get_by_role("button", name="Find my team").click()

    expect(frame.locator("[data-outside]")).to_contain_text("SW1A 1AA is in St James's ward, Westminster")
    wait_until_frame_fits(page, frame)
    frame.locator("[data-outside-link]").click()

    # The full finder's result, whose address bar then shows the ward's page rather than the postcode.
    page.wait_for_url(re.compile(re.escape(live_server.base_url) + rf"/wards/{ST_JAMESS}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("St James's")


def test_only_the_embed_may_be_framed_by_another_site(
    council: Watched, live_server: LiveServer, host_server: HostServer
) -> None:
    refused = ["/wards/" + ST_JAMESS, "/embed/build", "/"]
    frames = "".join(f'<iframe src="{live_server.url(path)}" title="{path}"></iframe>' for path in refused)
    frames += f'<iframe src="{live_server.url("/embed")}" title="the widget"></iframe>'
    refusal = (
        r"console error: Framing '.*' violates the following Content Security Policy directive: "
        r".frame-ancestors 'none'."
    )

    council.expect_console_error(refusal)
    for path in refused:
        council.expect_console_error(
            rf"failed request: {re.escape(live_server.url(path))}: net::ERR_BLOCKED_BY_RESPONSE"
        )
    page = council.page

    page.goto(host_server.serve("/framing.html", f"<!doctype html><title>framing</title>{frames}"))

    expect(page.frame_locator('iframe[title="the widget"]').get_by_role("button", name="Find my team")).to_be_visible()
    page.wait_for_load_state("load")
    for path in refused:
        expect(page.frame_locator(f'iframe[title="{path}"]').locator("body")).not_to_contain_text("police team")
    blocked = sorted(p.split(": ")[1] for p in council.problems if p.endswith("ERR_BLOCKED_BY_RESPONSE"))
    assert blocked == sorted(live_server.url(path) for path in refused)
    assert len([p for p in council.problems if re.match(refusal, p)]) == len(refused)


def test_the_embed_builder_writes_the_same_code_as_the_server_and_previews_it(
    browser_page: RecordedPage, live_server: LiveServer
) -> None:
    violations: list[str] = []
    browser_page.context.expose_binding("__cspViolation", lambda source, text: violations.append(text))
    browser_page.context.add_init_script(WATCH_CSP)
    page = browser_page.page
    page.goto("/embed/build")
    preview = page.frame_locator("[data-embed-preview] iframe")
    expect(preview.get_by_role("button", name="Find my team")).to_be_visible()

    page.get_by_label("Borough").select_option(label=f"Westminster ({WESTMINSTER})")
    page.get_by_label("No map").check()

    options = f"borough={WESTMINSTER}&map=0"
    expect(page.locator("[data-snippet]")).to_have_value(builder_snippet(live_server, options))
    expect(page.locator("[data-iframe-code]")).to_have_value(builder_snippet(live_server, options, "data-iframe-code"))
    expect(preview.locator(".embed-area")).to_have_text("in Westminster")
    assert page.url.endswith(f"/embed/build?borough={WESTMINSTER}&map=0")
    frame = next(f for f in page.frames if "/embed?" in f.url)
    content = frame.evaluate(CONTENT_HEIGHT)
    page.wait_for_function(PREVIEW_FITS, arg=content)
    assert not violations, "\n".join(violations)


def test_the_full_site_result_page_and_its_map_keep_to_the_content_security_policy(
    browser_page: RecordedPage,
) -> None:
    violations: list[str] = []
    browser_page.context.expose_binding("__cspViolation", lambda source, text: violations.append(text))
    browser_page.context.add_init_script(WATCH_CSP)
    page = browser_page.page

    page.goto("/search?postcode=SW1A+1AA")

    expect(page.locator("#map_finder.leaflet-container path").first).to_be_visible()
    page.locator('#map_finder path[stroke="#1d70b8"]').hover(force=True)  # tooltips build HTML at run time
    expect(page.locator(".leaflet-tooltip")).to_contain_text("St James's")
    assert not violations, "\n".join(json.loads(v)["directive"] + ": " + v for v in violations)


def test_map_tiles_from_the_configured_tile_server_load_under_the_policy_as_the_map_moves(
    browser: Browser, finder_lookup: Lookup, host_server: HostServer
) -> None:
    app = create_app(
        {"ENV_NAME": "testing", "TILES_URL": host_server.base_url + "/tiles/{z}/{x}/{y}.png"}, lookup=finder_lookup
    )
    with serving(app, "finder-with-tiles") as finder:
        context = browser.new_context(viewport={"width": 1024, "height": 800}, service_workers="block")
        watched = watch(context, (finder, host_server.base_url))
        try:
            page = watched.page
            page.goto(f"{finder}/embed/search?postcode=SW1A1AA")
            tiles = page.locator(f'#map_finder img.leaflet-tile[src^="{host_server.base_url}/tiles/"]')
            expect(tiles.first).to_be_visible()
            for _ in range(3):  # zooming abandons tiles mid-load: Leaflet blanks them with a data: image
                page.evaluate("() => window.map_finder.zoomIn(1, {animate: false})")
            page.evaluate("() => window.map_finder.zoomOut(3, {animate: false})")
            expect(tiles.first).to_be_visible()
        finally:
            context.close()
    assert not watched.unexpected(), "the browser saw problems:\n" + "\n".join(watched.unexpected())
