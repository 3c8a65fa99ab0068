"""A store with a timeout never holds its caller longer than that, however the database misbehaves."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from finder.store import Store
from finder.store.migrate import upgrade
from tests.store.faults import PostgresServer, locked_sqlite, within

TIMEOUT = 1.0
# A reader's time is its timeout all told, or libpq's shortest connect timeout (2 s) when it must open
# a connection; plus slack for a busy machine. Well under gunicorn's 30 s, which the old settings reached.
BOUND = max(TIMEOUT, 2) + 3
# A writer's pooled connection may take the timeout plus a second's grace, then a new one 2 s to fail.
WRITER_BOUND = TIMEOUT + 1 + 2 + 3


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        yield server
    finally:
        server.stop()


def read_one(store: Store) -> int:
    with store.reader() as session:
        return session.execute(text("SELECT 1")).scalar_one()


def test_a_reader_gives_up_on_a_locked_sqlite_file_after_its_timeout(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'locked.db'}", timeout=TIMEOUT)
    upgrade(store)
    store.dispose()
    with locked_sqlite(tmp_path / "locked.db"), pytest.raises(OperationalError, match="locked"):
        within(BOUND, lambda: read_one(store))
    assert read_one(store) == 1  # and reads again once the lock is gone


def test_a_reader_gives_up_on_a_frozen_postgresql_and_reads_again_once_it_thaws(postgres):
    store = Store(postgres.url, timeout=TIMEOUT)
    try:
        assert read_one(store) == 1  # a pooled connection, open when the server freezes
        with postgres.frozen(), pytest.raises(OperationalError):
            within(BOUND, lambda: read_one(store))
        assert within(BOUND, lambda: read_one(store))[0] == 1
    finally:
        store.dispose()


def test_connecting_to_a_frozen_postgresql_gives_up(postgres):
    store = Store(postgres.url, timeout=TIMEOUT)
    try:
        with postgres.frozen(), pytest.raises(OperationalError, match="timeout"):
            within(BOUND, lambda: read_one(store))
    finally:
        store.dispose()


def test_postgresql_cancels_a_statement_that_outlasts_the_timeout_and_the_connection_stays_usable(postgres):
    store = Store(postgres.url, timeout=TIMEOUT)
    try:
        with pytest.raises(OperationalError) as raised, store.session() as session:
            session.execute(text("SELECT pg_sleep(3)"))
        assert isinstance(raised.value.orig, psycopg.errors.QueryCanceled)  # the server's statement_timeout
        with store.session() as session:
            assert session.execute(text("SHOW statement_timeout")).scalar_one() == "1s"
    finally:
        store.dispose()


def test_a_frozen_postgresql_does_not_hold_a_writer_either(postgres):
    store = Store(postgres.url, timeout=TIMEOUT)

    def write() -> None:
        with store.session() as session:
            session.execute(text("SELECT 1"))

    try:
        write()
        with postgres.frozen(), pytest.raises(OperationalError):
            within(WRITER_BOUND, write)
    finally:
        store.dispose()
