"""axe-core finds nothing on any page a resident, a council or a staff member opens, in real Chromium.

axe-core comes from the npm registry (package-lock.json; scripts/setup runs `npm ci`) and is never
served by the finder: each test's browser context answers one address on the finder's own origin,
AXE_PATH, with node_modules/axe-core/axe.min.js, and the page loads it as an ordinary script. So the
page's Content-Security-Policy (`script-src 'self'`) stays exactly as residents get it: nothing is
bypassed, and a page that broke under its own CSP would fail here as it fails for them.

Rules: every WCAG 2.0, 2.1 and 2.2 A and AA rule, plus axe's best practices, in every frame, at a
phone's width and a desktop's, with every disclosure open.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Frame, Page, Route

from finder import create_app
from tests.browser.conftest import LiveServer, RecordedPage
from tests.store.teamdata import NO_TEAM_WARD, SAMPLE_POSTCODE, SAMPLE_WARD, team_lookup, team_store
from tests.support.liveserver import serving

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_PATH = "/__tests__/axe-core/axe.min.js"  # answered by the browser context below, never by the app
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
ACCENTS = ["#ffcc00", "#e0e0e0", "#1d70b8", "#000000"]
PHONE = {"width": 375, "height": 667}

PAGES = {
    "home": "/",
    "search error": "/search?postcode=NOT+A+POSTCODE",
    "unknown postcode": "/search?postcode=ZZ99+9ZZ",
    "result with a team": f"/search?postcode={SAMPLE_POSTCODE.replace(' ', '+')}",
    "ward page": f"/wards/{SAMPLE_WARD}",
    "ward with no team": f"/wards/{NO_TEAM_WARD}",
    "ward poster": f"/wards/{SAMPLE_WARD}/poster",
    "outward code": "/search?postcode=SW1A",
    "postal district": "/search?postcode=W1",
    "outside London": "/search?postcode=M1+1AE",
    "about": "/about",
    "accessibility statement": "/accessibility",
    "embed": "/embed",
    "embed error": "/embed/search?postcode=NOT+A+POSTCODE",
    "embed outside London": "/embed/search?postcode=EH1+1YZ",
    "embed build": "/embed/build",
    "staff sign-in": "/admin/sign-in",
}
ERROR_STATUS = {
    "search error": 400,
    "unknown postcode": 404,
    "postal district": 400,
    "outside London": 404,
    "embed error": 400,
    "embed outside London": 404,
}


@pytest.fixture(scope="module")
def live_server(geodata) -> Iterator[LiveServer]:
    """The real app with the fictional sample teams in its store, so a result shows a whole team."""
    app = create_app({"ENV_NAME": "testing", "TESTING": True}, lookup=team_lookup(geodata, team_store()))
    with serving(app, "finder-axe-server") as base_url:
        yield LiveServer(base_url)


def with_axe(recorded: RecordedPage) -> Page:
    """The recorded page, its context answering AXE_PATH on the finder's origin with axe-core from npm."""
    assert AXE.is_file(), f"{AXE} is missing: run scripts/setup --test (npm ci installs axe-core)"

    def serve_axe(route: Route) -> None:
        route.fulfill(path=AXE, content_type="text/javascript; charset=utf-8")

    recorded.context.route(recorded.url(AXE_PATH), serve_axe)
    return recorded.page


def run_axe(frame: Frame, base_url: str) -> list[dict[str, Any]]:
    """axe-core's violations in one frame (its nested frames are checked on their own)."""
    frame.add_script_tag(url=base_url + AXE_PATH)
    options = {"runOnly": {"type": "tag", "values": TAGS}, "iframes": False, "resultTypes": ["violations"]}
    return frame.evaluate("options => axe.run(document, options).then(r => r.violations)", options)


def violations(page: Page, base_url: str) -> list[str]:
    """Every violation in every frame of the page, one readable line per rule and element.

    Every disclosure ("What is a PCSO?", an officer's bio…) is opened first, so what it hides is checked too.
    """
    page.wait_for_load_state("load")
    lines = []
    for frame in page.frames:
        frame.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        for violation in run_axe(frame, base_url):
            for node in violation["nodes"]:
                summary = " ".join(node.get("failureSummary", "").split())
                lines.append(
                    f"{frame.url}: {violation['id']} ({violation['impact']}) {json.dumps(node['target'])}: "
                    f"{violation['help']}. {summary}"
                )
    return lines


@pytest.mark.parametrize("screen", [PHONE, {"width": 1280, "height": 900}], ids=["phone", "desktop"])
@pytest.mark.parametrize(("name", "path"), PAGES.items(), ids=PAGES.keys())
def test_axe_core_finds_no_violations_on_the_page(browser_page: RecordedPage, name: str, path: str, screen) -> None:
    recorded = browser_page.new_context(viewport=screen)
    if name in ERROR_STATUS:
        recorded.expect_status_console_error(ERROR_STATUS[name])
    page = with_axe(recorded)
    response = page.goto(path)
    assert response and response.status == ERROR_STATUS.get(name, 200)
    found = violations(page, recorded.base_url)
    assert not found, "axe-core found:\n" + "\n".join(found)


@pytest.mark.parametrize("accent", ACCENTS)
def test_axe_core_finds_no_violations_on_an_embedded_team_result_in_any_accent(
    browser_page: RecordedPage, accent: str
) -> None:
    recorded = browser_page.new_context(viewport=PHONE)
    page = with_axe(recorded)
    page.goto(f"/embed/search?postcode={SAMPLE_POSTCODE.replace(' ', '+')}&accent={accent.replace('#', '%23')}")
    assert page.locator("[data-team-routes] a").count() > 0, "the embed shows the team's own routes"
    found = violations(page, recorded.base_url)
    assert not found, "axe-core found:\n" + "\n".join(found)


def test_axe_core_runs_under_the_pages_own_csp_and_reports_what_it_finds(browser_page: RecordedPage) -> None:
    page = with_axe(browser_page)
    response = page.goto("/")
    assert response and "script-src 'self'" in response.headers["content-security-policy"]
    page.evaluate("document.querySelector('main').append(Object.assign(document.createElement('input'), {id: 'x'}))")
    found = violations(page, browser_page.base_url)
    assert browser_page.url(AXE_PATH) in browser_page.requests
    assert any(" label (critical) " in line and '["#x"]' in line for line in found), found


@pytest.mark.parametrize("lang", ["pl", "bn", "ar"])
@pytest.mark.parametrize("accent", ["#ffcc00", "#e0e0e0"], ids=["yellow", "light"])
def test_axe_core_finds_no_violations_on_the_embeds_translation_notice_in_a_light_or_yellow_accent(
    browser_page: RecordedPage, accent: str, lang: str
) -> None:
    recorded = browser_page.new_context(viewport=PHONE)
    page = with_axe(recorded)
    page.goto(f"/embed?lang={lang}&accent={accent.replace('#', '%23')}")
    assert page.locator("[data-unreviewed] a").count() == 2, "the embed shows the unreviewed-translation notice"
    found = violations(page, recorded.base_url)
    assert not found, "axe-core found:\n" + "\n".join(found)
