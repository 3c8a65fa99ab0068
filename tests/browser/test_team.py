"""The neighbourhood team in real Chromium: a postcode with a sample team, its links and downloads, and hostile text.

This module serves its own app (the `live_server` below overrides the session one) whose store
holds the fictional sample teams and one hostile team, and reuses the suite's recorded pages: a
console error, a page error, a failed request or a request off 127.0.0.1 fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from finder import create_app
from tests.store.teamdata import (
    HOSTILE_NAME,
    HOSTILE_PLACE,
    HOSTILE_TEAM,
    HOSTILE_TITLE,
    HOSTILE_WARD,
    SAMPLE_WARD,
    team_lookup,
    team_store,
)
from tests.support.liveserver import serving

pytestmark = pytest.mark.browser

PLACE_MARKER = 'path[fill="#912b88"]'  # static/map.js, placeStyle


@dataclass(frozen=True)
class TeamServer:
    base_url: str

    def url(self, path: str = "/") -> str:
        return self.base_url + path


@pytest.fixture(scope="module")
def live_server(geodata) -> Iterator[TeamServer]:
    """The real app with a store of sample teams and a hostile team, threaded on 127.0.0.1."""
    app = create_app({"ENV_NAME": "testing", "TESTING": True}, lookup=team_lookup(geodata, team_store()))
    with serving(app, "finder-team-server") as base_url:
        yield TeamServer(base_url)


def test_a_postcode_with_a_sample_team_shows_its_officers_links_and_sample_label(page: Page) -> None:
    page.goto("/")
    page.get_by_label("Postcode").fill("sw1a 1aa")
    page.get_by_role("button", name="Find my team").click()

    team = page.locator("section.team")
    expect(team.locator("[data-sample]")).to_be_visible()
    expect(team.locator("[data-sample]")).to_contain_text("Sample data — fictional.")
    expect(team.locator("[data-team-name]")).to_have_text("St James's sample team")
    officers = team.locator("[data-officer]")
    expect(officers).to_have_count(5)
    expect(officers.first).to_contain_text("Amara Quill, Sergeant")
    expect(team.get_by_role("heading", name="PCSO", level=4)).to_be_visible()
    reach = page.locator("section.reach")  # how to reach the team comes first, before the officers
    expect(reach.get_by_role("link", name="stjames.sample@example.org")).to_have_attribute(
        "href", "mailto:stjames.sample@example.org"
    )
    expect(reach.get_by_role("link", name="020 7946 0123")).to_have_attribute("href", "tel:02079460123")
    expect(team.locator("[data-team-social] a")).to_have_count(2)
    expect(team.locator("[data-meeting]")).to_have_count(3)
    expect(team.locator("[data-front-counters] [data-place]").first).to_contain_text("m from your postcode")

    # The bio is there for those who open it.
    team.get_by_text("About Amara Quill").click()
    expect(team.get_by_text("She has (not really) policed central London")).to_be_visible()
    # The force-wide routes are still on the page, after the team.
    expect(page.locator(".contact-routes a[href='tel:999']").first).to_be_visible()


def test_save_to_contacts_downloads_a_vcard_marked_as_sample_data(page: Page) -> None:
    page.goto(f"/wards/{SAMPLE_WARD}")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Save this team to my contacts").click()
    download = download_info.value
    assert download.suggested_filename == f"{SAMPLE_WARD}-police-team-sample.vcf"
    card = download.path().read_bytes().decode("utf-8")
    assert card.startswith("BEGIN:VCARD\r\nVERSION:3.0\r\n") and card.endswith("END:VCARD\r\n")
    assert "FN:SAMPLE (fictional) - St James's sample team\r\n" in card
    assert "EMAIL;TYPE=INTERNET,WORK:stjames.sample@example.org\r\n" in card
    assert "X-FINDER-SAMPLE:TRUE\r\n" in card


def test_add_to_calendar_downloads_the_meeting_and_the_feed_is_a_calendar(page: Page) -> None:
    page.goto(f"/wards/{SAMPLE_WARD}")
    first = page.locator("[data-meeting]").first
    expect(first).to_contain_text("Street contact session (sample)")
    with page.expect_download() as download_info:
        first.get_by_role("link", name="Add to my calendar").click()
    download = download_info.value
    assert re.fullmatch(rf"{SAMPLE_WARD}-meeting-\d+\.ics", download.suggested_filename)
    ics = download.path().read_bytes().decode("utf-8")
    assert ics.startswith("BEGIN:VCALENDAR\r\n") and ics.count("BEGIN:VEVENT") == 1
    assert "SUMMARY:SAMPLE (fictional): Street contact session (sample)\r\n" in ics

    feed_href = page.get_attribute("[data-calendar-feed]", "href")
    feed = page.request.get(feed_href)
    assert feed.ok and feed.headers["content-type"] == "text/calendar; charset=utf-8"
    assert feed.text().count("BEGIN:VEVENT") == 3


def test_hostile_text_is_text_on_the_page_and_inside_the_map_popups(page: Page) -> None:
    page.goto(f"/wards/{HOSTILE_WARD}")

    team = page.locator("section.team")
    expect(team.locator("[data-team-name]")).to_have_text(HOSTILE_TEAM)
    expect(team.locator(".officer-name")).to_have_text(HOSTILE_NAME)
    expect(team.locator(".meeting-title")).to_have_text(re.sub(r"\s+", " ", HOSTILE_TITLE))
    assert team.locator("img, script, b, i").count() == 0
    assert page.locator("a[href^='javascript:' i]").count() == 0
    reach = page.locator("section.reach")
    assert reach.locator("img, script, b, i").count() == 0
    expect(reach.locator(".route-value", has_text="javascript:")).to_have_text("javascript:window.__pwned=1")

    marker = page.locator(f"#map_finder {PLACE_MARKER}")
    expect(marker).to_have_count(1)
    marker.hover()
    tooltip = page.locator(".leaflet-tooltip")
    expect(tooltip).to_have_text(HOSTILE_PLACE)
    marker.click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_be_visible()
    expect(popup.locator("strong")).to_have_text(HOSTILE_PLACE)
    expect(popup).to_contain_text("`${window.__pwned=1}`")
    assert popup.locator("img, script").count() == 0
    expect(page).to_have_url(re.compile(rf"/wards/{HOSTILE_WARD}$"))  # the click opened the popup, nothing else

    assert page.evaluate("window.__pwned") is None


def test_the_printed_page_keeps_the_team_and_drops_the_map_and_download_buttons(page: Page) -> None:
    page.goto(f"/wards/{SAMPLE_WARD}")
    page.emulate_media(media="print")
    team = page.locator("section.team")
    expect(team.locator("[data-sample]")).to_be_visible()
    expect(team.locator("[data-officer]").first).to_be_visible()
    expect(page.locator("[data-team-routes]")).to_be_visible()
    expect(team.locator("[data-vcard]")).to_be_hidden()
    expect(team.locator("[data-ics]").first).to_be_hidden()
    expect(page.locator(".map-section")).to_be_hidden()
    expect(page.locator(".contact-routes")).to_be_visible()
