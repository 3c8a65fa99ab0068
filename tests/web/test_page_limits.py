"""/search and a ward's poster.pdf are rate limited per client, like the API (issue 22, item 7)."""

from __future__ import annotations

import pytest

from finder import create_app
from finder.lookup.service import Lookup


def make_app(finder_lookup: Lookup, **config):
    app = create_app({"ENV_NAME": "testing", "SECRET_KEY": "test only", **config}, lookup=finder_lookup)
    return app


@pytest.mark.parametrize(
    "setting, path",
    [("SEARCH_RATE_LIMIT", "/search?postcode=SW1A1AA"), ("POSTER_RATE_LIMIT", "/wards/E05013806/poster.pdf")],
)
def test_a_client_past_the_limit_gets_a_429_page_that_says_when_to_try_again(finder_lookup, setting, path):
    app = make_app(finder_lookup, **{setting: "2/minute"})
    client = app.test_client()
    answers = [client.get(path) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[-1]
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 60 and refused.headers["Cache-Control"] == "no-store"
    assert refused.mimetype == "text/html"
    assert "Too many requests from your connection. Please wait a little" in refused.get_data(as_text=True)
    other = client.get(path, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert other.status_code == 200  # each client is counted on its own


def test_the_search_limit_leaves_the_poster_and_the_api_alone(finder_lookup):
    client = make_app(finder_lookup, SEARCH_RATE_LIMIT="1/minute").test_client()
    assert [client.get("/search?postcode=SW1A1AA").status_code for _ in range(2)] == [200, 429]
    assert client.get("/wards/E05013806/poster.pdf").status_code == 200
    assert client.get("/api/v1/postcodes/SW1A1AA").status_code == 200


def test_page_limits_can_be_turned_off_and_a_bad_one_stops_the_app(finder_lookup):
    client = make_app(finder_lookup, SEARCH_RATE_LIMIT="off").test_client()
    assert {client.get("/search?postcode=SW1A1AA").status_code for _ in range(3)} == {200}
    with pytest.raises(ValueError, match="FINDER_POSTER_RATE_LIMIT 'lots' is not a rate limit"):
        make_app(finder_lookup, POSTER_RATE_LIMIT="lots")


def test_production_limits_search_and_posters_by_default():
    from finder.config import Config

    assert Config.SEARCH_RATE_LIMIT == "60/minute" and Config.POSTER_RATE_LIMIT == "10/minute"
