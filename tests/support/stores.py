"""Databases for the test suite and the benchmarks: throwaway SQLite files and PostgreSQL databases.

PostgreSQL comes from FINDER_TEST_POSTGRES_URL (set by scripts/test through scripts/pg-test-server),
or, when pytest runs on its own, from a server started here with the same script and stopped at
exit. Each caller gets its own database, created and dropped here, so the named database on that
server is never touched. When PostgreSQL cannot be had, `PostgresUnavailable` carries the reason:
the tests fail with it rather than skip.
"""

from __future__ import annotations

import atexit
import os
import secrets
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from finder.store import Store, normalise_url
from finder.store.migrate import upgrade
from finder.store.models import Base

PG_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pg-test-server"
_server: dict[str, str] = {}


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server for the tests: the message says why and what to do."""


def postgres_server_url() -> str:
    """A PostgreSQL server the tests may create databases on (started now if none is configured)."""
    if os.environ.get("FINDER_TEST_POSTGRES_ERROR"):
        raise PostgresUnavailable(os.environ["FINDER_TEST_POSTGRES_ERROR"])
    if os.environ.get("FINDER_TEST_POSTGRES_URL"):
        return normalise_url(os.environ["FINDER_TEST_POSTGRES_URL"])
    if "url" not in _server:
        folder = tempfile.mkdtemp(prefix="finder-pg.")
        try:
            done = subprocess.run(
                [str(PG_SCRIPT), "start", folder], capture_output=True, text=True, timeout=300, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PostgresUnavailable(f"could not run {PG_SCRIPT}: {exc}") from exc
        if done.returncode != 0:
            subprocess.run([str(PG_SCRIPT), "stop", folder], capture_output=True, check=False)
            raise PostgresUnavailable(
                f"PostgreSQL could not start ({PG_SCRIPT} start exited {done.returncode}):\n{done.stderr.strip()}\n"
                "Set FINDER_TEST_POSTGRES_URL to a server the tests may create databases on."
            )
        _server.update(url=done.stdout.strip().splitlines()[-1], folder=folder)
        atexit.register(subprocess.run, [str(PG_SCRIPT), "stop", folder], capture_output=True, check=False)
    return _server["url"]


def _admin(server_url: str, sql: str) -> None:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(sql))
    finally:
        engine.dispose()


def create_postgres_database() -> str:
    """A new, empty database on the test server; returns its URL."""
    server = postgres_server_url()
    name = f"finder_test_{secrets.token_hex(6)}"
    _admin(server, f'CREATE DATABASE "{name}"')
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    """Drop a database made by create_postgres_database (closing anyone still connected)."""
    parsed = make_url(url)
    assert parsed.database and parsed.database.startswith("finder_test_"), "only drops test databases"
    _admin(
        make_url(postgres_server_url()).render_as_string(hide_password=False),
        f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)',
    )


def sqlite_url(folder: str | Path) -> str:
    """A SQLite file in a (temporary) folder."""
    return f"sqlite:///{Path(folder) / 'finder-test.db'}"


def new_store(backend: str, folder: str | Path) -> Store:
    """An empty, migrated store on "sqlite" or "postgresql"."""
    url = sqlite_url(folder) if backend == "sqlite" else create_postgres_database()
    store = Store(url)
    upgrade(store)
    return store


def discard(store: Store) -> None:
    """Close the store and drop its database when it is a PostgreSQL test database."""
    store.dispose()
    if store.backend == "postgresql":
        drop_postgres_database(store.url)


def wipe(store: Store) -> None:
    """Delete every row, children first, so one migrated database serves many tests."""
    with store.session() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())
