"""Telling every worker of every instance that a team changed, through Redis's publish and subscribe.

Each worker keeps every team it read (TeamDirectory, FINDER_TEAM_CACHE_SECONDS). Without FINDER_REDIS_URL, a
change shows at once on the worker that made it and on the others when their copy expires. With it, whoever
changes a team (an officer's edit, an approval or a restore in the staff area; a sync, a snapshot, the samples or
a backup restored from the CLI) announces the ward, or EVERY_WARD, on one channel, and each worker's listener
drops its copy of that ward within milliseconds; the expiry stays as the backstop for an announcement lost.

Announcements carry ward codes only: no postcode, point or person. Redis being down never stops an edit (it is
saved; the announcement is logged as lost) nor a lookup (the copies expire as without Redis). A listener that
loses Redis subscribes again and, once it has, drops every copy, since it may have missed announcements.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable

log = logging.getLogger(__name__)

CHANNEL = "finder:teams-changed"
EVERY_WARD = "*"
RECONNECT_SECONDS = 1.0  # between attempts to subscribe again after Redis went away
HEALTH_CHECK_SECONDS = 5  # a silent, dead connection is noticed within this (redis-py sends PING)
TIMEOUT_SECONDS = 2.0  # for one announcement: an edit waits no longer on Redis than this


class ChangeFeed:
    """Announces changed wards on FINDER_REDIS_URL and listens for them, in each process (forked ones too)."""

    def __init__(self, url: str) -> None:
        import redis  # here, not above: 0.1 s of start-up that an install without Redis never pays

        self.url = url
        self._error = redis.RedisError
        self._client = redis.Redis.from_url(url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS)
        self._stopped = threading.Event()
        self.listening = threading.Event()  # set while this process is subscribed and has dropped what it kept

    def announce(self, ward_code: str = EVERY_WARD) -> None:
        """Tell every listener that this ward's team (or every team) changed in the store."""
        try:
            self._client.publish(CHANNEL, ward_code)
        except self._error as exc:  # the change is saved: the others see it when their copies expire
            log.warning(
                "could not announce a changed team on Redis (%s); other workers see it when their copy expires", exc
            )

    def listen(self, on_change: Callable[[str], None]) -> None:
        """Call `on_change(ward_code)` for each announcement, from a thread of this process and, after a fork,
        of the child (gunicorn forks its workers after loading the app: threads do not cross a fork)."""
        self._start(on_change)
        feed = weakref.ref(self)

        def in_child() -> None:
            if (alive := feed()) is not None and not alive._stopped.is_set():
                alive.listening.clear()  # the parent's state; this process has not subscribed yet
                alive._start(on_change)

        os.register_at_fork(after_in_child=in_child)

    def stop(self) -> None:
        """Stop listening (within a second), in this process."""
        self._stopped.set()

    def _start(self, on_change: Callable[[str], None]) -> None:
        threading.Thread(target=self._run, args=(on_change,), name="finder-team-changes", daemon=True).start()

    def _run(self, on_change: Callable[[str], None]) -> None:
        import redis

        failing = False  # said once an outage, not every second of it
        while not self._stopped.is_set():
            try:
                # A connection of its own: a subscribed connection can do nothing else.
                client = redis.Redis.from_url(self.url, health_check_interval=HEALTH_CHECK_SECONDS)
                with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    pubsub.subscribe(CHANNEL)
                    on_change(EVERY_WARD)  # anything announced while this process was not listening
                    self.listening.set()
                    if failing:
                        log.warning("listening for changed teams on Redis again")
                        failing = False
                    while not self._stopped.is_set():
                        message = pubsub.get_message(timeout=1.0)
                        if message is not None and message["type"] == "message":
                            on_change(message["data"].decode("ascii", "replace"))
            except Exception as exc:  # Redis away, or a fault in on_change: this thread must not end
                self.listening.clear()
                if not failing:
                    log.warning(
                        "not listening for changed teams on Redis (%s); each worker's copies expire as without it, "
                        "trying again every %g s",
                        exc if isinstance(exc, redis.RedisError) else repr(exc),
                        RECONNECT_SECONDS,
                    )
                    failing = True
                self._stopped.wait(RECONNECT_SECONDS)
