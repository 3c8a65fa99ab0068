"""A small data.police.uk client for the sync: paced under police.uk's limit, retrying what is worth asking
again, one requests.Session per thread. What its answers mean is finder.teams.policeuk_answers's business."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from finder.teams import policeuk_answers as policeuk

DEFAULT_URL = "https://data.police.uk/api"
USER_AGENT = "finder-sync/0.1 (London neighbourhood policing finder)"


class FetchError(RuntimeError):
    """A request that still failed after its retries."""


class Transient(RuntimeError):
    """An answer worth asking again: a 429 (`throttled`, `wait` from its Retry-After), a 5xx, a dropped
    connection, or a 200 that is not what the endpoint gives."""

    def __init__(self, reason: str, *, throttled: bool = False, wait: float | None = None) -> None:
        super().__init__(reason)
        self.throttled, self.wait = throttled, wait


class TokenBucket:
    """At most `rate` acquisitions a second on average and `burst` at once; shared by threads.

    Hand-written on purpose: `limits` (and Flask-Limiter) count a server's windows and refuse, they neither wait
    for a client's turn nor hold every thread back for a 429's Retry-After; police.uk's own limit is this bucket.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate, self.burst = float(rate), float(burst)
        self.clock, self.sleep = clock, sleep
        self.tokens = float(burst)
        self.updated = clock()
        self.paused_until = 0.0
        self.lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, waiting as long as needed; returns the seconds waited."""
        with self.lock:
            now = self.clock()
            start = max(now, self.paused_until)  # nothing goes out before a pause ends
            self.tokens = min(self.burst, self.tokens + max(0.0, start - self.updated) * self.rate)
            self.updated = max(self.updated, start)
            # Reserve a token now (tokens may go negative) and wait for our turn outside the lock.
            self.tokens -= 1
            wait = (start - now) + (-self.tokens / self.rate if self.tokens < 0 else 0.0)
        if wait > 0:
            self.sleep(wait)
        return wait

    def pause(self, seconds: float) -> None:
        """Hold every caller back for `seconds` (a 429's Retry-After), then allow one request and refill slowly."""
        with self.lock:
            until = self.clock() + seconds
            if until > self.paused_until:
                self.paused_until = until
                self.tokens = min(self.tokens, 1.0)
                self.updated = max(self.updated, until)


@dataclass
class ClientStats:
    """What the client did: requests sent (and when), retries, 429s, server and connection errors."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0  # 429s received
    server_errors: int = 0
    connection_errors: int = 0
    wrong_shape: int = 0  # 200s that were not what the endpoint gives
    times: deque = field(default_factory=lambda: deque(maxlen=100_000))

    def busiest_second(self) -> int:
        """The most requests sent in any one-second window."""
        times, best, left = list(self.times), 0, 0
        for right, t in enumerate(times):
            while t - times[left] >= 1.0:
                left += 1
            best = max(best, right - left + 1)
        return best

    def mean_rate(self) -> float:
        """Requests a second from the first to the last request."""
        if len(self.times) < 2:
            return 0.0
        return (len(self.times) - 1) / max(self.times[-1] - self.times[0], 1e-9)


class PoliceUK:
    """A small data.police.uk client: rate limited, retrying, one requests.Session per thread."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        rate: float = 14.0,
        burst: int = 20,
        retries: int = 5,
        backoff: float = 0.5,
        max_wait: float = 120.0,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.bucket = TokenBucket(rate, burst)
        self.retries, self.backoff, self.max_wait, self.timeout = retries, backoff, max_wait, timeout
        self.stats = ClientStats()
        self._local = threading.local()
        self._stats_lock = threading.Lock()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        return session

    def _count(self, name: str) -> None:
        with self._stats_lock:
            setattr(self.stats, name, getattr(self.stats, name) + 1)

    def get(self, *parts: str, check: Callable[[Any], Any] | None = None) -> Any:
        """GET base/part/part… as JSON; None for 404. Retries 429 (after Retry-After), 5xx, dropped links,
        and 200s that `check` rejects with policeuk.ShapeError (a wrong-shaped answer)."""
        url = f"{self.base_url}/{'/'.join(quote(p, safe='') for p in parts)}"
        retrying = Retrying(
            stop=stop_after_attempt(self.retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(Transient),
            before_sleep=self._before_retry,
            reraise=True,
        )
        try:
            return retrying(self._attempt, url, check)
        except Transient as exc:
            raise FetchError(f"{url}: {exc}, still after {self.retries} retries") from exc

    def _attempt(self, url: str, check: Callable[[Any], Any] | None) -> Any:
        """One request, in its turn: the answer, None for a 404, Transient for what is worth asking again."""
        self.bucket.acquire()
        with self._stats_lock:
            self.stats.requests += 1
            self.stats.times.append(time.monotonic())
        try:
            response = self._session().get(url, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            self._count("connection_errors")
            raise Transient(type(exc).__name__) from exc
        if response.status_code == 404:
            return None
        if response.status_code == 429:
            self._count("throttled")
            wait = retry_after(response.headers.get("Retry-After"))
            raise Transient("429 Too Many Requests", throttled=True, wait=wait)
        if response.status_code >= 500:
            self._count("server_errors")
            raise Transient(f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise FetchError(f"{url}: HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise Transient("a response that is not JSON") from None
        try:
            return data if check is None else check(data)
        except policeuk.ShapeError as exc:
            self._count("wrong_shape")
            raise Transient(f"a wrong-shaped answer ({exc})") from exc

    def _wait(self, state: RetryCallState) -> float:
        """A 429's Retry-After, else exponential backoff (backoff, twice that, ...); never over max_wait."""
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, Transient) and error.wait is not None:
            return min(self.max_wait, error.wait)
        return wait_exponential(multiplier=self.backoff, max=self.max_wait)(state)

    def _before_retry(self, state: RetryCallState) -> None:
        """Count the retry; after a 429, hold every worker back for the wait, not only this one."""
        self._count("retries")
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, Transient) and error.throttled and state.next_action is not None:
            self.bucket.pause(state.next_action.sleep)


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), read by urllib3; None if there is none."""
    if not value:
        return None
    try:
        return float(Retry().parse_retry_after(value))
    except InvalidHeader:
        return None
