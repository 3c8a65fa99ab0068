"""Rate limits, counted per client address by `limits` (the library under Flask-Limiter) in the storage
FINDER_LIMITER_STORAGE_URI names: memory:// (each worker counts on its own) or redis://... (one count
across workers and instances).

- The API (RATE_LIMIT): one count per client over every /api/v1 request but the health check and
  preflights, unknown paths included, in one `before_request`; finder/web/security.py writes the RateLimit-*
  headers.
- The costly pages (`@limited`): /search and a ward's poster.pdf (about 0.24 s of CPU each,
  BENCHMARKS.md "Ward posters"), each with its own setting; a client over one gets a 429 page.
- Residents' no-team reports (NO_TEAM_RATE_LIMIT), in finder/coverage/nudges.py.
- Staff sign-in failures (finder/staff/accounts.py's Throttle) count on the same storage with the
  moving-window strategy (`sign_in_limiter`).

Windows are fixed and open with a client's first request (limits' fixed-window strategy; on Redis, counted by
limits' storage in one round trip a request: `SharedWindows`). A setting
"off" (or empty) sets no limit; one that is no rate limit stops the app with a clear message.

Not Flask-Limiter (issue 27): its `before_request` ran on every request, limited or not, and cost the API
about 190 µs a request and a kept ward page a tenth of its time, against 11 µs for the count itself (measured
under cProfile); what it gave here (a decorator, a storage from a URI, a 429) is the few lines below.
With memory://, counts are kept by `LocalWindows` and swept a minute at most after their window ends.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial, wraps
from typing import Any, NamedTuple, TypeVar, cast

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from finder.errors import FinderError
from finder.i18n import tr
from finder.ops.metrics import RATE_LIMIT_REFUSALS

EXTENSION = "finder_limits"
API_PREFIX = "/api/v1/"
NOT_LIMITED = {"api.health"}  # load balancers poll it; it does no work worth protecting
# Each limit's setting, with an example for the message when it is no rate limit.
SETTINGS = {
    "RATE_LIMIT": "120/minute",
    "SEARCH_RATE_LIMIT": "60/minute",
    "POSTER_RATE_LIMIT": "10/minute",
    "NO_TEAM_RATE_LIMIT": "10/hour",
}
F = TypeVar("F", bound=Callable[..., Any])


class RateLimited(FinderError):
    """A client has used up its API requests for this window (429)."""

    status = 429
    code = "rate_limited"


class PageRateLimited(FinderError):
    """A client has asked for a limited page (or report) more often than its setting allows (429)."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: Any, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Window(NamedTuple):
    """Where one client stands against one limit after this request."""

    limit: RateLimitItem
    remaining: int
    reset_after: int  # whole seconds until the window resets


def parse_limits(text: str) -> list[RateLimitItem]:
    """Limits separated by ';' or ','; "off" or nothing for none. Raises ValueError for anything else."""
    if text.strip().lower() in ("", "off"):
        return []
    items = parse_many(text)
    # limits reads "5/0 minutes" as per minute, and "0/minute" would refuse every request.
    if any(item.amount < 1 for item in items) or re.search(r"(/|per)\s*0+\s*[a-z]", text, re.IGNORECASE):
        raise ValueError(f"{text!r} allows no request at all")
    return items


def rate_limit_policy(app: Flask) -> str:
    """The API's limits as the RateLimit-Policy header gives them: "120;w=60, 1000;w=86400"."""
    check_setting(app, "RATE_LIMIT", "120/minute")
    return ", ".join(f"{item.amount};w={item.get_expiry()}" for item in parse_limits(app.config["RATE_LIMIT"]))


def _not_an_api_request() -> bool:
    return not request.path.startswith(API_PREFIX) or request.method == "OPTIONS" or request.endpoint in NOT_LIMITED


