"""The API's rate-limit count (issues 27 and 28): the same answers whether counted in this process (memory://) or on
a shared storage (limits' Redis storage, a real redis-server here), swept when windows end, with no thread per
request, and on Redis one count across instances in one round trip a request."""

from __future__ import annotations

import threading

from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import MemoryStorage, storage_from_string

from finder import create_app
from finder.lookup.service import Lookup
from finder.web.limits import ClientLimits, LocalWindows, SharedWindows
from tests.support.redis import RedisServer


def threads_made() -> int:
    """How many threads this process has made so far: each new Thread's default name is "Thread-N" with N one more
    (Python's documented naming), so making one to read its name counts it too."""
    return int(threading.Thread().name.split("-")[1])


def test_counted_here_or_on_a_shared_storage_the_windows_are_the_same() -> None:
    items = [RateLimitItemPerMinute(3), RateLimitItemPerSecond(5, 3600)]
    here = ClientLimits("api", items, LocalWindows())
    shared = ClientLimits("api", items, SharedWindows(MemoryStorage()))  # limits' own counter, as with Redis

    answers = [(here.count("192.0.2.1"), shared.count("192.0.2.1")) for _ in range(4)]

    for local, limits_own in answers:
        assert local[0] == limits_own[0]
        assert [(w.limit, w.remaining) for w in local[1]] == [(w.limit, w.remaining) for w in limits_own[1]]
        assert all(abs(a.reset_after - b.reset_after) <= 1 for a, b in zip(local[1], limits_own[1], strict=True))
    assert [allowed for (allowed, _), _ in answers] == [True, True, True, False]
    assert [w[0].remaining for (_, w), _ in answers] == [2, 1, 0, 0]


def test_a_window_that_has_ended_opens_again_with_the_next_request_and_ended_ones_are_swept() -> None:
    now = [1000.0]
    windows = LocalWindows(clock=lambda: now[0])
    limit = RateLimitItemPerMinute(2)

    assert [windows.hit(limit, "api", "a")[0] for _ in range(3)] == [1, 2, 3]
    for n in range(1000):
        windows.hit(limit, "api", f"client {n}")
    now[0] += 61  # every window above has ended, and the minute between sweeps has passed
    assert windows.hit(limit, "api", "a") == (1, now[0] + 60)
    assert len(windows) == 1  # the thousand ended windows are gone, not kept for ever


def test_counting_api_requests_starts_no_thread(finder_lookup: Lookup) -> None:
    """limits' in-memory storage started a timer thread whenever its last had fired: 35 in 200 requests here."""
    client = create_app({"ENV_NAME": "testing", "RATE_LIMIT": "1000/minute"}, lookup=finder_lookup).test_client()
    client.get("/api/v1/postcodes/SW1A1AA")  # warm up: the first request may start the app's own workers
    before = threads_made()
    answers = [client.get("/api/v1/postcodes/SW1A1AA") for _ in range(200)]
    made = threads_made() - before - 1
    assert {a.status_code for a in answers} == {200} and answers[-1].headers["RateLimit-Remaining"] == "799"
    assert made == 0


class CountingStorage:
    """A storage's calls, counted: one round trip each on Redis."""

    def __init__(self, storage) -> None:
        self.storage = storage
        self.calls: list[str] = []

    def __getattr__(self, name: str):
        self.calls.append(name)
        return getattr(self.storage, name)


def test_two_instances_count_one_window_on_redis_in_one_round_trip_a_request_and_agree_when_it_resets() -> None:
    server = RedisServer().start()
    try:
        limit = [RateLimitItemPerMinute(4)]
        first_storage = CountingStorage(storage_from_string(server.url))
        first = ClientLimits("api", limit, SharedWindows(first_storage))
        second = ClientLimits("api", limit, SharedWindows(storage_from_string(server.url)))

        allowed, windows = first.count("198.51.100.7")  # opens the window
        assert allowed and windows[0].remaining == 3 and 59 <= windows[0].reset_after <= 60
        allowed, windows = second.count("198.51.100.7")  # another instance: the same window, its end from Redis
        assert allowed and windows[0].remaining == 2 and 58 <= windows[0].reset_after <= 60
        first_storage.calls.clear()
        answers = [first.count("198.51.100.7"), second.count("198.51.100.7"), first.count("198.51.100.7")]
        assert [allowed for allowed, _ in answers] == [True, True, False]  # the fifth of four, across both
        assert [w[0].remaining for _, w in answers] == [1, 0, 0]
        assert all(58 <= w[0].reset_after <= 60 for _, w in answers)
        assert first_storage.calls == ["incr", "incr"]  # nothing else asked of Redis for a window it holds
        assert first.count("203.0.113.9")[0]  # another client, its own window
    finally:
        server.stop()
