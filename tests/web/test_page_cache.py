"""Ward pages are rendered once per worker and team, validated by a strong ETag, and cacheable in public."""

from __future__ import annotations

import gzip

import brotli
import pytest
from flask import template_rendered

from finder import create_app
from finder.lookup.service import Lookup, load_forces
from finder.store import Store
from finder.store.models import ContactRoute, Team
from finder.teams.directory import TeamDirectory
from finder.web import services
from finder.web.pagecache import PAGE_MAX_AGE, PageCache
from tests.store.teamdata import NO_TEAM_WARD, SAMPLE_POSTCODE, SAMPLE_WARD, team_store


@pytest.fixture()
def store() -> Store:
    return team_store()


@pytest.fixture()
def app(geodata, store):
    """As served: pages kept 30 s; the team read afresh each time, so a change in the store shows at once."""
    app = create_app(
        {"ENV_NAME": "testing", "TEAM_CACHE_SECONDS": 30.0},
        lookup=Lookup(geodata, load_forces(), teams=TeamDirectory(store, geodata.wards)),
    )
    return app


def rendered(app) -> list[str]:
    """The templates `app` renders from now on, as Flask's own signal reports them."""
    seen: list[str] = []
    template_rendered.connect(lambda sender, template, context, **extra: seen.append(template.name), app, weak=False)
    return seen


@pytest.fixture()
def renders(app) -> list[str]:
    return rendered(app)


def test_a_ward_page_carries_a_strong_etag_and_a_short_public_cache_lifetime(app):
    response = app.test_client().get(f"/wards/{SAMPLE_WARD}")
    assert response.status_code == 200
    assert response.headers["ETag"].startswith('"') and not response.headers["ETag"].startswith("W/")
    assert response.headers["Cache-Control"] == f"public, max-age={PAGE_MAX_AGE}"


def test_a_second_view_of_a_ward_is_not_rendered_again_and_has_the_same_bytes(app, renders):
    client = app.test_client()
    first = client.get(f"/wards/{SAMPLE_WARD}")
    second = client.get(f"/wards/{SAMPLE_WARD}")
    assert renders.count("result.html") == 1
    assert second.data == first.data and second.headers["ETag"] == first.headers["ETag"]


def test_if_none_match_gets_304_with_no_body_and_the_same_security_headers(app):
    client = app.test_client()
    first = client.get(f"/wards/{SAMPLE_WARD}")
    again = client.get(f"/wards/{SAMPLE_WARD}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    for name in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Cache-Control"):
        assert again.headers[name] == first.headers[name]


