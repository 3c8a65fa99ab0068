"""Prometheus metrics and JSON request logs for operators (issue 28, item 5): counters move, nothing personal.

In-process first (one app, prometheus_client's own registry), then as served: ./scripts/run-server with two
gunicorn workers counting into PROMETHEUS_MULTIPROC_DIR and the master serving the sum on its own port.
"""

from __future__ import annotations

import json
import logging
import socket
from datetime import UTC, datetime

import pytest
import requests
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from finder import create_app
from finder.lookup.service import Lookup, load_forces
from finder.ops.metrics import scrape_registry
from finder.store.models import SyncRun
from finder.teams.directory import TeamDirectory
from finder.web import web_store
from finder.web.logs import access_log
from tests.store.backends import fresh_store
from tests.support.slowclients import free_port, shipped_server
from tests.support.stores import discard
from tests.web.test_privacy import POSTCODE, SECRETS, resident_visits

API_ROUTE = "/api/v1/postcodes/<path:postcode>"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Prometheus text as {(sample name, sorted labels): value}."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scraped() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return samples(generate_latest(scrape_registry()).decode())


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_lookups_and_their_outcomes_are_counted_by_route_and_kind_never_by_postcode(finder_lookup):
    client = create_app({"ENV_NAME": "testing", "METRICS": True}, lookup=finder_lookup).test_client()
    before = scraped()
    assert client.get(f"/api/v1/postcodes/{POSTCODE}").status_code == 200
    unknown = client.get("/api/v1/postcodes/ZZ99 9ZZ")
    assert unknown.status_code == 404
    assert client.get("/api/v1/locate?lat=51.5&lon=-0.12").status_code == 200
    after = scraped()

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    count = "finder_request_duration_seconds_count"
    assert moved(count, route=API_ROUTE, method="GET", status="200") == 1
    assert moved(count, route=API_ROUTE, method="GET", status="404") == 1
    assert moved(count, route="/api/v1/locate", method="GET", status="200") == 1
    assert moved("finder_request_duration_seconds_sum", route=API_ROUTE, method="GET", status="200") > 0
    assert moved("finder_lookups_total", kind="postcode", outcome="ward") == 1
    assert moved("finder_lookups_total", kind="postcode", outcome=unknown.get_json()["error"]["code"]) == 1
    assert moved("finder_lookups_total", kind="point", outcome="ward") == 1
    text = generate_latest(scrape_registry()).decode()
    assert "SW1A" not in text and "ZZ99" not in text and "51.5" not in text


def test_the_geodata_release_is_shown_as_a_label_and_a_hostile_one_stays_a_quoted_label(geodata):
    release = geodata.manifest["codepoint_version"]
    found = samples(generate_latest(scrape_registry(geodata_manifest=geodata.manifest)).decode())
    assert value(found, "finder_geodata_info", codepoint_version=release) == 1
    assert (
        value(
            samples(generate_latest(scrape_registry(geodata_manifest={})).decode()),
            "finder_geodata_info",
            codepoint_version="unknown",
        )
        == 1
    )
    hostile = 'x"} 9\nfinder_fake 1 #'
    text = generate_latest(scrape_registry(geodata_manifest={"codepoint_version": hostile})).decode()
    assert "\nfinder_fake" not in text.replace("\\n", "")  # no line of its own
    assert value(samples(text), "finder_geodata_info", codepoint_version=hostile) == 1


def test_without_metrics_on_requests_are_not_counted(finder_lookup):
    client = create_app({"ENV_NAME": "testing"}, lookup=finder_lookup).test_client()
    before = scraped()
    client.get(f"/api/v1/postcodes/{POSTCODE}")
    after = scraped()
    labels = {"route": API_ROUTE, "method": "GET", "status": "200"}
    assert value(after, "finder_request_duration_seconds_count", **labels) == value(
        before, "finder_request_duration_seconds_count", **labels
    )


def test_each_refusal_by_a_rate_limit_is_counted_under_its_setting(finder_lookup):
    config = {"ENV_NAME": "testing", "RATE_LIMIT": "2/minute", "SEARCH_RATE_LIMIT": "1/minute"}
    client = create_app(config, lookup=finder_lookup).test_client()
    before = scraped()
    statuses = [client.get(f"/api/v1/postcodes/{POSTCODE}").status_code for _ in range(4)]
    pages = [client.get("/search", query_string={"postcode": POSTCODE}).status_code for _ in range(2)]
    after = scraped()
    assert statuses == [200, 200, 429, 429] and pages == [200, 429]
    refusals = "finder_rate_limit_refusals_total"
    assert value(after, refusals, limit="RATE_LIMIT") - value(before, refusals, limit="RATE_LIMIT") == 2
    assert value(after, refusals, limit="SEARCH_RATE_LIMIT") - value(before, refusals, limit="SEARCH_RATE_LIMIT") == 1


def test_a_store_that_cannot_be_read_is_counted_as_a_store_error(geodata):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the socket is closed
    teams = TeamDirectory(web_store(f"postgresql://finder@127.0.0.1:{port}/finder", 2.0), geodata.wards)
    client = create_app({"ENV_NAME": "testing"}, lookup=Lookup(geodata, load_forces(), teams=teams)).test_client()
    before = scraped()
    assert client.get("/api/v1/wards/E05013806").get_json()["team_status"] == "unavailable"
    assert client.get("/readyz").status_code == 503
    after = scraped()
    errors = "finder_store_errors_total"
    assert value(after, errors, during="lookup") - value(before, errors, during="lookup") == 1
    assert value(after, errors, during="readiness") - value(before, errors, during="readiness") == 1


