"""Real store faults for tests: a PostgreSQL server frozen with SIGSTOP, a SQLite file held locked.

The frozen server is a throwaway one of our own (scripts/pg-test-server), never the suite's shared
server, so freezing it stalls nothing else. Every freeze and lock is undone in a `finally`, and
`within` runs a call in a thread and waits a bounded time, so a test of a hang fails, not hangs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

from tests.support.stores import PG_SCRIPT

T = TypeVar("T")


class PostgresServer:
    """A PostgreSQL server of our own, to freeze and thaw."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="finder-pg-frozen."))
        done = subprocess.run(
            [str(PG_SCRIPT), "start", str(self.folder)], capture_output=True, text=True, timeout=300, check=False
        )
        if done.returncode != 0:
            self.stop()
            pytest.fail(f"PostgreSQL could not start for the fault tests:\n{done.stderr.strip()}", pytrace=False)
        self.url = done.stdout.strip().splitlines()[-1]

    def processes(self) -> list[int]:
        """The postmaster and every process it started (the backends hold the open connections)."""
        postmaster = int((self.folder / "data" / "postmaster.pid").read_text().split()[0])
        children = []
        for entry in os.listdir("/proc"):
            try:
                stat = Path(f"/proc/{entry}/stat").read_text() if entry.isdigit() else ""
            except OSError:
                continue  # the process ended while we looked
            if stat and int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
                children.append(int(entry))
        return [postmaster, *children]

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """Stop every server process (its kernel still accepts and acknowledges TCP); thaw at the end."""
        stopped = []
        try:
            for pid in self.processes():
                try:
                    os.kill(pid, signal.SIGSTOP)
                except ProcessLookupError:
                    continue  # a backend whose connection closed (dispose) ended between the listing and now
                stopped.append(pid)
            yield
        finally:
            # Backends first, the postmaster last: a thawed postmaster reaps a backend that was already
            # exiting, and a process that is gone by then needs no thawing.
            for pid in reversed(stopped):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)

    def stop(self) -> None:
        """Stop the server and delete its folder."""
        subprocess.run([str(PG_SCRIPT), "stop", str(self.folder)], capture_output=True, check=False, timeout=120)


@contextmanager
def locked_sqlite(path: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on a SQLite file that readers cannot get past, until the block ends.

    In WAL mode `BEGIN EXCLUSIVE` alone still lets readers in; exclusive locking mode after a write
    shuts them out too, as a stuck writer or a copy tool holding the file would. It can only be taken
    while no other connection has the file open (as in a worker before its first lookup).
    """
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("CREATE TABLE lock_holder (x)")
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def within(seconds: float, call: Callable[[], T]) -> tuple[T, float]:
    """Run `call` in a thread; its result and how long it took, or a failure if it takes longer than `seconds`.

    A call stuck on a frozen store stays stuck in its (daemon) thread until the store is thawed.
    """
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed back to the test's thread
            outcome["error"] = exc

    started = time.monotonic()
    thread = threading.Thread(target=run, name="bounded-call", daemon=True)
    thread.start()
    thread.join(seconds)
    took = time.monotonic() - started
    if thread.is_alive():
        pytest.fail(f"still waiting after {seconds} s: a hung store holds the request", pytrace=False)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"], took  # type: ignore[return-value]