def test_a_compressed_pages_etag_also_gets_304(app):
    client = app.test_client()
    first = client.get(f"/wards/{SAMPLE_WARD}", headers={"Accept-Encoding": "br"})
    assert first.headers["Content-Encoding"] == "br" and first.headers["ETag"].endswith(':br"')
    again = client.get(
        f"/wards/{SAMPLE_WARD}", headers={"Accept-Encoding": "br", "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304 and again.headers["ETag"] == first.headers["ETag"]


def test_a_kept_page_is_compressed_once_per_encoding_and_decompresses_to_the_page(app):
    client = app.test_client()
    plain = client.get(f"/wards/{SAMPLE_WARD}")
    brotli_page = client.get(f"/wards/{SAMPLE_WARD}", headers={"Accept-Encoding": "gzip, deflate, br"})
    gzip_page = client.get(f"/wards/{SAMPLE_WARD}", headers={"Accept-Encoding": "gzip"})
    assert brotli.decompress(brotli_page.data) == plain.data == gzip.decompress(gzip_page.data)
    assert gzip_page.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
    for response in (plain, brotli_page, gzip_page):
        assert "Accept-Encoding" in response.headers["Vary"]
    (kept,) = services(app).pages.pages.values()
    assert set(kept.encoded) == {"br", "gzip"}
    again = client.get(f"/wards/{SAMPLE_WARD}", headers={"Accept-Encoding": "br"})
    assert again.data == brotli_page.data and again.headers["ETag"] == brotli_page.headers["ETag"]


def test_a_change_to_the_team_gives_a_new_page_and_a_new_etag(app, store):
    client = app.test_client()
    before = client.get(f"/wards/{SAMPLE_WARD}")
    with store.session() as session:
        team = session.query(Team).filter_by(ward_code=SAMPLE_WARD).one()
        route = session.query(ContactRoute).filter_by(team_id=team.id, kind="phone", officer_id=None).first()
        route.value = "020 7946 0999"
    after = client.get(f"/wards/{SAMPLE_WARD}")
    assert 'href="tel:02079460999"' in after.get_data(as_text=True)
    assert after.headers["ETag"] != before.headers["ETag"]
    stale = client.get(f"/wards/{SAMPLE_WARD}", headers={"If-None-Match": before.headers["ETag"]})
    assert stale.status_code == 200


def test_from_location_gets_its_own_page_not_the_plain_wards(app, renders):
    client = app.test_client()
    plain = client.get(f"/wards/{SAMPLE_WARD}")
    located = client.get(f"/wards/{SAMPLE_WARD}", query_string={"from": "location"})
    assert located.data != plain.data and located.headers["ETag"] != plain.headers["ETag"]
    assert renders.count("result.html") == 2


def test_a_page_whose_team_cannot_be_read_is_neither_kept_nor_cacheable(geodata, tmp_path):
    broken = Store(f"sqlite:///{tmp_path / 'never-migrated.db'}")  # no tables: every query fails
    unreadable = Lookup(geodata, load_forces(), teams=TeamDirectory(broken, geodata.wards, backoff_seconds=0))
    app = create_app({"ENV_NAME": "testing", "TEAM_CACHE_SECONDS": 30.0}, lookup=unreadable)
    renders = rendered(app)
    client = app.test_client()
    for _ in range(2):
        response = client.get(f"/wards/{SAMPLE_WARD}")
        assert response.status_code == 200 and "We could not load the details" in response.get_data(as_text=True)
        assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers
    assert renders.count("result.html") == 2 and len(services(app).pages) == 0


def test_a_postcode_result_is_never_kept_nor_public(app, renders):
    client = app.test_client()
    for _ in range(2):
        response = client.get("/search", query_string={"postcode": SAMPLE_POSTCODE})
        assert response.status_code == 200 and "public" not in response.headers.get("Cache-Control", "")
    assert renders.count("result.html") == 2 and len(services(app).pages) == 0


def test_a_ward_without_a_team_is_kept_too(app, renders):
    client = app.test_client()
    client.get(f"/wards/{NO_TEAM_WARD}")
    client.get(f"/wards/{NO_TEAM_WARD}")
    assert renders.count("result.html") == 1


def test_with_no_team_cache_every_view_is_rendered_but_still_validated(geodata, store):
    lookup = Lookup(geodata, load_forces(), teams=TeamDirectory(store, geodata.wards))
    app = create_app({"ENV_NAME": "testing"}, lookup=lookup)  # testing keeps nothing (TEAM_CACHE_SECONDS 0)
    renders = rendered(app)
    client = app.test_client()
    first = client.get(f"/wards/{SAMPLE_WARD}")
    assert client.get(f"/wards/{SAMPLE_WARD}", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert renders.count("result.html") == 2


def test_the_cache_is_bounded_and_the_least_recently_used_page_goes_first():
    cache = PageCache(keep=True, maxsize=2)
    rendered: list[str] = []

    def render(text: str):
        return lambda: rendered.append(text) or text

    assert cache.get("a", render("a")) == cache.get("a", render("a"))
    cache.get("b", render("b"))
    cache.get("a", render("a"))  # a is now the most recently used
    cache.get("c", render("c"))  # so b goes
    assert len(cache) == 2 and rendered == ["a", "b", "c"]
    cache.get("a", render("a"))
    cache.get("b", render("b"))
    assert rendered == ["a", "b", "c", "b"]


def test_each_language_gets_its_own_page_and_the_answer_varies_by_accept_language(app):
    client = app.test_client()
    english = client.get(f"/wards/{SAMPLE_WARD}")
    polish = client.get(f"/wards/{SAMPLE_WARD}", headers={"Accept-Language": "pl"})
    chosen = client.get(f"/wards/{SAMPLE_WARD}", query_string={"lang": "pl"})  # its links carry ?lang=pl
    assert len({english.headers["ETag"], polish.headers["ETag"], chosen.headers["ETag"]}) == 3
    assert 'lang="pl"' in polish.get_data(as_text=True) and "lang=pl" in chosen.get_data(as_text=True)
    assert "Accept-Language" in polish.headers["Vary"]
    unknown = client.get(f"/wards/{SAMPLE_WARD}", query_string={"lang": "xx"})  # ignored: English, kept once
    assert unknown.headers["ETag"] == english.headers["ETag"]


def test_lang_in_capitals_shares_the_page_of_lang_in_lower_case_not_the_browsers_choice(app):
    client = app.test_client()
    browser = client.get(f"/wards/{SAMPLE_WARD}", headers={"Accept-Language": "pl"})  # kept first: no ?lang= links
    shouted = client.get(f"/wards/{SAMPLE_WARD}", query_string={"lang": "PL"})
    chosen = client.get(f"/wards/{SAMPLE_WARD}", query_string={"lang": "pl"})
    assert shouted.headers["ETag"] == chosen.headers["ETag"] != browser.headers["ETag"]
    assert "lang=pl" in shouted.get_data(as_text=True)
