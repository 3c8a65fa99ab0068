"""Schema migrations with Alembic: `finder init-db` upgrades a database to the newest revision.

The revisions live in finder/store/migrations so they ship with the package. The embedded
SQLite store is upgraded automatically when the app starts; PostgreSQL is upgraded by
`finder init-db` (one process, before the workers start), never by every worker at once.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import OperationalError

from finder.store import Store

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class StoreNotReady(RuntimeError):
    """The database is behind the code's schema; `finder init-db` brings it up to date."""


def alembic_config(store: Store | None = None) -> Config:
    """An Alembic config pointing at our migrations (and at the store's URL, when given)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if store is not None:
        cfg.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    return cfg


def head() -> str:
    """The newest revision in the code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()  # type: ignore[return-value]


def current(store: Store) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with store.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(store: Store, revision: str = "head") -> None:
    """Create or upgrade the schema, inside one transaction."""
    cfg = alembic_config(store)
    with store.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade(store: Store, revision: str) -> None:
    """Step the schema back (tests prove every revision can be undone)."""
    cfg = alembic_config(store)
    with store.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def ensure_ready(store: Store, *, outage_ok: bool = False) -> None:
    """Upgrade the embedded store; for a shared database, insist it was upgraded by `finder init-db`.

    With `outage_ok` (the web app), a store that cannot be reached now (down, frozen, locked) is
    left for later: the app starts and answers from geodata, saying team details are unavailable.
    A store that answers at the wrong schema still stops it.
    """
    try:
        if store.embedded:
            upgrade(store)
        elif current(store) != head():
            raise StoreNotReady(f"the database at {store!r} is not at schema {head()}; run `finder init-db`")
    except OperationalError as exc:
        if not outage_ok:
            raise
        log.warning("the team store %r cannot be reached (%s): starting without it", store, exc.orig or exc)


def main() -> None:  # pragma: no cover - a developer's tool
    """`python -m finder.store.migrate revision -m "…"`: autogenerate a revision against a scratch SQLite."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("action", choices=["revision"])
    parser.add_argument("-m", "--message", required=True)
    args = parser.parse_args()
    store = Store("sqlite://")
    upgrade(store)
    cfg = alembic_config(store)
    with store.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.revision(cfg, message=args.message, autogenerate=True)


if __name__ == "__main__":  # pragma: no cover
    main()
