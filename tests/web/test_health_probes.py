"""/livez and /readyz, the proxy's health checks (issue 28, item 4), against real stores.

Ready means geodata loaded, the team store answering within FINDER_DB_TIMEOUT, and its schema at Alembic's
head. Run on SQLite and on PostgreSQL (scripts/pg-test-server), with a store stepped back behind the code's
schema, a PostgreSQL nobody listens for, and one frozen with SIGSTOP.
"""

from __future__ import annotations

import socket

import pytest
from flask import Flask

from finder import create_app
from finder.geo.geodata import GeoData
from finder.lookup.service import Lookup, load_forces
from finder.store import Store
from finder.store.migrate import downgrade, head, upgrade
from finder.teams.directory import TeamDirectory
from finder.web import web_store
from tests.store.backends import BACKENDS, fresh_store
from tests.store.faults import PostgresServer, within
from tests.support.stores import discard

TIMEOUT = 2.0  # FINDER_DB_TIMEOUT for these tests
BOUND = TIMEOUT + 3.0  # its timeout, plus slack for a busy machine


def app_over(geodata: GeoData, url: str) -> Flask:
    """The app as its Services build it for DATABASE_URL, with the suite's loaded geodata."""
    teams = TeamDirectory(web_store(url, TIMEOUT), geodata.wards)
    config = {"ENV_NAME": "testing", "DATABASE_URL": url, "DB_TIMEOUT": TIMEOUT}
    return create_app(config, lookup=Lookup(geodata, load_forces(), teams=teams))


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    """A migrated store on each backend."""
    store = fresh_store(request.param, tmp_path)
    yield store
    discard(store)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_livez_says_the_process_answers_and_is_never_cached(client):
    response = client.get("/livez")
    assert response.status_code == 200
    assert response.get_json() == {"status": "live"}
    assert response.headers["Cache-Control"] == "no-store"


def test_an_instance_with_geodata_and_a_store_at_the_schema_head_is_ready(geodata, store):
    response = app_over(geodata, store.url).test_client().get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "ready"}
    assert response.headers["Cache-Control"] == "no-store"


def test_a_store_stepped_back_behind_the_schema_head_makes_the_instance_not_ready_until_it_is_upgraded(geodata, store):
    client = app_over(geodata, store.url).test_client()
    downgrade(store, "0007")  # as a restore of an older backup would leave it, under a running instance

    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "not ready",
        "reason": f"the team store is at schema 0007, not {head()}: run `finder init-db`",
    }
    assert client.get("/livez").status_code == 200  # alive: restarting it would not help

    upgrade(store)
    assert client.get("/readyz").status_code == 200


def test_an_empty_database_is_not_ready_and_says_it_has_no_schema(geodata, store):
    client = app_over(geodata, store.url).test_client()
    downgrade(store, "base")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["reason"] == f"the team store is at schema none, not {head()}: run `finder init-db`"


def test_a_postgresql_store_nobody_answers_makes_the_instance_not_ready_without_naming_the_server(geodata):
    url = f"postgresql://finder:secret-password@127.0.0.1:{closed_port()}/finder"
    client = app_over(geodata, url).test_client()
    response, _ = within(BOUND, lambda: client.get("/readyz"))
    assert response.status_code == 503
    assert response.get_json() == {"status": "not ready", "reason": "the team store could not be read within 2 s"}
    assert "secret-password" not in response.get_data(as_text=True)
    assert client.get("/api/v1/health").status_code == 200  # the app itself still answers from geodata


def test_a_frozen_postgresql_makes_readyz_answer_503_within_the_store_timeout_and_ready_again_once_thawed(geodata):
    server = PostgresServer()  # our own server, so freezing it stalls no other test
    try:
        schema = Store(server.url)
        upgrade(schema)
        schema.dispose()
        client = app_over(geodata, server.url).test_client()
        assert client.get("/readyz").status_code == 200
        with server.frozen():
            response, took = within(BOUND, lambda: client.get("/readyz"))
            assert response.status_code == 503
            assert response.get_json()["reason"] == "the team store could not be read within 2 s"
            assert took >= TIMEOUT - 0.5  # it waited its timeout, no longer than BOUND
        assert client.get("/readyz").status_code == 200
    finally:
        server.stop()


def test_an_instance_whose_geodata_is_missing_is_not_ready(tmp_path):
    app = create_app({"ENV_NAME": "testing", "GEODATA_DIR": str(tmp_path / "no-geodata")})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "not ready", "reason": "the geodata is missing or cannot be read"}
    assert app.test_client().get("/livez").status_code == 200


def test_an_instance_started_against_a_postgresql_store_behind_the_schema_is_not_ready(tmp_path):
    store = fresh_store("postgresql", tmp_path)
    try:
        downgrade(store, "0007")  # `finder init-db` has not run for this release yet
        app = create_app({"ENV_NAME": "testing", "DATABASE_URL": store.url, "DB_TIMEOUT": TIMEOUT})
        response = app.test_client().get("/readyz")
        assert response.status_code == 503
        assert response.get_json() == {
            "status": "not ready",
            "reason": f"the team store is not at schema {head()}: run `finder init-db`",
        }
    finally:
        discard(store)
