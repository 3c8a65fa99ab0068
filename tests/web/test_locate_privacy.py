"""A point lookup that fails (outside London, on the river, not a point at all) says so without carrying the
resident's location into any further address: its language links go to each language's home page."""

from __future__ import annotations

import re
from html import unescape

import pytest

POINTS = {
    "outside London": ("52.612345", "-1.131234", 404),
    "on the Thames": ("51.500812", "-0.121834", 404),
    "beyond the map": ("91.123456", "0.123456", 400),
    "not numbers": ("fifty-one", "minus-nought", 400),
}


@pytest.mark.parametrize(("lat", "lon", "status"), POINTS.values(), ids=POINTS.keys())
@pytest.mark.parametrize("lang", ["", "pl", "ar"])
def test_a_failed_point_lookup_links_every_language_to_its_home_page_without_the_point(client, lat, lon, status, lang):
    query = f"lat={lat}&lon={lon}" + (f"&lang={lang}" if lang else "")
    response = client.get(f"/locate?{query}")
    assert response.status_code == status
    html = response.get_data(as_text=True)
    links = {unescape(href) for href in re.findall(r'<a href="([^"]*)" lang="(?:en|pl|bn|ar)" hreflang', html)}
    assert links == {"/?lang=en", "/?lang=pl", "/?lang=bn", "/?lang=ar"}
    addresses = " ".join(unescape(a) for a in re.findall(r'(?:href|action|src)="([^"]*)"', html))
    assert "lat=" not in addresses and "lon=" not in addresses
    assert lat not in html and lon not in html
