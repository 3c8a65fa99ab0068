"""The store: teams, officers, contact routes, meetings, priorities and places, keyed by ward GSS code.

SQLite in the instance folder by default; DATABASE_URL points it at PostgreSQL. No Flask here:
the sync, the CLI and the web app all open sessions from a `Store`.

With a `timeout`, a slow or hung database cannot hold a web worker: a `reader()` gives up after
`timeout` seconds all told (connecting, the pool, locks, every statement), and any other statement
after `timeout` (plus a second's grace, so the server's own statement_timeout acts first).
PostgreSQL's statement_timeout is enforced by the server, so a frozen server never answers it, and
its kernel still acknowledges TCP, so keepalives and tcp_user_timeout never fire either: only a
client-side bound on each wait (`postgres.BoundedConnection`) stops a worker waiting on it for ever.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

DEFAULT_FILE = "finder.db"
UNBOUNDED_SQLITE_BUSY = 30.0  # without a timeout (the CLI's syncs and migrations), wait this long for a lock
GRACE = 1.0  # outside a reader, the server's statement_timeout should cancel first; then the client gives up
MIN_WAIT = 0.25  # even past a reader's deadline, time for a healthy server to answer the closing ROLLBACK

# When the current reader must be done (time.monotonic()), or None outside a reader.
_deadline: ContextVar[float | None] = ContextVar("finder_store_deadline", default=None)


def normalise_url(url: str) -> str:
    """Accept the usual spellings of a PostgreSQL URL and use psycopg (v3) for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def default_url(instance_path: str | Path) -> str:
    """The embedded default: SQLite in the app's instance folder."""
    return f"sqlite:///{Path(instance_path) / DEFAULT_FILE}"


class Store:
    """An engine and a session factory for one database; `timeout` (seconds) bounds every wait on it."""

    def __init__(self, url: str, *, echo: bool = False, timeout: float | None = None) -> None:
        self.url = normalise_url(url)
        self.timeout = timeout
        parsed = make_url(self.url)
        self.backend = parsed.get_backend_name()
        kwargs: dict = {"echo": echo}
        self.memory = self.backend == "sqlite" and (parsed.database or "") in ("", ":memory:")
        if self.backend == "sqlite":
            database = parsed.database or ""
            if self.memory:
                # One shared connection, or each connection would see its own empty database.
                kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
            else:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
                busy = timeout if timeout is not None else UNBOUNDED_SQLITE_BUSY
                kwargs.update(connect_args={"check_same_thread": False, "timeout": busy})
        else:
            kwargs.update(pool_pre_ping=True)
            if timeout is not None:
                kwargs.update(pool_timeout=timeout)
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.backend == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        elif self.backend == "postgresql" and timeout is not None:
            event.listen(self.engine, "do_connect", self._connect_bounded)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def embedded(self) -> bool:
        """SQLite: created and migrated automatically, one file (or memory) per app."""
        return self.backend == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends cleanly and rolls back when it raises."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read-only session: rolled back at the end, whatever happened; done within `timeout`."""
        token = _deadline.set(time.monotonic() + self.timeout) if self.timeout is not None else None
        try:
            with self.sessions() as session:
                try:
                    yield session
                finally:
                    session.rollback()
        finally:
            if token is not None:
                _deadline.reset(token)

    def _time_left(self) -> float | None:
        """Seconds left of the current reader's time, or None outside a reader."""
        deadline = _deadline.get()
        return None if deadline is None else deadline - time.monotonic()

    def _wait_limit(self) -> float:
        """How long the next wait on the database may take: what is left of the reader's time."""
        assert self.timeout is not None
        left = self._time_left()
        return self.timeout + GRACE if left is None else max(left, MIN_WAIT)

    def _connect_bounded(self, _dialect: Any, _record: Any, cargs: tuple, cparams: dict) -> Any:
        """Open a PostgreSQL connection whose connect, statements and waits are all bounded."""
        import psycopg  # here, not above: an SQLite store never loads it

        from finder.store.postgres import BoundedConnection  # psycopg's subclass: likewise

        assert self.timeout is not None
        left = self._time_left()
        if left is not None and left <= 0:  # the pooled connection used it all: do not start another wait
            raise psycopg.OperationalError(f"the database did not answer within {self.timeout:g} s")
        wait = self.timeout if left is None else left
        cparams.setdefault("connect_timeout", max(2, math.ceil(wait)))  # libpq counts whole seconds, at least 2
        ms = max(1, round(self.timeout * 1000))
        # The URL's own options come after ours, so an operator's setting wins.
        ours = f"-c statement_timeout={ms} -c lock_timeout={ms}"
        cparams["options"] = f"{ours} {cparams['options']}" if cparams.get("options") else ours
        connection = BoundedConnection.connect(*cargs, **cparams)
        connection.limit = self._wait_limit
        return connection

    def dispose(self) -> None:
        """Close pooled connections (before a server forks its workers, and at exit).

        An in-memory database lives in its one connection, so that is kept.
        """
        if not self.memory:
            self.engine.dispose()

    def __repr__(self) -> str:
        return f"Store({make_url(self.url).render_as_string(hide_password=True)!r})"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Foreign keys on (ON DELETE CASCADE), and WAL so readers do not block the sync's writes."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