class LocalWindows:
    """Fixed windows counted in this process (memory://), each opening with a client's first request.

    Hand-written, not limits' MemoryStorage: that one starts a `threading.Timer` whenever its last has fired
    (10 ms), and `Thread.start` waits until the new thread runs: 884 thread starts in 3,000 API requests,
    measured. Here expired windows are swept inline, at most once a minute (100,000 clients: about 10 ms).
    """

    SWEEP_SECONDS = 60.0

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        # (scope, client, amount, seconds): (when the window resets, requests in it)
        self._windows: dict[tuple[str, str, int, int], tuple[float, int]] = {}
        self._lock = threading.Lock()
        self._sweep_at = 0.0

    def __len__(self) -> int:
        """How many windows are held (clients times limits), ended ones included until the next sweep."""
        return len(self._windows)

    def hit(self, item: RateLimitItem, scope: str, client: str) -> tuple[int, float]:
        """Count one request: (requests in the client's window so far, when the window resets)."""
        now, seconds = self.clock(), item.get_expiry()
        key = (scope, client, item.amount, seconds)
        with self._lock:
            self._sweep(now)
            reset_at, hits = self._windows.get(key, (0.0, 0))
            if now >= reset_at:
                reset_at, hits = now + seconds, 0
            self._windows[key] = (reset_at, hits + 1)
        return hits + 1, reset_at

    def reset_at(self, item: RateLimitItem, scope: str, client: str) -> float | None:
        """When the client's window resets, if this process holds one still open."""
        held = self._windows.get((scope, client, item.amount, item.get_expiry()))
        return held[0] if held is not None and held[0] > self.clock() else None

    def hold(self, item: RateLimitItem, scope: str, client: str, reset_at: float) -> None:
        """Keep when a window counted elsewhere resets (SharedWindows), without counting here."""
        with self._lock:
            self._sweep(self.clock())
            self._windows[(scope, client, item.amount, item.get_expiry())] = (reset_at, 0)

    def _sweep(self, now: float) -> None:
        """Drop ended windows, at most once a minute (under the lock)."""
        if now >= self._sweep_at:
            self._windows = {k: w for k, w in self._windows.items() if w[0] > now}
            self._sweep_at = now + self.SWEEP_SECONDS


class SharedWindows:
    """Fixed windows counted on the shared storage (Redis), each opening with a client's first request there.

    One round trip a request: limits' `Storage.incr` (on Redis, its script adds one and starts a new window's
    expiry). limits' FixedWindowRateLimiter made three (the hit, then `get_window_stats`' expiry and count):
    348-451 µs a count against 119-161 µs here, measured (BENCHMARKS.md, issue 28). When a window resets is
    kept here, as `LocalWindows` keeps it, and asked of the storage only for a window another worker or
    instance opened.
    """

    def __init__(self, storage: Storage, clock: Callable[[], float] = time.time) -> None:
        self.storage = storage
        self.clock = clock
        self._resets = LocalWindows(clock)  # when each window this process has seen resets (counted in the storage)

    def hit(self, item: RateLimitItem, scope: str, client: str) -> tuple[int, float]:
        """Count one request: (requests in the client's window so far, across instances; when it resets)."""
        key = item.key_for(scope, client)
        hits = self.storage.incr(key, item.get_expiry())
        reset_at = self._resets.reset_at(item, scope, client)
        if hits == 1:  # this request opened the window
            reset_at = self.clock() + item.get_expiry()
        elif reset_at is None:  # another worker or instance did: its end is the storage's
            reset_at = self.storage.get_expiry(key)
        else:
            return hits, reset_at
        self._resets.hold(item, scope, client, reset_at)
        return hits, reset_at


class ClientLimits:
    """One setting's limits per client: in this process for memory://, else on the shared storage (Redis).
    Every limit counts every request, as the RateLimit-* headers say; a request over any of them is refused."""

    def __init__(self, scope: str, items: list[RateLimitItem], windows: LocalWindows | SharedWindows) -> None:
        self.scope = scope
        self.items = items
        self.windows = windows

    def count(self, client: str) -> tuple[bool, list[Window]]:
        """Count one request of `client`: (allowed, where it stands against each limit)."""
        allowed, counted, now = True, [], time.time()
        for item in self.items:
            within, remaining, reset_at = self._hit(item, client)
            allowed = allowed and within
            counted.append(Window(item, remaining, max(1, min(item.get_expiry(), math.ceil(reset_at - now)))))
        if not allowed:
            RATE_LIMIT_REFUSALS.labels(self.scope).inc()
        return allowed, counted

    def _hit(self, item: RateLimitItem, client: str) -> tuple[bool, int, float]:
        """(within the limit, requests left, when the window resets) after counting one request."""
        hits, reset_at = self.windows.hit(item, self.scope, client)
        return hits <= item.amount, max(0, item.amount - hits), reset_at


