"""The API's rate-limit count (issue 27): the same answers whether counted in this process (memory://) or on a
shared storage by limits' fixed window (as with Redis), swept when windows end, and with no thread per request."""

from __future__ import annotations

import threading

from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import MemoryStorage

from finder import create_app
from finder.lookup.service import Lookup
from finder.web.limits import ClientLimits, LocalWindows


def threads_made() -> int:
    """How many threads this process has made so far: each new Thread's default name is "Thread-N" with N one more
    (Python's documented naming), so making one to read its name counts it too."""
    return int(threading.Thread().name.split("-")[1])


def test_counted_here_or_on_a_shared_storage_the_windows_are_the_same() -> None:
    items = [RateLimitItemPerMinute(3), RateLimitItemPerSecond(5, 3600)]
    here = ClientLimits("api", items, None, LocalWindows())
    shared = ClientLimits("api", items, MemoryStorage(), LocalWindows())  # limits' own counter, as with Redis

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
