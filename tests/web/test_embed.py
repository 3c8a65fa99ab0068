"""The embeddable finder (/embed) and the "Embed this finder" page, through the test client.

Real app, real geodata. The browser tests (tests/browser/test_embed.py) show the same pages
working inside a frame on another origin.
"""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from finder import create_app
from finder.lookup.service import Lookup
from finder.web.contrast import WHITE, contrast

CAMDEN, WESTMINSTER, CITY = "E09000007", "E09000033", "E09000001"
ST_JAMESS = "E05013806"


class Elements(HTMLParser):
    """Every start tag and its attributes, in order."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


# --- the widget ----------------------------------------------------------------------------------


def test_the_widget_is_the_postcode_form_without_the_sites_header_and_footer(client) -> None:
    html = page(client, "/embed")

    assert '<base target="_top">' in html
    assert "site-header" not in html and "site-footer" not in html
    (form,) = Elements(html).all("form")
    assert form["action"] == "/embed/search" and form["target"] == "_self"
    assert 'for="postcode">Postcode</label>' in html
    assert "In an emergency, call" in html
    assert "Contains OS data" in html  # the licences' attribution travels with the data


def test_a_postcode_in_the_widget_shows_how_to_reach_the_team_a_map_and_a_link_to_the_rest(client) -> None:
    html = page(client, "/embed/search?postcode=sw1a1aa")

    assert "St James&#39;s" in html and "Westminster" in html
    assert 'aria-labelledby="reach-title"' in html and "How to reach your team" in html
    assert 'class="contact-routes"' in html and 'href="tel:101"' in html
    assert 'aria-labelledby="team-title"' not in html  # officers, meetings and the rest are on the full page
    assert f'href="/wards/{ST_JAMESS}" data-full-details' in html
    assert 'id="map_finder"' in html
    assert f'src="/maps/{ST_JAMESS}.js?v=' in html
    data = json.loads(unescape(re.search(r"data-map='([^']*)'", html).group(1)))
    assert data["point"] == [51.501009, -0.141588]  # the searched point reaches the page as JSON


def test_map_0_leaves_the_map_out(client) -> None:
    html = page(client, "/embed/search?postcode=SW1A1AA&map=0")

    assert "map_finder" not in html and "leaflet" not in html
    assert "St James&#39;s" in html


def test_links_that_leave_the_widget_open_in_the_top_window_and_its_own_links_stay_in_the_frame(client) -> None:
    html = page(client, "/embed/search?postcode=SW1A1AA")
    links = Elements(html).all("a")
    assert links

    for link in links:
        href, target = link["href"] or "", link.get("target")
        if urlsplit(href).path.startswith("/embed"):
            assert target == "_self", f"{href} should stay in the frame"
        elif not href.startswith("#"):
            assert target in (None, "_top"), f"{href} should open in the top window"
    assert any(link["href"] == f"/wards/{ST_JAMESS}" for link in links)


def test_the_options_travel_with_every_search_and_link_inside_the_widget(client) -> None:
    options = f"borough={WESTMINSTER}&accent=%23d4351c&map=0&parent=https://www.westminster.gov.uk"
    html = page(client, f"/embed/search?postcode=SW1A&{options}")
    elements = Elements(html)

    hidden = {i["name"]: i["value"] for i in elements.all("input") if i.get("type") == "hidden"}
    assert hidden == {
        "borough": WESTMINSTER,
        "accent": "#d4351c",
        "map": "0",
        "parent": "https://www.westminster.gov.uk",
    }
    inside = [a["href"] for a in elements.all("a") if (a["href"] or "").startswith("/embed/wards/")]
    assert inside
    for href in inside:
        assert parse_qs(urlsplit(href).query) == {k: [v] for k, v in hidden.items()}


def test_the_widget_tells_its_height_only_to_the_parent_origin_it_was_given(client) -> None:
    html = page(client, "/embed?parent=https://www.camden.gov.uk")

    assert 'data-parent-origin="https://www.camden.gov.uk"' in html
    assert re.search(r'<script src="/static/widget\.[0-9a-f]{12}\.js" defer></script>', html)  # fingerprinted


def test_a_postcode_outside_the_chosen_borough_is_sent_to_the_full_finder(client) -> None:
    html = page(client, f"/embed/search?postcode=SW1A+1AA&borough={CAMDEN}")

    assert "SW1A 1AA is outside Camden" in html
    assert "SW1A 1AA is in St James&#39;s ward, Westminster" in html
    (link,) = [a for a in Elements(html).all("a") if "data-outside-link" in a]
    assert link["href"] == "/search?postcode=SW1A+1AA" and link.get("target") is None  # <base target="_top">
    assert "See your team in Westminster on the full finder" in html


def test_a_postcode_inside_the_chosen_borough_is_answered_in_the_widget(client) -> None:
    html = page(client, f"/embed/search?postcode=NW1+2DB&borough={CAMDEN}")

    assert "St Pancras &amp; Somers Town" in html and "outside" not in html


def test_an_outward_code_across_boroughs_offers_only_the_wards_in_the_chosen_one(client, finder_lookup: Lookup) -> None:
    html = page(client, f"/embed/search?postcode=NW1&borough={CAMDEN}")

    offered = {
        urlsplit(a["href"]).path.rsplit("/", 1)[1] for a in Elements(html).all("a") if "/embed/wards/" in a["href"]
    }
    nw1 = finder_lookup.resolve(postcode="NW1")
    assert offered == {w.code for w, _ in nw1.outcode_wards if w.borough_code == CAMDEN}
    assert offered != {w.code for w, _ in nw1.outcode_wards}


def test_an_outward_code_wholly_outside_the_chosen_borough_links_to_the_full_finder(client) -> None:
    html = page(client, f"/embed/search?postcode=NW1&borough={CITY}")

    assert "NW1 is outside City of London" in html
    assert 'href="/search?postcode=NW1"' in html


def test_a_ward_chosen_in_the_widget_is_shown_there_and_limited_like_a_postcode(client) -> None:
    assert "Full details for St James" in page(client, f"/embed/wards/{ST_JAMESS}?borough={WESTMINSTER}")
    assert "is outside Camden" in page(client, f"/embed/wards/{ST_JAMESS}?borough={CAMDEN}")


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("postcode=SW1A", 200, None),
        ("postcode=SW1A+1A", 400, "Enter a full postcode, like SW1A 2AA"),
        ("postcode=", 400, "Enter a postcode, like SW1A 2AA"),
        ("postcode=E20+9ZZ", 404, "We could not find E20 9ZZ"),
        ("postcode=M1+1AE", 404, "outside"),
    ],
)
def test_search_errors_show_in_the_widget_with_the_form_and_the_right_status(client, query, status, message) -> None:
    html = page(client, f"/embed/search?{query}", status)

    if message:
        assert "There is a problem" in html and message in html
        assert 'action="/embed/search"' in html and "site-header" not in html


def test_an_unknown_ward_in_the_widget_is_a_404_inside_the_widget(client) -> None:
    response = client.get("/embed/wards/E05999999")

    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "We do not know that ward" in html and "site-header" not in html
    assert "frame-ancestors 'self' https:" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("borough=E09999999", "borough=E09999999 is not a London borough code"),
        ("borough=Camden", "borough=Camden is not a London borough code"),
        ("borough=E05013806", "is not a London borough code"),
        ("lang=cy", "lang=cy is not available. Use one of: en, pl, bn, ar."),
        ("accent=red", "accent must be a hex colour like #1d70b8"),
        ("accent=%2312345", "accent must be a hex colour"),
        ("accent=%23fff;}body{display:none", "accent must be a hex colour"),
        ("map=no", "map must be 0 (no map) or 1"),
        ("parent=javascript:alert(1)", "parent must be the origin of the page"),
        ("parent=https://council.example/page", "parent must be the origin of the page"),
        ("parent=https://user@council.example", "parent must be the origin of the page"),
    ],
)
@pytest.mark.parametrize("start", ["/embed?", "/embed/search?postcode=SW1A1AA&", f"/embed/wards/{ST_JAMESS}?"])
def test_a_bad_option_is_refused_with_a_message_that_says_how_to_fix_it(client, start, query, message) -> None:
    response = client.get(start + query)
    html = response.get_data(as_text=True)

    assert response.status_code == 400
    assert message in html.replace("&#39;", "'")
    assert 'href="/embed/build"' in html
    assert "display:none" not in html and "javascript:" not in html  # never reflected


def test_empty_options_mean_the_defaults(client) -> None:
    html = page(client, "/embed?borough=&lang=&accent=&map=&parent=")

    assert not [i for i in Elements(html).all("input") if i.get("type") == "hidden"]


def test_option_values_are_read_in_any_case(client) -> None:
    html = page(client, "/embed?borough=e09000033&lang=EN&accent=%23D4351C")

    assert "in Westminster" in html and '<html lang="en" dir="ltr">' in html and "--finder-accent: #d4351c" in html


@pytest.mark.parametrize(
    ("accent", "text"), [("%23ffdd00", "#0b0c0c"), ("%231d1d1d", "#ffffff"), ("%23fff", "#0b0c0c")]
)
def test_the_accent_colour_is_set_with_button_text_that_stays_readable(client, accent, text) -> None:
    response = client.get(f"/embed?accent={accent}")
    html = response.get_data(as_text=True)

    nonce = re.search(r'<style nonce="([^"]+)">:root \{ --finder-accent: #\w+; --finder-accent-text: (#\w+);', html)
    assert nonce and nonce.group(2) == text
    assert f"'nonce-{nonce.group(1)}'" in response.headers["Content-Security-Policy"]


def test_the_default_accent_needs_no_inline_style_at_all(client) -> None:
    response = client.get("/embed?accent=%231d70b8")

    assert "<style" not in response.get_data(as_text=True)
    assert "nonce" not in response.headers["Content-Security-Policy"]


# --- "Embed this finder" -------------------------------------------------------------------------


def test_the_builder_offers_every_borough_and_the_options(client) -> None:
    html = page(client, "/embed/build")
    elements = Elements(html)

    boroughs = [o["value"] for o in elements.all("option") if (o.get("value") or "").startswith("E09")]
    assert len(boroughs) == 33 and WESTMINSTER in boroughs
    assert "All of London" in html
    select = html[html.index('id="lang"') : html.index("</select>", html.index('id="lang"'))]
    assert [o["value"] for o in Elements(select).all("option")] == ["", "en", "pl", "bn", "ar"]  # "": the browser's
    assert [i["value"] for i in elements.all("input") if i.get("name") == "map"] == ["1", "0"]
    assert "any site served over https" in html


def test_the_builder_writes_a_one_line_snippet_with_a_noscript_link_and_an_iframe(client) -> None:
    html = page(client, f"/embed/build?borough={WESTMINSTER}&accent=%23D4351C&map=0")

    snippet = re.search(r"data-snippet>(.*?)</textarea>", html, re.S).group(1)
    assert snippet == (
        "&lt;script src=&#34;http://localhost/static/embed.js&#34; data-borough=&#34;E09000033&#34; "
        "data-accent=&#34;#d4351c&#34; data-map=&#34;0&#34; async&gt;&lt;/script&gt;\n"
        "&lt;noscript&gt;&lt;a href=&#34;http://localhost/&#34;&gt;"
        "Find your local police team&lt;/a&gt;&lt;/noscript&gt;"
    )
    frame = re.search(r"data-iframe-code>(.*?)</textarea>", html, re.S).group(1)
    # The council's HTML has &amp; between the parameters, so the page shows &amp;amp;.
    assert "src=&#34;http://localhost/embed?borough=E09000033&amp;amp;accent=%23d4351c&amp;amp;map=0&#34;" in frame
    # The preview is the same snippet, live on the page.
    assert '<script src="http://localhost/static/embed.js" data-borough="E09000033"' in html


def test_the_builder_writes_the_public_address_when_one_is_configured(finder_lookup: Lookup) -> None:
    app = create_app({"ENV_NAME": "testing", "PUBLIC_URL": "https://finder.example.org/"}, lookup=finder_lookup)

    html = app.test_client().get("/embed/build", base_url="http://localhost").get_data(as_text=True)

    assert "&lt;script src=&#34;https://finder.example.org/static/embed.js&#34; async&gt;" in html
    assert '<script src="http://localhost/static/embed.js" async>' in html  # the preview runs from here


def test_the_builder_refuses_a_bad_option_and_says_why(client) -> None:
    html = page(client, "/embed/build?borough=E09000999", 400)

    assert "There is a problem" in html and "borough=E09000999 is not a London borough code" in html


def test_the_builder_is_linked_from_the_widget_errors_but_is_not_itself_embeddable(client) -> None:
    response = client.get("/embed/build")

    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_light_accent_keeps_its_buttons_but_links_are_darkened_to_read_and_the_builder_says_why(client) -> None:
    widget = page(client, "/embed?accent=%23ffcc00")
    style = re.search(r"<style nonce=\"[^\"]+\">([^<]+)</style>", widget).group(1)
    assert "--finder-accent: #ffcc00;" in style and "--finder-accent-text: #0b0c0c;" in style
    link = re.search(r"--finder-accent-link: (#[0-9a-f]{6});", style).group(1)
    assert link != "#ffcc00" and contrast(link, WHITE) >= 4.5

    builder = page(client, "/embed/build?accent=%23ffcc00")
    assert "#ffcc00 is too light to read as text on white (contrast 1.5:1; WCAG asks for 4.5:1)" in builder
    assert "data-accent-warning hidden" in page(client, "/embed/build?accent=%23d4351c")
