"""Fast on a phone: fingerprinted static files cached for a year, compressed files and pages, a favicon."""

from __future__ import annotations

import gzip
import json
import re
from html import unescape

import brotli

from finder import create_app
from finder.web.assets import fingerprinted

ST_JAMESS = "E05013806"


def static_url(html: str, name: str) -> str:
    stem, ext = name.rsplit(".", 1)
    return re.search(rf'"(/static/{re.escape(stem)}\.[0-9a-f]{{12}}\.{ext})"', html).group(1)


def test_a_fingerprint_is_twelve_hex_digits_of_the_content_before_the_extension() -> None:
    assert re.fullmatch(r"vendor/leaflet/leaflet\.[0-9a-f]{12}\.js", fingerprinted("vendor/leaflet/leaflet.js", b"x"))
    assert fingerprinted("a.css", b"one") != fingerprinted("a.css", b"two")


def test_pages_name_fingerprinted_files_which_are_cached_for_a_year(client) -> None:
    html = client.get(f"/wards/{ST_JAMESS}").get_data(as_text=True)

    for name in ("finder.css", "finder.js", "map.js", "vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css"):
        with client.get(static_url(html, name)) as response:
            assert response.status_code == 200
            assert "immutable" in response.headers["Cache-Control"]
            assert "max-age=315360000" in response.headers["Cache-Control"]
            assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_embed_script_keeps_its_plain_address_with_a_short_cache(client) -> None:
    with client.get("/static/embed.js") as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "max-age=300, public"
        assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"


def test_leaflet_is_sent_with_brotli_or_gzip_to_browsers_that_accept_them(client) -> None:
    html = client.get(f"/wards/{ST_JAMESS}").get_data(as_text=True)
    url = static_url(html, "vendor/leaflet/leaflet.js")
    with client.get(url) as plain:
        original = plain.get_data()
    with client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"}) as response:
        assert response.headers["Content-Encoding"] == "br"
        assert brotli.decompress(response.get_data()) == original
        assert len(response.get_data()) < len(original) / 3
    with client.get(url, headers={"Accept-Encoding": "gzip"}) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(response.get_data()) == original


def test_pages_are_compressed_and_small_json_answers_are_not(client) -> None:
    page = client.get(f"/wards/{ST_JAMESS}", headers={"Accept-Encoding": "gzip, br"})
    assert page.headers["Content-Encoding"] == "br"
    assert "St James" in brotli.decompress(page.get_data()).decode()
    assert "Accept-Encoding" in page.headers["Vary"]

    small = client.get("/api/v1/health", headers={"Accept-Encoding": "gzip, br"})
    assert small.status_code == 200 and "Content-Encoding" not in small.headers


def test_an_answer_says_once_that_it_varies_by_accept_encoding_whether_or_not_it_was_compressed(client) -> None:
    """Flask-Compress runs only for a client that accepts an encoding (issue 27); a shared cache must still learn
    that the plain answer is not for every client, and a page's own Vary is kept, not repeated."""
    for path in ("/api/v1/postcodes/SW1A1AA", f"/api/v1/wards/{ST_JAMESS}", f"/wards/{ST_JAMESS}", "/nowhere"):
        plain = client.get(path)
        packed = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert "Content-Encoding" not in plain.headers, path
        for response in (plain, packed):
            varies = [v.strip() for v in ", ".join(response.headers.getlist("Vary")).split(",")]
            assert varies.count("Accept-Encoding") == 1, (path, varies)
    assert client.get(f"/api/v1/wards/{ST_JAMESS}", headers={"Accept-Encoding": "gzip"}).headers["Content-Encoding"]


def test_a_compressed_api_answer_still_answers_its_etag_with_304(client) -> None:
    path = f"/api/v1/wards/{ST_JAMESS}"
    first = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip"
    again = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_the_favicon_is_served_at_the_root(client) -> None:
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.mimetype in ("image/x-icon", "image/vnd.microsoft.icon")
        assert response.get_data()[:4] == b"\x00\x00\x01\x00"


def test_the_map_carries_the_tile_credit_as_html_for_leaflet_and_the_map_script_does_not(finder_lookup) -> None:
    credit = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
    app = create_app(
        {"ENV_NAME": "testing", "TESTING": True, "TILES_URL": "https://tile.example.org/{z}/{x}/{y}.png"},
        lookup=finder_lookup,
    )
    app.config["TILES_ATTRIBUTION"] = credit
    client = app.test_client()

    html = client.get(f"/wards/{ST_JAMESS}").get_data(as_text=True)
    data = json.loads(unescape(re.search(r"data-map='([^']*)'", html).group(1)))
    assert data["tiles"] == {"url": "https://tile.example.org/{z}/{x}/{y}.png", "attribution": credit}
    script = client.get(f"/maps/{ST_JAMESS}.js").get_data(as_text=True)
    assert "OpenStreetMap" not in script and "tile.example.org" not in script
