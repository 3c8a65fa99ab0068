"""Request size and shape: a body over the limit is refused unread, and no malformed body is a 500."""

from __future__ import annotations

import http.client
import io
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import request

from finder import create_app
from finder.lookup.service import Lookup
from tests.support.liveserver import serving

BATCH = "/api/v1/postcodes"


def post_json(client, body: str | bytes):
    return client.post(BATCH, data=body, content_type="application/json")


def test_a_body_over_the_limit_is_a_json_413_that_says_what_to_send(client) -> None:
    body = json.dumps({"postcodes": ["SW1A 1AA"] * 10_000})  # 120 KB

    response = post_json(client, body)

    assert response.status_code == 413
    assert response.get_json() == {
        "error": {
            "code": "body_too_large",
            "message": "The request body is larger than the 65,536 bytes this finder accepts. "
            "Send at most 100 postcodes at once.",
        }
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_ten_million_postcodes_are_refused_without_reading_the_body(client) -> None:
    body = b'{"postcodes": [' + b'"A",' * 10_000_000 + b'"A"]}'
    stream = io.BytesIO(body)

    response = client.post(BATCH, input_stream=stream, content_length=len(body), content_type="application/json")

    assert response.status_code == 413
    assert stream.tell() == 0  # refused on its Content-Length, not parsed


def post_chunked(base_url: str, body: bytes) -> tuple[int, dict]:
    """POST the body over real HTTP in 8 KB chunks, with no Content-Length, as a streaming client would."""

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    connection = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=10)
    try:
        connection.request(
            "POST", BATCH, body=chunks(), headers={"Content-Type": "application/json"}, encode_chunked=True
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_a_chunked_body_over_the_limit_is_a_413_too_and_a_small_one_is_answered(app) -> None:
    big = json.dumps({"postcodes": ["SW1A 1AA"] * 10_000}).encode()

    with serving(app) as base_url:
        refused = post_chunked(base_url, big)
        answered = post_chunked(base_url, json.dumps({"postcodes": ["SW1A 1AA"]}).encode())

    assert refused == (413, {"error": {"code": "body_too_large", "message": refused[1]["error"]["message"]}})
    assert answered[0] == 200 and answered[1]["results"][0]["result"]["postcode"] == "SW1A 1AA"


def test_the_largest_batch_the_api_accepts_fits_in_the_body_limit(client) -> None:
    # 100 items of 32 characters, each character written as a surrogate-pair escape: the worst case.
    body = json.dumps({"postcodes": ["\U0001f600" * 32] * 100}, ensure_ascii=True)

    response = post_json(client, body)

    assert response.status_code == 200
    assert len(response.get_json()["results"]) == 100


def test_the_body_limit_is_configurable(finder_lookup: Lookup) -> None:
    app = create_app({"ENV_NAME": "testing", "MAX_CONTENT_LENGTH": 100}, lookup=finder_lookup)
    body = json.dumps({"postcodes": ["SW1A 1AA"] * 10})

    response = post_json(app.test_client(), body)

    assert response.status_code == 413 and "100 bytes" in response.get_json()["error"]["message"]


def test_a_body_over_the_limit_outside_the_api_gets_a_readable_page(finder_lookup: Lookup) -> None:
    app = create_app({"ENV_NAME": "testing"}, lookup=finder_lookup)
    # No page reads a body today; this one does, to show what a page that did would answer.
    app.add_url_rule("/reads-its-body", "reads_its_body", lambda: str(len(request.get_data())), methods=["POST"])

    response = app.test_client().post("/reads-its-body", data=b"x" * 70_000)

    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "The request body is larger than the 65,536 bytes this finder accepts." in response.get_data(as_text=True)


def test_a_postcode_longer_than_32_characters_is_refused_and_the_message_says_which(client) -> None:
    response = client.post(BATCH, json={"postcodes": ["SW1A 1AA", "x" * 33]})

    assert response.status_code == 400
    assert response.get_json() == {
        "error": {
            "code": "postcode_too_long",
            "message": "Postcode 2 is 33 characters long. Send each postcode in at most 32 characters "
            "(a postcode has 8 at most, with its space)",
        }
    }


def test_a_postcode_of_32_characters_is_looked_up(client) -> None:
    spaced = "  s w 1 a - 1 a a  ".ljust(32)

    response = client.post(BATCH, json={"postcodes": [spaced]})

    assert response.status_code == 200
    assert response.get_json()["results"][0]["result"]["postcode"] == "SW1A 1AA"


@pytest.mark.parametrize(
    "body",
    [
        "[" * 2_000 + "]" * 2_000,
        '{"postcodes": ' + "[" * 2_000 + "]" * 2_000 + "}",
        '{"postcodes": ["\\ud800"]}',  # a lone high surrogate: no answer could encode it
        '{"postcodes": ["\\udc00 SW1A 1AA"]}',  # a lone low surrogate
        b'{"postcodes": ["\xff\xfe"]}',  # not UTF-8
        '{"postcodes": [NaN]}',
        '{"postcodes": ["SW1A 1AA"]',
    ],
    ids=["nested-2000", "nested-in-object", "lone-high-surrogate", "lone-low-surrogate", "not-utf8", "nan", "cut"],
)
def test_a_body_that_is_not_json_we_can_read_is_a_400_not_a_crash(client, body) -> None:
    response = post_json(client, body)

    assert response.status_code == 400
    assert response.get_json()["error"] == {
        "code": "invalid_request",
        "message": 'Send JSON like {"postcodes": ["SW1A 1AA", "E1 6AN"]}',
    }


def test_a_surrogate_pair_is_one_character_and_is_answered(client) -> None:
    response = post_json(client, '{"postcodes": ["\\ud83d\\ude00"]}')

    assert response.status_code == 200
    assert response.get_json()["results"][0]["query"] == "\U0001f600"
