"""A ward's poster as Chromium prints it: one A4 page, the QR code readable, the team's routes and 999 on it.

Serves its own app (sample teams and a hostile team) and reuses the suite's recorded pages: a console
error, a failed request or a request off 127.0.0.1 fails the test.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import pypdfium2
import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from finder import create_app
from tests.store.teamdata import HOSTILE_WARD, SAMPLE_WARD, team_lookup, team_store
from tests.support.liveserver import serving

pytestmark = pytest.mark.browser

A4_PX = {"width": 794, "height": 1123}  # 210 x 297 mm at CSS's 96 px to the inch
A4_POINTS = (595, 842)
MM = 96 / 25.4


@dataclass(frozen=True)
class PosterServer:
    base_url: str

    def url(self, path: str = "/") -> str:
        return self.base_url + path


@pytest.fixture(scope="module")
def live_server(geodata) -> Iterator[PosterServer]:
    app = create_app({"ENV_NAME": "testing", "TESTING": True}, lookup=team_lookup(geodata, team_store()))
    with serving(app, "finder-poster-server") as base_url:
        yield PosterServer(base_url)


def qr_codes(image: Image.Image) -> list[str]:
    return [code.text for code in zxingcpp.read_barcodes(image) if code.format == zxingcpp.BarcodeFormat.QRCode]


def test_the_print_layout_shows_the_qr_code_and_the_teams_routes_on_one_sheet(page: Page, live_server) -> None:
    page.set_viewport_size(A4_PX)
    page.goto(f"/wards/{SAMPLE_WARD}/poster")
    page.emulate_media(media="print")

    poster = page.locator(f"[data-poster='{SAMPLE_WARD}']")
    sheet = poster.bounding_box()
    assert sheet is not None and sheet["height"] <= 273 * MM  # A4 less the page's 12 mm margins
    expect(page.locator(".poster-toolbar")).to_be_hidden()
    for part in ("[data-sample]", "[data-emergency]", "[data-team-routes]", "[data-force-routes]", "[data-qr] svg",
                 "[data-meetings]", "[data-languages]"):  # fmt: skip
        expect(poster.locator(part)).to_be_visible()
        box = poster.locator(part).bounding_box()
        assert box is not None and box["y"] + box["height"] <= sheet["y"] + sheet["height"] + 0.5, part  # not cut
    expect(poster.locator("[data-team-routes]")).to_contain_text("020 7946 0123")
    expect(poster.locator("[data-emergency]")).to_contain_text("999")

    screenshot = Image.open(io.BytesIO(page.screenshot(full_page=True)))
    assert qr_codes(screenshot) == [live_server.url(f"/wards/{SAMPLE_WARD}")]


@pytest.mark.parametrize("ward", [SAMPLE_WARD, HOSTILE_WARD])
def test_chromium_prints_a_poster_on_exactly_one_a4_page_with_a_readable_qr_code(page: Page, live_server, ward) -> None:
    page.goto(f"/wards/{ward}/poster")

    pdf = page.pdf(prefer_css_page_size=True)

    pages = PdfReader(io.BytesIO(pdf)).pages
    assert [(round(p.mediabox.width), round(p.mediabox.height)) for p in pages] == [A4_POINTS]
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=2).to_pil()
    finally:
        document.close()
    assert qr_codes(image) == [live_server.url(f"/wards/{ward}")]
