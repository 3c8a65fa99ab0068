"""PostgreSQL's side of the store's time bound, in its own module so an SQLite store never imports psycopg."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.errors import _WaitTimeout


class BoundedConnection(psycopg.Connection):
    """A psycopg connection that stops waiting when the server has not answered in time.

    psycopg routes every wait (execute, fetch, commit, rollback) through `wait`. After a timeout
    the conversation with the server is in an unknown state, so the connection is closed and
    SQLAlchemy, seeing it closed, discards it from the pool.
    """

    limit: Any = None  # a callable giving the seconds the next wait may take

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        limit = self.limit() if timeout is None and self.limit is not None else timeout
        try:
            return super().wait(gen, interval, timeout=limit)
        except _WaitTimeout as exc:
            self.close()
            raise psycopg.OperationalError(f"the database did not answer within {limit:.1f} s") from exc
