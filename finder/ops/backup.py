"""`finder backup` and `finder restore`: the team store to one file and back, with each database's own tools.

SQLite: its online backup API (sqlite3's `Connection.backup`), a consistent copy while the finder serves and
writes; the file is itself a SQLite database. PostgreSQL: pg_dump's custom format and pg_restore, found on
PATH (Debian's postgresql-client), given the password through PGPASSWORD, never on a command line that `ps`
shows. A restore goes into an empty store only, unless told to replace what is there, and a backup restores
into the kind of store it was taken from.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from finder.store import Store
from finder.store.migrate import VERSION_TABLE

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"  # pg_dump's custom format


class BackupError(RuntimeError):
    """A backup or restore that cannot be done as asked; the message says why and what to do."""


def backup(store: Store, path: Path) -> None:
    """Write the whole store to `path` (replaced whole only once the copy is complete)."""
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    if store.backend == "sqlite":
        source = _sqlite_file(store)
        with _sqlite(source, read_only=True) as src, _sqlite(partial) as dst:
            src.backup(dst)
    else:
        _run_pg("pg_dump", store, "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}")
    partial.replace(path)


def restore(store: Store, path: Path, *, replace: bool = False) -> None:
    """Load a backup made by `backup` into the store: an empty one, or (`replace`) one whose contents go."""
    kind = _backup_kind(path)
    if kind != store.backend:
        names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
        raise BackupError(f"{path} is a {names[kind]} backup: it restores into a {names[kind]} store, not {store!r}")
    if not replace and inspect(store.engine).get_table_names():
        raise BackupError(f"{store!r} is not empty: restore into an empty store, or give --replace to overwrite it")
    store.dispose()
    if kind == "sqlite":
        with _sqlite(str(path), read_only=True) as src:
            if not src.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (VERSION_TABLE,)).fetchone():
                raise BackupError(f"{path} is a SQLite database but not a finder store (no {VERSION_TABLE} table)")
            with _sqlite(_sqlite_file(store)) as dst:
                src.backup(dst)
    else:
        clean = ("--clean", "--if-exists") if replace else ()
        _run_pg("pg_restore", store, "--no-owner", "--no-privileges", "--single-transaction", *clean, str(path))


def _backup_kind(path: Path) -> str:
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from None
    if head == SQLITE_MAGIC:
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a backup made by `finder backup` (neither SQLite nor pg_dump's custom format)")


def _sqlite_file(store: Store) -> str:
    if store.memory:
        raise BackupError("the store is an in-memory SQLite database: there is no file to back up or restore into")
    database = make_url(store.url).database
    assert database is not None  # not in memory
    return database


@contextmanager
def _sqlite(file: str | Path, *, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection (the backup API is sqlite3's, not SQLAlchemy's), closed at the end."""
    if read_only:
        connection = sqlite3.connect(f"file:{Path(file).resolve()}?mode=ro", uri=True)
    else:
        connection = sqlite3.connect(file)
    try:
        yield connection
    finally:
        connection.close()


def _run_pg(tool: str, store: Store, *args: str) -> None:
    """Run pg_dump or pg_restore against the store's database; its own error message when it fails."""
    binary = shutil.which(tool)
    if binary is None:
        raise BackupError(
            f"{tool} is not on PATH: install PostgreSQL's client tools (Debian: apt-get install postgresql-client), "
            "at the server's major version or newer"
        )
    url = make_url(store.url)
    env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    target = "--dbname" if tool == "pg_restore" else None
    conninfo = _libpq_url(url)
    command = [binary, *args, f"{target}={conninfo}"] if target else [binary, *args, conninfo]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{tool} failed (exit {done.returncode}): {done.stderr.strip()}")


def _libpq_url(url: URL) -> str:
    """The URL as libpq reads it: plain postgresql://, without the password (that goes in PGPASSWORD)."""
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
