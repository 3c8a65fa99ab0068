"""Schema migrations with Alembic: `finder init-db` upgrades a database to the newest revision.

The revisions live in finder/store/migrations so they ship with the package. The embedded
SQLite store is upgraded automatically when the app starts; PostgreSQL is upgraded by
`finder init-db` (one process, before the workers start), never by every worker at once.

Starting the app only reads the stored revision (one query) and compares it with the newest file's:
Alembic (and Mako, Pygments under it: 0.15 s of imports) is loaded only when a schema must change.
"""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import OperationalError

from finder.store import Store

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Each revision file is named "<revision>_<slug>.py", its revision a number one above the one it revises.
REVISION_FILE = re.compile(r"(\d{4})_\w+\.py")
VERSION_TABLE = "alembic_version"


class StoreNotReady(RuntimeError):
    """The database is behind the code's schema; `finder init-db` brings it up to date."""


def alembic_config(store: Store | None = None) -> Config:
    """An Alembic config pointing at our migrations (and at the store's URL, when given)."""
    from alembic.config import Config  # here: Alembic is 0.15 s of imports, only when a schema must change

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if store is not None:
        cfg.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    return cfg


def head() -> str:
    """The newest revision in the code: the highest-numbered revision file (a test checks Alembic agrees)."""
    return max(m[1] for p in (MIGRATIONS / "versions").iterdir() if (m := REVISION_FILE.fullmatch(p.name)))


def current(store: Store) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with store.engine.connect() as connection:
        return revision_of(connection)


def revision_of(connection: Connection) -> str | None:
    """The revision of the database behind an open connection (None for an empty database)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(store: Store, revision: str = "head") -> None:
    """Create or upgrade the schema, inside one transaction."""
    from alembic import command  # likewise

    cfg = alembic_config(store)
    with store.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade(store: Store, revision: str) -> None:
    """Step the schema back (tests prove every revision can be undone)."""
    from alembic import command  # likewise

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
        if current(store) == head():
            return
        if not store.embedded:
            raise StoreNotReady(f"the database at {store!r} is not at schema {head()}; run `finder init-db`")
        upgrade(store)
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
    from alembic import command  # likewise

    store = Store("sqlite://")
    upgrade(store)
    cfg = alembic_config(store)
    with store.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.revision(cfg, message=args.message, autogenerate=True)


if __name__ == "__main__":  # pragma: no cover
    main()
