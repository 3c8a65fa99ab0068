"""Security, framing, CORS, caching and rate-limit headers, surface by surface."""

from __future__ import annotations

import os
import re
import time
from html.parser import HTMLParser

import pytest
from limits import RateLimitItemPerDay, RateLimitItemPerMinute, RateLimitItemPerSecond

from finder import create_app
from finder.lookup.service import Lookup
from finder.web.limits import parse_limits
from finder.web.security import parse_ancestors, tiles_source

PAGES = [
    "/",
    "/search?postcode=SW1A1AA",
    "/search?postcode=nonsense",
    "/search?postcode=NW1",
    "/wards/E05013806",
    "/about",
    "/embed/build",
    "/no-such-page",
]
EMBED_PAGES = [
    "/embed",
    "/embed/search?postcode=SW1A1AA",
    "/embed/search?postcode=NW1",
    "/embed/search?postcode=SW1A1AA&borough=E09000007",
    "/embed/wards/E05013806",
    "/embed/wards/E05999999",
    "/embed?accent=red",
]
API_GETS = ["/api/v1/postcodes/SW1A1AA", "/api/v1/wards/E05013806", "/api/v1/openapi.json", "/api/v1/outcodes/SE1"]


def make_app(finder_lookup: Lookup, **config):
    app = create_app({"ENV_NAME": "testing", "SECRET_KEY": "test only", **config}, lookup=finder_lookup)
    return app


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in (part.strip() for part in policy.split(";")) if d}


