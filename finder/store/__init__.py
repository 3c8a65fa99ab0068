"""The store: teams, officers, contact routes, meetings, priorities and places, keyed by ward GSS code.

SQLite in the instance folder by default; DATABASE_URL points it at PostgreSQL. No Flask here:
the sync, the CLI and the web app all open sessions from a `Store`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

DEFAULT_FILE = "finder.db"


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
    """An engine and a session factory for one database."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
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
                kwargs.update(connect_args={"check_same_thread": False, "timeout": 30})
        else:
            kwargs.update(pool_pre_ping=True)
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.backend == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
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
        """A read-only session: rolled back at the end, whatever happened."""
        with self.sessions() as session:
            try:
                yield session
            finally:
                session.rollback()

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