@dataclass
class RateLimits:
    """An app's limits: the storage (sign-in failures count there too) and each setting's limits ("off": none)."""

    storage: Storage
    by_setting: dict[str, ClientLimits] = field(default_factory=dict)


def _client() -> str:
    """The client's address (behind proxies, FINDER_PROXIES makes it the forwarded one)."""
    return request.remote_addr or "127.0.0.1"


def _count_api_request(api: ClientLimits) -> Response | None:
    """Count an /api/v1 request (unknown paths too; not the health check or a preflight); refuse it when over."""
    if _not_an_api_request():
        return None
    allowed, counted = api.count(_client())
    g.api_windows = counted
    return None if allowed else _api_refusal(counted)


def _too_many_requests() -> str:
    # How long exactly goes in Retry-After; one sentence needs no plural in any language.
    return tr("Too many requests from your connection. Please wait a little, then try again.")


def limited(setting: str, message: Callable[[], str] = _too_many_requests) -> Callable[[F], F]:
    """Count each request of the view against config `setting` for the client's address; `message` refuses."""

    def decorate(view: F) -> F:
        @wraps(view)
        def counted(*args: Any, **kwargs: Any) -> Any:
            limits = current_app.extensions[EXTENSION].by_setting.get(setting)
            if limits is not None:
                allowed, windows = limits.count(_client())
                if not allowed:
                    wait = retry_after(windows)
                    page = render_template("error.html", error=PageRateLimited(message(), wait))
                    return page, 429, {"Retry-After": str(wait), "Cache-Control": "no-store"}
            return view(*args, **kwargs)

        return cast(F, counted)

    return decorate


def sign_in_limiter() -> MovingWindowRateLimiter:
    """The moving-window counter of staff sign-in failures, on the app's limit storage (memory or Redis)."""
    return MovingWindowRateLimiter(current_app.extensions[EXTENSION].storage)


def windows() -> list[Window]:
    """Where the client stands against each API limit this request counted (none if none did)."""
    return g.get("api_windows") or []


def retry_after(counted: list[Window]) -> int:
    """Seconds until every used-up window has reset."""
    return max((w.reset_after for w in counted if w.remaining == 0), default=1)


def _api_refusal(counted: list[Window]) -> Response:
    """429 in JSON, naming the tightest limit used up (security.py adds the RateLimit-* and Retry-After headers)."""
    wait = retry_after(counted)
    tightest = min((w.limit for w in counted if w.remaining == 0), key=RateLimitItem.get_expiry)
    unit = tightest.GRANULARITY.name
    per = unit if tightest.multiples == 1 else f"{tightest.multiples} {unit}s"
    refusal = RateLimited(
        f"Too many requests: this API allows {tightest.amount} per {per} from each client. "
        f"Try again in {wait} second{'' if wait == 1 else 's'}."
    )
    response = jsonify(refusal.to_dict())
    response.status_code = refusal.status
    return response


def check_setting(app: Flask, name: str, example: str) -> None:
    """Stop the app, naming the setting, when config `name` is no rate limit."""
    try:
        parse_limits(app.config[name])
    except ValueError:
        raise ValueError(
            f"FINDER_{name} {app.config[name]!r} is not a rate limit: use a form like {example}, "
            "several separated by ';', or off"
        ) from None


def init_app(app: Flask) -> None:
    """Check the settings, then count on the storage FINDER_LIMITER_STORAGE_URI names."""
    uri = app.config["LIMITER_STORAGE_URI"]
    storage = storage_from_string(uri)  # an unknown scheme stops the app here (limits' ConfigurationError)
    if not isinstance(storage, Storage):
        raise ValueError(f"FINDER_LIMITER_STORAGE_URI {uri!r} names an asyncio storage: use memory:// or redis://")
    MovingWindowRateLimiter(storage)  # a storage without moving windows (memcached) stops it here, not at a sign-in
    limits = RateLimits(storage)
    windows = LocalWindows() if uri.startswith("memory://") else SharedWindows(storage)
    for name, example in SETTINGS.items():
        check_setting(app, name, example)
        if items := parse_limits(app.config[name]):
            limits.by_setting[name] = ClientLimits(name, items, windows)
    app.extensions[EXTENSION] = limits
    if api := limits.by_setting.get("RATE_LIMIT"):  # decided once: with the API's limit off, no hook at all
        app.before_request(partial(_count_api_request, api))
