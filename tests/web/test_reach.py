"""Reach without tracking: counts per ward, day and surface add up across workers and instances, keep
nothing about the resident, and a killed worker loses at most its last flush interval of counts."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time
from datetime import date
from pathlib import Path

import requests
from sqlalchemy import select

from finder.config import ROOT
from finder.coverage.reach import Tally
from finder.store import Store
from finder.store.migrate import upgrade
from finder.store.reach import LookupCount
from finder.web import services
from tests.store import backends
from tests.store.teamdata import SAMPLE_WARD, team_store
from tests.support.slowclients import free_port
from tests.support.staff import staff_app
from tests.web.test_privacy import SECRETS, resident_visits, serve_command

migrated_store = backends.migrated_store  # every test taking `store` runs on SQLite and PostgreSQL
store = backends.store
DAY = date(2025, 6, 2)


def stored(store: Store) -> dict[tuple[date, str, str], int]:
    with store.reader() as session:
        return {(r.day, r.ward_code, r.surface): r.count for r in session.scalars(select(LookupCount))}


def test_two_instances_counting_at_once_on_one_database_add_up_exactly(store):
    other = Store(store.url)  # a second instance: its own engine and connections, the same database
    tallies = [Tally(store, interval=3600, today=lambda: DAY), Tally(other, interval=3600, today=lambda: DAY)]

    def resident_traffic(tally: Tally) -> None:
        for i in range(600):
            tally.count(SAMPLE_WARD, ("page", "api", "embed")[i % 3])
            if i % 100 == 99:
                tally.flush()  # both instances write the same rows, again and again

    threads = [threading.Thread(target=resident_traffic, args=(t,)) for t in tallies for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for tally in tallies:
        tally.flush()
    other.dispose()
    assert stored(store) == {(DAY, SAMPLE_WARD, s): 800 for s in ("page", "api", "embed")}


def test_counts_that_cannot_be_stored_are_kept_for_the_next_flush(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'finder.db'}")  # not migrated yet: no lookup_count table
    tally = Tally(store, interval=3600, today=lambda: DAY)
    tally.count(SAMPLE_WARD, "api")
    assert tally.flush() == 0 and tally.pending() == {(DAY, SAMPLE_WARD, "api"): 1}
    upgrade(store)
    tally.count(SAMPLE_WARD, "api")
    assert tally.flush() == 1 and tally.pending() == {}
    assert stored(store) == {(DAY, SAMPLE_WARD, "api"): 2}


def test_the_counting_thread_adds_counts_to_the_store_on_its_own_every_interval(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'finder.db'}")
    upgrade(store)
    tally = Tally(store, interval=0.2, today=lambda: DAY)
    tally.count(SAMPLE_WARD, "page")
    deadline = time.monotonic() + 5
    while not stored(store) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stored(store) == {(DAY, SAMPLE_WARD, "page"): 1}
    tally.stop()


def test_a_search_leaves_only_a_ward_a_day_and_a_surface_in_the_count_keys(geodata):
    app = staff_app(team_store(), geodata, REACH_COUNTING=True)
    client = app.test_client()
    resident_visits_in_process = (
        ("/search", {"postcode": "SE1 7PB"}),
        ("/api/v1/postcodes/SE1 7PB", None),
        ("/api/v1/locate", {"lat": "51.498765", "lon": "-0.112345"}),
        ("/embed/search", {"postcode": "SE1 7PB"}),
    )
    for path, params in resident_visits_in_process:
        assert client.get(path, query_string=params).status_code == 200
    keys = list(services(app).reach.pending())
    assert {(ward, surface) for _, ward, surface in keys} == {("E05014118", s) for s in ("page", "api", "embed")}
    assert not any(secret in repr(keys) for secret in SECRETS)


def gunicorn(database: Path, log, workers: int, flush_seconds: float) -> tuple[subprocess.Popen, str]:
    """The finder served as ./scripts/serve serves it, with `workers` workers and a short flush interval."""
    port = free_port()
    command, server_env = serve_command(port, workers)
    env = server_env | {
        "PATH": "/usr/bin:/bin",
        "FINDER_ENV": "development",
        "DATABASE_URL": f"sqlite:///{database}",
        "FINDER_REACH_FLUSH_SECONDS": str(flush_seconds),
    }
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(base + "/api/v1/health", timeout=2)
            return server, base
        except requests.ConnectionError:
            assert server.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)


def gunicorn_workers(pid: int) -> list[int]:
    """The gunicorn master's workers (its other children are nginx and nginx's log filter)."""
    children = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return [child for child in children if b"gunicorn" in Path(f"/proc/{child}/cmdline").read_bytes()]


def total(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return db.execute("select coalesce(sum(count), 0) from lookup_count").fetchone()[0]


def test_the_served_finder_stores_counts_with_nothing_about_the_resident(tmp_path):
    database, log_file = tmp_path / "finder.db", tmp_path / "server.log"
    with log_file.open("wb") as log:
        server, base = gunicorn(database, log, workers=2, flush_seconds=0.5)
        try:
            resident_visits(base)
            time.sleep(1.5)
        finally:
            server.terminate()
            server.wait(timeout=30)
    with sqlite3.connect(database) as db:
        rows = db.execute("select ward_code, surface, count from lookup_count order by surface").fetchall()
    assert rows == [("E05014118", "api", 2), ("E05014118", "embed", 1), ("E05014118", "page", 2)]
    assert not any(secret in repr(rows) for secret in SECRETS)
    assert not any(secret in log_file.read_text("utf-8").replace(base, "") for secret in SECRETS)


def test_a_killed_worker_loses_at_most_the_counts_of_its_last_minute_and_nothing_before(tmp_path):
    database, log_file = tmp_path / "finder.db", tmp_path / "server.log"
    with log_file.open("wb") as log:
        server, base = gunicorn(database, log, workers=2, flush_seconds=1.0)
        try:
            with requests.Session() as http:
                for _ in range(40):
                    assert http.get(f"{base}/api/v1/wards/{SAMPLE_WARD}", timeout=10).status_code == 200
                time.sleep(2.5)  # every worker has flushed what it counted
                for _ in range(20):
                    assert http.get(f"{base}/api/v1/wards/{SAMPLE_WARD}", timeout=10).status_code == 200
            for worker in gunicorn_workers(server.pid):
                os.kill(worker, signal.SIGKILL)  # no exit handler runs: what was not flushed is gone
            kept = total(database)
        finally:
            server.terminate()  # the master stops nginx too
            server.wait(timeout=30)
    assert 40 <= kept <= 60, kept  # the 40 before the last flush all kept; at most the last second's 20 lost
