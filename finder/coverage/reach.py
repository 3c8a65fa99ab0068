"""Reach without tracking: lookups counted per ward, day and surface, in memory, added to the store each minute.

`Tally.count(ward_code, surface)` is the whole cost on a lookup: a dictionary increment under a
lock. A background thread in each worker adds the counts to the store every `interval` seconds in
one upsert (finder/store/reach.py), so a request never waits on the database for them, and a
store that is down or slow delays only the thread (the counts wait for the next minute).

The thread starts on a process's first count, so under gunicorn --preload it starts in each
worker after the fork, never in the master; an at-fork hook gives a child a fresh, empty tally.
A worker that stops cleanly adds what it holds at exit; one that is killed loses at most the
last `interval` of its counts. Nothing but the ward code, the day and the surface is kept.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from finder.store import Store
from finder.store.reach import SURFACES, Key, add_counts, counts_since
from finder.teams.directory import LONDON

log = logging.getLogger(__name__)
FLUSH_SECONDS = 60.0
WINDOW_DAYS = 28  # what the coverage page sums: the last four weeks, today included
FEWER_THAN = 10  # counts below this are shown as "fewer than 10"
_live: weakref.WeakSet[Tally] = weakref.WeakSet()


def london_today() -> date:
    """Today in London (a resident's day)."""
    return datetime.now(LONDON).date()


class Tally:
    """This process's lookup counts, added to `store` every `interval` seconds by a daemon thread."""

    def __init__(self, store: Store, *, interval: float = FLUSH_SECONDS, today: Callable[[], date] = london_today):
        self.store = store
        self.interval = interval
        self.today = today
        self._reset()
        _live.add(self)

    def _reset(self) -> None:
        """Empty, with no thread: how a new process (or a forked child) starts."""
        self._counts: dict[Key, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._started = False

    def count(self, ward_code: str, surface: str) -> None:
        """One lookup answered with this ward on this surface ("page", "api" or "embed")."""
        if not self._started:
            self._start()
        key = (self.today(), ward_code, surface)
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1

    def pending(self) -> dict[Key, int]:
        """A copy of what has not reached the store yet."""
        with self._lock:
            return dict(self._counts)

    def flush(self) -> int:
        """Add the counts to the store in one statement; on failure keep them for the next try. Returns rows written."""
        with self._lock:
            counts, self._counts = self._counts, {}
        if not counts:
            return 0
        try:
            with self.store.session() as session:
                add_counts(session, counts)
        except SQLAlchemyError as exc:
            with self._lock:
                for key, n in counts.items():
                    self._counts[key] = self._counts.get(key, 0) + n
            log.warning("lookup counts could not be stored (%s); trying again later", type(exc).__name__)
            return 0
        return len(counts)

    def stop(self) -> None:
        """Stop the thread and store what is left."""
        self._stop.set()
        self.flush()

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        thread = threading.Thread(
            target=_flush_every, args=(weakref.ref(self), self._stop, self.interval), name="finder-reach", daemon=True
        )
        thread.start()


def _flush_every(ref: weakref.ref[Tally], stop: threading.Event, interval: float) -> None:
    """The worker's flush loop; it ends when the tally is stopped or garbage collected."""
    while not stop.wait(interval):
        tally = ref()
        if tally is None:
            return
        tally.flush()
        del tally


def _after_fork_in_child() -> None:
    """A forked child starts with empty tallies and no threads (threads do not survive a fork)."""
    for tally in list(_live):
        tally._reset()


def _flush_all_at_exit() -> None:
    """A worker that exits cleanly (gunicorn's graceful stop) stores what it counted."""
    for tally in list(_live):
        if tally._started:
            tally.stop()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_flush_all_at_exit)


def lookups(store: Store, *, days: int = WINDOW_DAYS, today: date | None = None) -> dict[str, dict[str, int]]:
    """Ward code -> {"page", "api", "embed", "total"} lookups over the last `days` days, today included."""
    since = (today or london_today()) - timedelta(days=days - 1)
    with store.reader() as session:
        found = counts_since(session, since)
    return {
        ward: {**{s: by_surface.get(s, 0) for s in SURFACES}, "total": sum(by_surface.values())}
        for ward, by_surface in found.items()
    }


def shown(count: int) -> int | str:
    """A count as it may be shown: "fewer than 10" below ten, so no small number singles anyone out."""
    return count if count >= FEWER_THAN else f"fewer than {FEWER_THAN}"
