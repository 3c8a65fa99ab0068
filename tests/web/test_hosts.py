"""The Host header: only trusted names are answered, and absolute URLs name FINDER_PUBLIC_URL's host."""

from __future__ import annotations

import pytest

from finder import create_app
from finder.config import host_names
from finder.lookup.service import Lookup
from tests.store.teamdata import SAMPLE_WARD, team_lookup, team_store

PUBLIC = "https://finder.example.org"
PAGES = ["/", "/search?postcode=SW1A1AA", "/wards/E05013806", "/embed", "/embed/build", "/about", "/no-such-page"]
API = ["/api/v1/postcodes/SW1A1AA", "/api/v1/wards/E05013806", "/api/v1/health", "/api/v1/nothing-here"]
BAD_HOSTS = [
    "evil.example",
    "a" * 64 + ".example",  # a DNS label over 63 characters: no URL can be built for it
    "..",
    "a b",
    "localhost:99999",
    "localhost.evil.example",
    "evil.example/localhost",
]


def make_app(lookup: Lookup, **config):
    app = create_app({"ENV_NAME": "testing", "SECRET_KEY": "test only", **config}, lookup=lookup)
    return app


@pytest.fixture(scope="module")
def teams_lookup(geodata) -> Lookup:
    return team_lookup(geodata, team_store())


@pytest.mark.parametrize("host", BAD_HOSTS)
@pytest.mark.parametrize("path", PAGES)
def test_a_page_asked_for_by_another_host_is_a_plain_400_that_no_cache_keeps(client, path, host) -> None:
    response = client.get(path, headers={"Host": host})

    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == (
        "This finder does not answer to the host name this request was sent to. Use the finder's own address.\n"
    )
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("host", BAD_HOSTS)
@pytest.mark.parametrize("path", API)
def test_an_api_request_for_another_host_is_a_json_400(client, path, host) -> None:
    response = client.get(path, headers={"Host": host})

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "unknown_host"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_label_too_long_under_a_trusted_domain_is_a_400_too(finder_lookup: Lookup) -> None:
    client = make_app(finder_lookup, TRUSTED_HOSTS=[".example.org"]).test_client()

    page = client.get("/", headers={"Host": "a" * 64 + ".example.org"})
    api = client.get("/api/v1/wards/E05013806", headers={"Host": "a" * 64 + ".example.org"})

    assert page.status_code == 400 and page.mimetype == "text/plain"
    assert api.status_code == 400 and api.get_json()["error"]["code"] == "unknown_host"
    assert client.get("/", headers={"Host": "finder.example.org"}).status_code == 200


@pytest.mark.parametrize("env", ["development", "testing"])
@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.0.0.1:5000", "localhost:8080"])
def test_development_and_testing_answer_the_local_addresses(finder_lookup: Lookup, env, host) -> None:
    client = make_app(finder_lookup, ENV_NAME=env).test_client()

    assert client.get("/search?postcode=SW1A1AA", headers={"Host": host}).status_code == 200
    assert client.get("/api/v1/wards/E05013806", headers={"Host": host}).status_code == 200


def test_more_trusted_names_are_read_from_spaces_or_commas() -> None:
    assert host_names(" Finder.Example.org, health.internal  .example.net,") == (
        "finder.example.org",
        "health.internal",
        ".example.net",
    )


# --- absolute URLs -------------------------------------------------------------------------------


def test_with_a_public_url_every_absolute_url_names_it_whatever_the_host_asked(teams_lookup) -> None:
    client = make_app(teams_lookup, PUBLIC_URL=PUBLIC + "/").test_client()
    local = {"base_url": "http://localhost"}  # a trusted name that is not the public one

    vcard = client.get(f"/wards/{SAMPLE_WARD}/team.vcf", **local)
    feed = client.get(f"/wards/{SAMPLE_WARD}/calendar.ics", **local)
    page = client.get(f"/wards/{SAMPLE_WARD}", **local).get_data(as_text=True)
    builder = client.get("/embed/build", **local).get_data(as_text=True)

    assert f"URL:{PUBLIC}/wards/{SAMPLE_WARD}\r\n" in vcard.get_data(as_text=True)
    assert f"URL:{PUBLIC}/wards/{SAMPLE_WARD}\r\n" in feed.get_data(as_text=True)
    assert f'<a href="{PUBLIC}/wards/{SAMPLE_WARD}">' in page
    assert f"&lt;script src=&#34;{PUBLIC}/static/embed.js&#34; async&gt;" in builder
    assert "localhost" not in vcard.get_data(as_text=True) + feed.get_data(as_text=True)
    assert "Host" not in vary(vcard)  # the body is the same whichever trusted name was asked


def test_the_public_url_is_answered_and_other_names_are_not(finder_lookup: Lookup) -> None:
    client = make_app(finder_lookup, ENV_NAME="production", PUBLIC_URL=PUBLIC).test_client()

    assert client.get("/", headers={"Host": "finder.example.org"}).status_code == 200
    assert client.get("/", headers={"Host": "finder.example.org:443"}).status_code == 200
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"Host": "localhost"}).status_code == 400  # production trusts no local name


def test_production_answers_the_extra_trusted_names_too(finder_lookup: Lookup) -> None:
    app = make_app(finder_lookup, ENV_NAME="production", PUBLIC_URL=PUBLIC, TRUSTED_HOSTS=["10.0.0.5"])

    response = app.test_client().get("/api/v1/health", headers={"Host": "10.0.0.5:8000"})

    assert response.status_code == 200


def test_without_a_public_url_a_cached_export_names_the_requests_host_and_varies_by_it(teams_lookup) -> None:
    client = make_app(teams_lookup).test_client()

    vcard = client.get(f"/wards/{SAMPLE_WARD}/team.vcf", headers={"Host": "127.0.0.1:5000"})

    assert f"URL:http://127.0.0.1:5000/wards/{SAMPLE_WARD}\r\n" in vcard.get_data(as_text=True)
    assert vcard.headers["Cache-Control"] == "public, max-age=300"
    assert "Host" in vary(vcard)


def test_production_will_not_start_without_a_public_url(finder_lookup: Lookup) -> None:
    with pytest.raises(ValueError, match="FINDER_PUBLIC_URL must be set in production"):
        make_app(finder_lookup, ENV_NAME="production", PUBLIC_URL="")


@pytest.mark.parametrize(
    "url",
    [
        "finder.example.org",
        "https://finder.example.org/finder",
        "https://finder.example.org/?x=1",
        "ftp://finder.example.org",
        "https://user:pass@finder.example.org",
        "https://finder.example.org:0",
        "https://finder.example.org:99999",
        "https://" + "a" * 64 + ".example.org",
        "https://finder example.org",
    ],
)
def test_a_public_url_that_is_not_an_origin_stops_the_app_with_a_clear_message(finder_lookup: Lookup, url) -> None:
    with pytest.raises(ValueError, match="is not the finder's public origin"):
        make_app(finder_lookup, ENV_NAME="production", PUBLIC_URL=url)


def vary(response) -> set[str]:
    """The headers a response says it varies by (compression adds Accept-Encoding)."""
    return {name.strip() for name in response.headers.get("Vary", "").split(",") if name.strip()}