def test_a_json_request_line_names_the_route_status_time_and_request_id_but_not_the_postcode(finder_lookup, caplog):
    app = create_app({"ENV_NAME": "testing", "LOG_FORMAT": "json", "PROXIES": 1}, lookup=finder_lookup)
    client = app.test_client()
    given = "0123456789abcdef0123456789abcdef"
    with caplog.at_level(logging.INFO, logger="finder.access"):
        first = client.get(f"/api/v1/postcodes/{POSTCODE}", headers={"X-Request-ID": given})
        second = client.get("/search", query_string={"postcode": POSTCODE}, headers={"X-Request-ID": POSTCODE})
    (handler,) = access_log.handlers
    assert handler.formatter is not None
    lines = [json.loads(handler.formatter.format(r)) for r in caplog.records if r.name == "finder.access"]
    create_app({"ENV_NAME": "testing"}, lookup=finder_lookup)  # the access log back to text for other tests

    assert first.headers["X-Request-ID"] == given  # the proxy's id, kept for following a request through
    made = second.headers["X-Request-ID"]
    assert made != POSTCODE and len(made) == 32  # an id that could hold a postcode is replaced
    assert [{k: v for k, v in line.items() if k not in ("time", "duration_ms")} for line in lines] == [
        {"level": "info", "event": "request", "method": "GET", "route": API_ROUTE, "status": 200, "request_id": given},
        {"level": "info", "event": "request", "method": "GET", "route": "/search", "status": 200, "request_id": made},
    ]
    assert all(isinstance(line["duration_ms"], float) for line in lines)
    text = json.dumps(lines)
    assert all(secret not in text for secret in SECRETS)


def test_an_unknown_log_format_stops_the_app_with_a_clear_message(finder_lookup):
    with pytest.raises(ValueError, match="FINDER_LOG_FORMAT must be text or json, not 'xml'"):
        create_app({"ENV_NAME": "testing", "LOG_FORMAT": "xml"}, lookup=finder_lookup)


def test_the_served_finder_adds_up_its_workers_metrics_on_a_private_port_and_logs_json_without_postcodes(tmp_path):
    metrics_port = free_port()
    env = {
        "FINDER_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'finder.db'}",
        "FINDER_METRICS_LISTEN": f"127.0.0.1:{metrics_port}",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "FINDER_LOG_FORMAT": "json",
    }
    log_file = tmp_path / "server.log"
    with log_file.open("wb") as out, shipped_server(env, out, workers=2) as (_, base):
        rounds = 6  # over two workers: each serves some
        for _ in range(rounds):
            resident_visits(base)
        assert requests.get(base + "/metrics", timeout=5).status_code == 404  # not through the public port
        text = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
    found = samples(text)

    count = "finder_request_duration_seconds_count"
    assert value(found, count, route=API_ROUTE, method="GET", status="200") == rounds
    assert value(found, count, route="/search", method="GET", status="200") == rounds
    # each visit: /search, /locate, /embed/search, the API's postcode and point (the warm-up lookup is not counted)
    assert value(found, "finder_lookups_total", kind="postcode", outcome="ward") == 3 * rounds
    assert value(found, "finder_lookups_total", kind="point", outcome="ward") == 2 * rounds
    assert ("finder_sync_runs_readable", ()) in found
    assert all(secret not in text for secret in SECRETS)

    log = log_file.read_text("utf-8")
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert sum(1 for line in lines if line["route"] == API_ROUTE) == rounds
    assert all(len(line["request_id"]) >= 16 for line in lines)
    ours = log.replace(base, "").replace(f"http://127.0.0.1:{metrics_port}", "")  # the server's own addresses
    assert all(secret not in ours for secret in SECRETS)


def test_the_police_uk_syncs_in_the_store_show_as_runs_by_status_and_the_last_complete_ones_time(tmp_path):
    store = fresh_store("sqlite", tmp_path)
    finished = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)
    with store.session() as session:
        session.add(SyncRun(force_id="metropolitan", started_at=finished, finished_at=finished, status="complete"))
        session.add(SyncRun(force_id="metropolitan", started_at=finished, finished_at=finished, status="incomplete"))
        session.add(SyncRun(force_id="city-of-london", started_at=finished, status="running"))
    found = samples(generate_latest(scrape_registry(store.url)).decode())
    discard(store)
    assert value(found, "finder_sync_runs", force="metropolitan", status="complete") == 1
    assert value(found, "finder_sync_runs", force="metropolitan", status="incomplete") == 1
    assert value(found, "finder_sync_runs", force="city-of-london", status="running") == 1
    assert value(found, "finder_sync_last_complete_timestamp_seconds", force="metropolitan") == finished.timestamp()
    assert ("finder_sync_last_complete_timestamp_seconds", (("force", "city-of-london"),)) not in found
    assert value(found, "finder_sync_runs_readable") == 1


def test_a_store_that_cannot_be_read_at_a_scrape_shows_the_syncs_as_unreadable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    found = samples(generate_latest(scrape_registry(f"postgresql://finder@127.0.0.1:{port}/finder", 2.0)).decode())
    assert value(found, "finder_sync_runs_readable") == 0
    assert not any(name == "finder_sync_runs" for name, _ in found)
