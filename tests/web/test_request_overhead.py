"""What the API skips to stay fast (issue 12), without changing what any answer says."""

from __future__ import annotations

import logging

from flask import request


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
