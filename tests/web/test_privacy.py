"""A resident's search is answered and forgotten: no postcode, place or client address in any log,
table or address the resident is left on (issue 7, item 5).

The server runs exactly as ./scripts/serve runs it (./scripts/run-server: nginx in front of gunicorn),
with its own SQLite store; the development server's logging is checked too.
"""

from __future__ import annotations

import logging
import sqlite3

import requests

from finder.config import ROOT
from finder.geo.geocoder import PostcodesIO
from tests.support.httpserver import Reply, local_server
from tests.support.liveserver import serving
from tests.support.slowclients import shipped_server

POSTCODE, PACKED = "SE1 7PB", "SE17PB"
LAT, LON = "51.498765", "-0.112345"
SECRETS = (POSTCODE, PACKED, "SE1+7PB", "SE1%207PB", LAT, LON, "51.49876", "-0.11234", "127.0.0.1")


def resident_visits(base: str) -> list[str]:
    """A resident's searches on every surface; returns the addresses they were left on."""
    left_on = []
    with requests.Session() as browser:
        for path, params in (
            ("/search", {"postcode": POSTCODE}),
            ("/locate", {"lat": LAT, "lon": LON}),
            ("/embed/search", {"postcode": POSTCODE}),
            (f"/api/v1/postcodes/{POSTCODE}", None),
            ("/api/v1/locate", {"lat": LAT, "lon": LON}),
            (f"/{PACKED}", None),  # a 404 whose path is the postcode
        ):
            response = browser.get(base + path, params=params, timeout=10)
            assert response.status_code in (200, 404), (path, response.status_code)
            if path in ("/locate",):
                left_on.append(response.url)
    return left_on


def serve_command(port: int, workers: int = 1) -> tuple[list[str], dict[str, str]]:
    """The command ./scripts/serve runs after setup (nginx in front of gunicorn), and its environment."""
    return [str(ROOT / "scripts" / "run-server")], {"PORT": str(port), "WORKERS": str(workers)}


def test_the_served_finder_logs_routes_and_statuses_but_no_postcode_place_or_client_address(tmp_path):
    log_file, database = tmp_path / "server.log", tmp_path / "finder.db"
    env = {"PATH": "/usr/bin:/bin", "FINDER_ENV": "development", "DATABASE_URL": f"sqlite:///{database}"}
    with log_file.open("wb") as out, shipped_server(env, out, workers=1) as (_, base):
        left_on = resident_visits(base)
    port = base.rsplit(":", 1)[1]

    log = log_file.read_text("utf-8").replace(f"listening at http://127.0.0.1:{port}", "")  # our own address
    assert "GET /search 200" in log and "GET /api/v1/postcodes/<path:postcode> 200" in log  # it does log requests
    assert "GET /locate 303" in log and "GET (no route) 404" in log
    for secret in SECRETS:
        assert secret not in log, secret
    assert left_on == [f"http://127.0.0.1:{port}/wards/E05014118?from=location"]
    with sqlite3.connect(database) as db:
        tables = [name for (name,) in db.execute("select name from sqlite_master where type = 'table'")]
        assert "team" in tables
        for table in tables:
            rows = repr(db.execute(f'select * from "{table}"').fetchall())  # names from the schema
            assert not any(secret in rows for secret in SECRETS), table


def test_the_development_server_logs_no_request_lines(app, caplog):
    caplog.set_level(logging.INFO)
    with serving(app) as base:
        resident_visits(base)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "GET /search 200" in text
    for secret in SECRETS:
        assert secret not in text, secret


def test_an_unhandled_error_is_logged_with_its_route_not_its_path(app, caplog):
    @app.get("/boom/<postcode>")
    def boom(postcode: str):
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    caplog.set_level(logging.INFO)
    assert app.test_client().get(f"/boom/{PACKED}").status_code == 500
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "Exception on /boom/<postcode> [GET]" in text and PACKED not in text


def test_a_failing_geocoder_is_logged_without_the_postcode_it_was_asked_about(caplog):
    with local_server() as server:
        server.fallback = lambda _: Reply(500, "down")
        assert PostcodesIO(server.url).lookup(POSTCODE) is None
    assert "remote geocoder failed" in caplog.text
    assert PACKED not in caplog.text and "SE1" not in caplog.text
