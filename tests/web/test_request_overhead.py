"""What the API skips to stay fast (issue 12), without changing what any answer says."""

from __future__ import annotations

import html
import logging
import re

from flask import request

from finder import create_app


def test_only_the_staff_area_reads_a_session_cookie(app):
    for path in ("/api/v1/health", "/", "/wards/E05013806", "/administrator"):
        with app.test_request_context(path):
            assert app.session_interface.open_session(app, request) is None, path
    for path in ("/admin", "/admin/sign-in"):
        with app.test_request_context(path):
            assert app.session_interface.open_session(app, request) is not None, path


def test_fixed_headers_are_sent_once_on_pages_errors_and_api_answers(client):
    for path in ("/", "/nowhere", "/api/v1/postcodes/SW1A 1AA", "/api/v1/nowhere"):
        headers = client.get(path).headers
        for name in ("X-Content-Type-Options", "Referrer-Policy", "Permissions-Policy"):
            assert len(headers.getlist(name)) == 1, (path, name)
    api = client.get("/api/v1/postcodes/SW1A 1AA").headers
    assert api.getlist("Access-Control-Allow-Origin") == ["*"] and api.getlist("X-Frame-Options") == ["DENY"]
    assert "Access-Control-Allow-Origin" not in client.post("/api/v1/postcodes", json={"postcodes": []}).headers


def test_the_access_line_names_the_file_and_route_but_not_the_caller(client, caplog):
    with caplog.at_level(logging.INFO, logger="finder.access"):
        client.get("/api/v1/postcodes/SW1A 1AA")
    (line,) = [r for r in caplog.records if r.name == "finder.access"]
    assert line.getMessage().startswith("GET /api/v1/postcodes/<path:postcode> 200 ")
    assert line.pathname.endswith("logs.py") and line.lineno == 0  # made whole, no stack walk


def test_the_lean_read_paths_still_send_security_headers_honour_rate_limits_and_log_no_place(finder_lookup, caplog):
    """Issue 27's lean read path (no session, no CSRF check outside the staff area): the postcode and point
    APIs, a ward page and its map script keep every protection that matters to residents."""
    app = create_app({"ENV_NAME": "testing", "TESTING": True, "RATE_LIMIT": "3/minute"}, lookup=finder_lookup)
    client = app.test_client()
    script = re.search(r'src="(/maps/E05013806\.js[^"]*)"', client.get("/wards/E05013806").text)
    assert script is not None
    reads = {
        "postcode": "/api/v1/postcodes/SW1A 1AA",
        "point": "/api/v1/locate?lat=51.501009&lon=-0.141588",
        "page": "/wards/E05013806",
        "map script": html.unescape(script.group(1)),
    }
    with caplog.at_level(logging.INFO, logger="finder.access"):
        caplog.clear()
        answers = {name: client.get(path) for name, path in reads.items()}
        third, refused = client.get(reads["postcode"]), client.get(reads["postcode"])

    for name, answer in [*answers.items(), ("refused", refused)]:
        headers = answer.headers
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["X-Frame-Options"] == "DENY", name
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], name
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", name
        assert headers["Permissions-Policy"].startswith("camera=()"), name
        assert "Set-Cookie" not in headers and "Cookie" not in headers.get("Vary", ""), name
    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(reads, 200)
    # 3 a minute: the postcode and point answers counted two, so a third passes and a fourth is refused
    assert third.status_code == 200 and refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0 and refused.headers["RateLimit-Remaining"] == "0"
    lines = [r.getMessage() for r in caplog.records if r.name == "finder.access"]
    assert len(lines) == 6
    for line in lines:
        assert not any(place in line for place in ("SW1A", "1AA", "51.50", "0.141")), line