class InlineCode(HTMLParser):
    """Inline scripts, event-handler attributes and style attributes: none may appear."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append(f"inline <script> in {tag}")
        self.found += [f"{name} on <{tag}>" for name in names if name.startswith("on") or name == "style"]


# --- every page ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES + EMBED_PAGES)
def test_every_page_has_a_strict_policy_with_no_inline_script(client, path) -> None:
    response = client.get(path)
    policy = directives(response)

    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"].startswith("'self'")
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'" and policy["form-action"] == "'self'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert InlineCode(response.get_data(as_text=True)).found == []


@pytest.mark.parametrize("path", PAGES + EMBED_PAGES + API_GETS + ["/static/embed.js"])
def test_every_response_carries_the_standard_security_headers(client, path) -> None:
    with client.get(path) as response:
        headers = response.headers

    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "geolocation=(self)" in headers["Permissions-Policy"]  # "use my location" on the home page
    assert "camera=()" in headers["Permissions-Policy"] and "microphone=()" in headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in headers  # production only


@pytest.mark.parametrize("path", PAGES)
def test_pages_other_than_the_embed_refuse_to_be_framed_and_are_isolated(client, path) -> None:
    response = client.get(path)

    assert directives(response)["frame-ancestors"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"


@pytest.mark.parametrize("path", EMBED_PAGES)
def test_the_embed_may_be_framed_by_the_allow_list_and_by_the_finder_itself(client, path) -> None:
    response = client.get(path)

    assert directives(response)["frame-ancestors"] == "'self' https: http://127.0.0.1:* http://localhost:*"
    assert "X-Frame-Options" not in response.headers  # it cannot express an allow-list
    assert "Cross-Origin-Opener-Policy" not in response.headers
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"


def test_in_production_any_https_site_may_embed_by_default_and_browsers_are_told_to_keep_to_https(
    finder_lookup: Lookup,
) -> None:
    assert "FINDER_EMBED_ANCESTORS" not in os.environ, "this test checks the default allow-list"
    client = make_app(finder_lookup, ENV_NAME="production", PUBLIC_URL="https://finder.example.org").test_client()

    embed, home = client.get("/embed"), client.get("/")

    assert directives(embed)["frame-ancestors"] == "'self' https:"
    assert directives(home)["frame-ancestors"] == "'none'"
    assert home.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert directives(home)["img-src"] == "'self' data: https://tile.openstreetmap.org"  # the default tile server


def test_the_allow_list_is_configurable(finder_lookup: Lookup) -> None:
    app = make_app(finder_lookup, EMBED_ANCESTORS="https://*.camden.gov.uk https://www.westminster.gov.uk")

    response = app.test_client().get("/embed")

    assert directives(response)["frame-ancestors"] == "'self' https://*.camden.gov.uk https://www.westminster.gov.uk"


def test_none_in_the_allow_list_means_nobody_may_frame_the_embed(finder_lookup: Lookup) -> None:
    app = make_app(finder_lookup, EMBED_ANCESTORS="'none'")

    assert directives(app.test_client().get("/embed"))["frame-ancestors"] == "'none'"


@pytest.mark.parametrize(
    "allow_list",
    ["", "https:; script-src *", "'unsafe-inline'", "https://a.example,https://b.example", "'none' https:", "*"],
)
def test_a_bad_allow_list_stops_the_app_with_a_clear_message(finder_lookup: Lookup, allow_list: str) -> None:
    with pytest.raises(ValueError, match="FINDER_EMBED_ANCESTORS"):
        make_app(finder_lookup, EMBED_ANCESTORS=allow_list)


def test_allow_list_entries_may_be_schemes_hosts_wildcards_and_ports() -> None:
    sources = "https: https://*.example.gov.uk http://127.0.0.1:* https://council.example:8443 'self'"

    assert parse_ancestors(sources) == tuple(sources.split())


def test_the_tile_server_is_the_only_outside_origin_a_page_may_load_images_from(finder_lookup: Lookup) -> None:
    app = make_app(finder_lookup, TILES_URL="https://{s}.tiles.example.org/{z}/{x}/{y}.png")

    policy = directives(app.test_client().get("/search?postcode=SW1A1AA"))

    assert policy["img-src"] == "'self' data: https://*.tiles.example.org"  # data: for Leaflet's blank tile


def test_without_a_tile_server_images_come_only_from_the_finder(client) -> None:
    assert directives(client.get("/"))["img-src"] == "'self'"


@pytest.mark.parametrize(
    ("url", "source"),
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png?key=abc", "https://*.tile.example.org"),
        ("http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png", "http://127.0.0.1:8080"),
        ("", None),
    ],
)
def test_a_tile_url_becomes_its_origin_in_the_policy(url: str, source: str | None) -> None:
    assert tiles_source(url) == source


def test_a_tile_url_the_policy_cannot_express_stops_the_app(finder_lookup: Lookup) -> None:
    with pytest.raises(ValueError, match="FINDER_TILES_URL"):
        make_app(finder_lookup, TILES_URL="https://tiles-{s}.example.org/{z}/{x}/{y}.png")


def test_each_inline_style_nonce_is_fresh_and_named_in_that_responses_policy(client) -> None:
    nonces = []
    for _ in range(2):
        response = client.get("/embed?accent=%23d4351c")
        nonce = re.search(r'<style nonce="([^"]+)">', response.get_data(as_text=True)).group(1)
        assert directives(response)["style-src"] == f"'self' 'nonce-{nonce}'"
        nonces.append(nonce)
    assert nonces[0] != nonces[1] and len(nonces[0]) >= 16


def test_the_host_script_may_be_loaded_by_other_sites(client) -> None:
    with client.get("/static/embed.js") as response:
        assert response.status_code == 200 and response.mimetype == "text/javascript"
        assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"


def test_a_method_that_is_not_allowed_says_which_are(client) -> None:
    api, page = client.delete("/api/v1/health"), client.post("/about")

    assert api.status_code == 405 and set(api.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert page.status_code == 405 and "GET" in page.headers["Allow"]


# --- the API: CORS and caching -------------------------------------------------------------------


@pytest.mark.parametrize("path", [*API_GETS, "/api/v1/postcodes/nonsense", "/api/v1/wards/E05999999"])
def test_api_gets_may_be_read_by_any_site_without_credentials(client, path) -> None:
    response = client.get(path, headers={"Origin": "https://www.camden.gov.uk"})

    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    exposed = response.headers["Access-Control-Expose-Headers"].split(", ")
    assert {"ETag", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"} <= set(exposed)
    assert directives(response) == {"default-src": "'none'", "frame-ancestors": "'none'"}


def test_a_preflight_for_a_get_allows_if_none_match(client) -> None:
    response = client.options(
        "/api/v1/postcodes/SW1A1AA",
        headers={
            "Origin": "https://www.camden.gov.uk",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "GET, HEAD"
    assert response.headers["Access-Control-Allow-Headers"] == "If-None-Match"
    assert "RateLimit-Limit" not in response.headers  # preflights are not counted


def test_the_batch_post_is_not_opened_to_other_sites(client) -> None:
    post = client.post("/api/v1/postcodes", json={"postcodes": ["SW1A 1AA"]}, headers={"Origin": "https://a.example"})
    preflight = client.options("/api/v1/postcodes", headers={"Origin": "https://a.example"})

    assert post.status_code == 200 and "Access-Control-Allow-Origin" not in post.headers
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert post.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", API_GETS)
def test_an_answer_carries_an_etag_and_asking_again_with_it_gets_304(client, path) -> None:
    first = client.get(path)
    etag = first.headers["ETag"]

    again = client.get(path, headers={"If-None-Match": etag})

    kept = "private, max-age=300" if path.startswith("/api/v1/postcodes/") else "public, max-age=300"
    assert first.status_code == 200 and re.fullmatch(r'"[0-9a-f]{40}"', etag)
    assert first.headers["Cache-Control"] == kept
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag and again.headers["Cache-Control"] == kept
    assert again.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["/api/v1/postcodes/SW1A1AA", "/api/v1/locate?lat=51.501009&lon=-0.141588"])
def test_a_postcode_or_point_answer_may_be_kept_by_the_browser_but_never_by_a_shared_cache(client, path) -> None:
    """A shared cache keyed by postcode or point would be a record of who searched what (issue 28)."""
    first = client.get(path)
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})

    assert first.status_code == 200 and again.status_code == 304
    for answer in (first, again):
        assert answer.headers["Cache-Control"] == "private, max-age=300"


def test_a_changed_answer_has_a_different_etag(client) -> None:
    one, other = client.get("/api/v1/postcodes/SW1A1AA"), client.get("/api/v1/postcodes/SW1A2AA")

    assert one.headers["ETag"] != other.headers["ETag"]
    assert client.get("/api/v1/postcodes/SW1A2AA", headers={"If-None-Match": one.headers["ETag"]}).status_code == 200


def test_a_head_request_gets_the_same_validators(client) -> None:
    get, head = client.get("/api/v1/wards/E05013806"), client.head("/api/v1/wards/E05013806")

    assert head.status_code == 200 and head.headers["ETag"] == get.headers["ETag"]


def test_the_cache_lifetime_is_configurable(finder_lookup: Lookup) -> None:
    app = make_app(finder_lookup, API_MAX_AGE=60)

    assert app.test_client().get("/api/v1/wards/E05013806").headers["Cache-Control"] == "public, max-age=60"


@pytest.mark.parametrize("path", ["/api/v1/postcodes/nonsense", "/api/v1/wards/E05999999", "/api/v1/health"])
def test_errors_and_the_health_check_are_never_cached(client, path) -> None:
    response = client.get(path)

    assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers


# --- the API: rate limits ------------------------------------------------------------------------


def test_each_answer_says_where_the_client_stands_and_past_the_limit_it_is_429(finder_lookup: Lookup) -> None:
    client = make_app(finder_lookup, RATE_LIMIT="3/minute").test_client()

    answers = [client.get("/api/v1/wards/E05013806") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a.headers["RateLimit-Limit"] for a in answers} == {"3"}
    assert {a.headers["RateLimit-Policy"] for a in answers} == {"3;w=60"}
    assert all(1 <= int(a.headers["RateLimit-Reset"]) <= 60 for a in answers)
    refused = answers[-1]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.get_json() == {
        "error": {
            "code": "rate_limited",
            "message": f"Too many requests: this API allows 3 per minute from each client. "
            f"Try again in {refused.headers['Retry-After']} seconds.",
        }
    }
    assert refused.headers["Cache-Control"] == "no-store"
    assert refused.headers["Access-Control-Allow-Origin"] == "*"  # so a page on another site can read it
    assert "Retry-After" not in answers[0].headers


def test_every_api_request_counts_against_the_same_limit_but_the_health_check_does_not(finder_lookup: Lookup) -> None:
    client = make_app(finder_lookup, RATE_LIMIT="2/minute").test_client()

    client.get("/api/v1/postcodes/SW1A1AA")
    client.post("/api/v1/postcodes", json={"postcodes": []})
    health = client.get("/api/v1/health")
    unknown = client.get("/api/v1/nothing-here")

    assert health.status_code == 200 and "RateLimit-Limit" not in health.headers
    assert unknown.status_code == 429


def test_clients_are_counted_separately(finder_lookup: Lookup) -> None:
    client = make_app(finder_lookup, RATE_LIMIT="1/minute").test_client()

    first = client.get("/api/v1/wards/E05013806", environ_base={"REMOTE_ADDR": "192.0.2.1"})
    second = client.get("/api/v1/wards/E05013806", environ_base={"REMOTE_ADDR": "192.0.2.1"})
    other = client.get("/api/v1/wards/E05013806", environ_base={"REMOTE_ADDR": "192.0.2.2"})

    assert (first.status_code, second.status_code, other.status_code) == (200, 429, 200)


def test_behind_a_proxy_clients_are_told_apart_by_the_address_it_forwards(finder_lookup: Lookup) -> None:
    client = make_app(finder_lookup, RATE_LIMIT="1/minute", PROXIES=1).test_client()

    def get(address: str) -> int:
        return client.get("/api/v1/wards/E05013806", headers={"X-Forwarded-For": address}).status_code

    assert (get("192.0.2.1"), get("192.0.2.1"), get("192.0.2.2")) == (200, 429, 200)


def test_several_limits_apply_together_and_the_headers_describe_the_nearest_to_running_out(
    finder_lookup: Lookup,
) -> None:
    client = make_app(finder_lookup, RATE_LIMIT="100/minute; 2/hour").test_client()

    answers = [client.get("/api/v1/wards/E05013806") for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[1].headers["RateLimit-Limit"] == "2" and answers[1].headers["RateLimit-Remaining"] == "0"
    assert answers[0].headers["RateLimit-Policy"] == "100;w=60, 2;w=3600"
    assert "2 per hour" in answers[2].get_json()["error"]["message"]


def test_pages_are_not_rate_limited(finder_lookup: Lookup) -> None:
    client = make_app(finder_lookup, RATE_LIMIT="1/minute").test_client()

    assert [client.get("/search?postcode=SW1A1AA").status_code for _ in range(3)] == [200, 200, 200]


def test_limits_can_be_turned_off(finder_lookup: Lookup) -> None:
    client = make_app(finder_lookup, RATE_LIMIT="off").test_client()

    response = client.get("/api/v1/wards/E05013806")

    assert response.status_code == 200 and "RateLimit-Limit" not in response.headers


def test_a_bad_limit_stops_the_app_with_a_clear_message(finder_lookup: Lookup) -> None:
    with pytest.raises(ValueError, match="FINDER_RATE_LIMIT 'lots' is not a rate limit"):
        make_app(finder_lookup, RATE_LIMIT="lots")


def test_the_test_configuration_limits_too_high_to_trip_by_accident(app) -> None:
    assert app.config["RATE_LIMIT"] == "100000/minute"


def test_a_clients_window_opens_with_its_first_request_and_a_new_one_follows_it(finder_lookup: Lookup) -> None:
    client = make_app(finder_lookup, RATE_LIMIT="2/2 seconds").test_client()
    time.sleep(1.5 - time.time() % 1)  # start mid-second: a window aligned to the clock would end at once

    answers = [client.get("/api/v1/wards/E05013806").status_code for _ in range(3)]
    time.sleep(1)  # a clock-aligned window would have reset here
    assert [*answers, client.get("/api/v1/wards/E05013806").status_code] == [200, 200, 429, 429]
    time.sleep(1.1)
    renewed = client.get("/api/v1/wards/E05013806")
    assert renewed.status_code == 200 and renewed.headers["RateLimit-Remaining"] == "1"


@pytest.mark.parametrize(
    "text, limits",
    [
        ("120/minute", [RateLimitItemPerMinute(120)]),
        ("1000 per day; 10/5 seconds", [RateLimitItemPerDay(1000), RateLimitItemPerSecond(10, 5)]),
        ("off", []),
    ],
)
def test_limits_are_read_from_plain_words(text, limits) -> None:
    assert parse_limits(text) == limits


@pytest.mark.parametrize("text", ["lots", "0/minute", "5/fortnight", "120/0 minutes", "5/minute; nope"])
def test_a_limit_that_cannot_be_read_is_refused(text) -> None:
    with pytest.raises(ValueError):
        parse_limits(text)


def test_every_answer_from_a_url_holding_a_token_sends_one_referrer_policy_no_referrer(tmp_path, geodata):
    from tests.support.staff import make_user, post, sign_in, staff_app
    from tests.support.stores import new_store

    store = new_store("sqlite", tmp_path)
    app = staff_app(store, geodata)
    admin = app.test_client()
    sign_in(admin, make_user(store, "admin@example.org", "site_admin"))
    page = post(
        admin, "/admin/users", {"email": "ed@example.org", "name": "Ed", "role": "ward_editor", "wards": "E05013806"}
    )
    token = re.search(r"/admin/invitation/([^\"<\s]+)\"", page.get_data(as_text=True)).group(1)
    newcomer = app.test_client()
    answers = {
        "the invitation": newcomer.get(f"/admin/invitation/{token}"),
        "a password too short": post(newcomer, f"/admin/invitation/{token}", {"password": "x", "confirm": "x"}),
        "a form without its CSRF token": newcomer.post(f"/admin/invitation/{token}", data={"password": "x"}),
        "the password set (a redirect)": post(
            newcomer,
            f"/admin/invitation/{token}",
            {"password": "a long passphrase here", "confirm": "a long passphrase here"},
        ),
        "the link used again": newcomer.get(f"/admin/invitation/{token}"),
        "a reset link that is no link": newcomer.get("/admin/reset/not-a-token"),
    }
    assert answers["the password set (a redirect)"].status_code == 302
    for what, response in answers.items():
        assert response.headers.getlist("Referrer-Policy") == ["no-referrer"], what
    for path in ("/", "/admin/sign-in", "/nowhere", "/api/v1/health"):
        assert app.test_client().get(path).headers.getlist("Referrer-Policy") == ["strict-origin-when-cross-origin"], (
            path
        )
