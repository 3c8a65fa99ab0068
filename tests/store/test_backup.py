"""`finder backup` and `finder restore` (issue 28, item 7): a backup restored into an empty store serves the
same pages. On SQLite (its online backup API) and PostgreSQL (pg_dump and pg_restore from Debian's client tools),
through the commands as an operator runs them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from finder import create_app
from finder.store import Store
from finder.store.migrate import current, downgrade, head
from tests.store.backends import BACKENDS, require_postgres
from tests.store.teamdata import HOSTILE_WARD, SAMPLE_WARD, team_lookup, team_store
from tests.support.stores import create_postgres_database, discard, sqlite_url

WARD_PAGES = (f"/wards/{SAMPLE_WARD}", f"/wards/{HOSTILE_WARD}", f"/api/v1/wards/{SAMPLE_WARD}")


def empty_database(backend: str, folder: Path) -> str:
    """A database with nothing in it, as a new server's would be."""
    if backend == "postgresql":
        require_postgres()
        return create_postgres_database()
    return sqlite_url(folder)


@pytest.fixture()
def app_over(geodata):
    """Apps serving the store at a URL, as its Services would; their stores closed at the end."""
    opened: list[Store] = []

    def serving(url: str) -> Flask:
        opened.append(Store(url))
        return create_app({"ENV_NAME": "testing", "DATABASE_URL": url}, lookup=team_lookup(geodata, opened[-1]))

    yield serving
    for store in opened:
        store.dispose()


def finder(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture(params=BACKENDS)
def stores(request, tmp_path):
    """A store with the sample and hostile teams, and an empty database of the same kind."""
    source = team_store(empty_database(request.param, tmp_path / "source"))
    target = Store(empty_database(request.param, tmp_path / "target"))
    yield source, target
    discard(source)
    discard(target)


def test_a_backup_restored_into_an_empty_store_serves_the_same_ward_pages(app_over, stores, tmp_path):
    source, target = stores
    original = app_over(source.url)
    backup = tmp_path / "finder.backup"
    done = finder(original, "backup", str(backup))
    assert done.exit_code == 0, done.output
    assert backup.stat().st_size > 0 and not backup.with_name("finder.backup.partial").exists()

    restored = app_over(target.url)
    done = finder(restored, "restore", str(backup))
    assert done.exit_code == 0, done.output
    assert f"at schema {head()}" in done.output and "init-db" not in done.output
    assert current(target) == head()
    before, after = original.test_client(), restored.test_client()
    for path in WARD_PAGES:
        was, now = before.get(path), after.get(path)
        assert now.status_code == was.status_code == 200, path
        assert now.get_data() == was.get_data(), path
    assert after.get(f"/api/v1/wards/{SAMPLE_WARD}").get_json()["team_status"] == "loaded"  # the team came back


def test_a_restore_into_a_store_that_holds_data_is_refused_unless_told_to_replace_it(app_over, stores, tmp_path):
    source, _ = stores
    app = app_over(source.url)
    backup = tmp_path / "finder.backup"
    assert finder(app, "backup", str(backup)).exit_code == 0

    done = finder(app, "restore", str(backup))
    assert done.exit_code == 1
    assert "is not empty: restore into an empty store, or give --replace to overwrite it" in done.output

    downgrade(source, "0007")  # changed since the backup: --replace puts the backup's schema and rows back
    done = finder(app, "restore", "--replace", str(backup))
    assert done.exit_code == 0, done.output
    assert current(source) == head()
    assert app.test_client().get(f"/wards/{SAMPLE_WARD}").status_code == 200


def test_a_restored_backup_older_than_the_code_says_to_run_init_db(app_over, stores, tmp_path):
    source, target = stores
    downgrade(source, "0007")
    backup = tmp_path / "old.backup"
    app = app_over(source.url)
    assert finder(app, "backup", str(backup)).exit_code == 0
    done = finder(app_over(target.url), "restore", str(backup))
    assert done.exit_code == 0, done.output
    assert f"at schema 0007; it is behind this code's schema {head()}: run `finder init-db`" in done.output


def test_a_file_that_is_not_a_backup_is_refused_with_a_clear_message(app_over, tmp_path):
    app = app_over(sqlite_url(tmp_path))
    notes = tmp_path / "notes.txt"
    notes.write_text("SW1A 1AA\n")
    done = finder(app, "restore", str(notes))
    assert done.exit_code == 1
    assert "is not a backup made by `finder backup`" in done.output
    assert "Traceback" not in done.output
    done = finder(app, "restore", str(tmp_path / "missing.backup"))
    assert done.exit_code != 0 and "Traceback" not in done.output


def test_a_sqlite_backup_does_not_restore_into_postgresql(app_over, tmp_path):
    sqlite = team_store(sqlite_url(tmp_path / "a"))
    backup = tmp_path / "sqlite.backup"
    assert finder(app_over(sqlite.url), "backup", str(backup)).exit_code == 0
    require_postgres()
    target = Store(create_postgres_database())
    try:
        done = finder(app_over(target.url), "restore", str(backup))
        assert done.exit_code == 1
        assert "is a SQLite backup: it restores into a SQLite store" in done.output
    finally:
        discard(target)
        discard(sqlite)


def test_without_pg_dump_on_path_a_postgresql_backup_says_what_to_install(app_over, tmp_path, monkeypatch):
    require_postgres()
    store = Store(create_postgres_database())
    try:
        monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without PostgreSQL's client tools
        done = finder(app_over(store.url), "backup", str(tmp_path / "pg.backup"))
        assert done.exit_code == 1
        assert "pg_dump is not on PATH: install PostgreSQL's client tools" in done.output
    finally:
        discard(store)
