"""A frozen PostgreSQL or a locked SQLite file does not take the site down.

Pages, the API and the health check answer within seconds (gunicorn kills a worker at 30), from
geodata, saying team details are unavailable right now; exports answer 503 with Retry-After; after
one failure the app stops asking the store for a while, so later requests answer at once; and it
reads the store again once it is back. Runs against a real PostgreSQL stopped with SIGSTOP and a
real SQLite file held under an exclusive lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

import pytest
from flask import Flask

from finder import create_app
from finder.lookup.service import Lookup, load_forces
from finder.teams.directory import TeamDirectory
from finder.web import services, web_store
from tests.services.test_team_cache import Clock
from tests.store.faults import PostgresServer, locked_sqlite, within
from tests.store.teamdata import NO_TEAM_WARD, SAMPLE_POSTCODE, SAMPLE_WARD, team_store

TIMEOUT = 3.0  # FINDER_DB_TIMEOUT for these tests
BOUND = TIMEOUT + 3.0  # the first request after the fault: its timeout, plus slack for a busy machine
AT_ONCE = 1.5  # while backing off: no wait on the store at all (well under TIMEOUT)


@dataclass
class Backend:
    url: str
    fault: Callable[[], AbstractContextManager[None]]


@pytest.fixture(scope="module", params=["postgresql-frozen", "sqlite-locked"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """A store with the sample teams, and the fault that makes it hang."""
    if request.param == "sqlite-locked":
        path = tmp_path_factory.mktemp("locked") / "teams.db"
        team_store(f"sqlite:///{path}").dispose()
        yield Backend(f"sqlite:///{path}", lambda: locked_sqlite(path))
        return
    server = PostgresServer()
    try:
        team_store(server.url).dispose()
        yield Backend(server.url, server.frozen)
    finally:
        server.stop()


def faulty_app(geodata, backend: Backend, clock: Clock) -> Flask:
    """The app as its Services build it (DATABASE_URL, FINDER_DB_TIMEOUT), with a clock the test moves."""
    teams = TeamDirectory(web_store(backend.url, TIMEOUT), geodata.wards, monotonic=clock)
    config = {"ENV_NAME": "testing", "DATABASE_URL": backend.url, "DB_TIMEOUT": TIMEOUT}
    return create_app(config, lookup=Lookup(geodata, load_forces(), teams=teams))


def test_with_the_store_hung_pages_the_api_and_health_answer_fast_and_say_team_details_are_unavailable(
    geodata, backend
):
    clock = Clock()
    app = faulty_app(geodata, backend, clock)
    client = app.test_client()
    assert client.get(f"/api/v1/wards/{SAMPLE_WARD}").get_json()["team_status"] == "loaded"
    assert client.get(f"/api/v1/wards/{NO_TEAM_WARD}").get_json()["team_status"] == "none"
    assert client.get("/api/v1/health").get_json() == {"status": "ok", "store": "ok"}
    meeting = services(app).lookup.teams.team(SAMPLE_WARD).meetings[0].id
    services(app).store.dispose()  # as a worker before its first lookup (SQLite's lock needs it)

    with backend.fault():
        page, _ = within(BOUND, lambda: client.get(f"/wards/{SAMPLE_WARD}"))
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert 'data-team-status="unavailable"' in html and "data-team-unavailable" in html
        assert "We could not load the details of the Met neighbourhood team" in html
        assert 'href="tel:101"' in html  # the force-wide routes, from geodata and the force file

        api, _ = within(AT_ONCE, lambda: client.get(f"/api/v1/postcodes/{SAMPLE_POSTCODE}"))
        body = api.get_json()
        assert api.status_code == 200 and body["ward"]["code"] == SAMPLE_WARD
        assert body["team"] is None and body["team_status"] == "unavailable"
        assert api.headers["Cache-Control"] == "no-store"  # no cache may keep "unavailable" once it is back

        health, _ = within(AT_ONCE, lambda: client.get("/api/v1/health"))
        assert health.status_code == 200
        assert health.get_json() == {"status": "degraded", "store": "unavailable"}

        for path in (
            f"/wards/{SAMPLE_WARD}/team.vcf",
            f"/wards/{SAMPLE_WARD}/calendar.ics",
            f"/wards/{SAMPLE_WARD}/meetings/{meeting}.ics",
        ):
            export, _ = within(AT_ONCE, lambda path=path: client.get(path))
            assert export.status_code == 503, path
            assert 1 <= int(export.headers["Retry-After"]) <= 15
            assert "cannot read the neighbourhood team" in export.get_data(as_text=True)

    clock.now += 16  # the back-off is over and the store is back
    back = client.get(f"/api/v1/wards/{SAMPLE_WARD}")
    assert back.get_json()["team_status"] == "loaded" and back.headers["Cache-Control"].startswith("public")
    assert client.get("/api/v1/health").get_json() == {"status": "ok", "store": "ok"}
    assert client.get(f"/wards/{SAMPLE_WARD}/team.vcf").status_code == 200
    services(app).store.dispose()


def test_the_app_starts_while_the_store_is_hung_and_answers_without_it(geodata, backend):
    with backend.fault():
        app, _ = within(BOUND, lambda: faulty_app(geodata, backend, Clock()))
        response, _ = within(BOUND, lambda: app.test_client().get(f"/api/v1/wards/{SAMPLE_WARD}"))
        assert response.status_code == 200 and response.get_json()["team_status"] == "unavailable"
