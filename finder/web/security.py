"""Response headers for every surface: security policy, framing, CORS, caching and API rate limits.

- Every response: a strict Content-Security-Policy with no inline script at all (scripts are files
  from our own origin; the one inline style, the embed's accent colour, carries a per-request
  nonce; images from our origin and the configured tile server only, plus the data: GIF Leaflet
  puts in an abandoned tile), X-Content-Type-Options, Referrer-Policy, Permissions-Policy, and
  HSTS in production.
- Framing: views marked `@frameable` (the /embed widget) may be framed by the origins in
  EMBED_ANCESTORS and our own; every other response says `frame-ancestors 'none'` and
  `X-Frame-Options: DENY`, and pages are isolated with Cross-Origin-Opener-Policy.
- /api/v1: GETs are open to any origin (CORS `*`, never with credentials) and cacheable (ETag from
  the body, 304 on If-None-Match, Cache-Control); every client is rate limited, with the IETF
  draft RateLimit-* headers and a JSON 429 with Retry-After.

Rate limits are fixed windows counted in each worker process's memory (a dict and a lock: no
threads, no I/O, a few microseconds a request). With N gunicorn workers a client may get up to N
times the limit; for one count across workers and instances, limit at the proxy or CDN in front.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from werkzeug.http import quote_etag
from werkzeug.middleware.proxy_fix import ProxyFix

from finder.errors import FinderError

API_PREFIX = "/api/v1/"
NOT_LIMITED = {"api.health"}  # load balancers poll it; it does no work worth protecting
NOT_CACHED = {"api.health"}
RATE_LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy", "Retry-After")
PERMISSIONS_POLICY = "camera=(), geolocation=(self), microphone=(), payment=(), usb=()"
HSTS = "max-age=31536000; includeSubDomains"
API_CSP = "default-src 'none'; frame-ancestors 'none'"
API_HEADERS = [
    ("Content-Security-Policy", API_CSP),
    ("Cross-Origin-Resource-Policy", "cross-origin"),
    ("X-Frame-Options", "DENY"),
]
CORS_HEADERS = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Expose-Headers", ", ".join(("ETag", *RATE_LIMIT_HEADERS))),
]
PREFLIGHT_HEADERS = [
    ("Access-Control-Allow-Methods", "GET, HEAD"),
    ("Access-Control-Allow-Headers", "If-None-Match"),
    ("Access-Control-Max-Age", "86400"),
]

# A CSP source a council's allow-list may hold: a scheme ("https:"), a host with an optional
# scheme, leading "*." wildcard and port ("https://*.example.gov.uk", "http://127.0.0.1:*"),
# or 'self' / 'none'. Nothing that could end the directive or add another.
_SOURCE = re.compile(
    r"^(?:'self'|'none'|[a-z][a-z0-9+.-]*:|(?:[a-z][a-z0-9+.-]*://)?(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::(?:\d{1,5}|\*))?)$",
    re.IGNORECASE,
)

F = TypeVar("F", bound=Callable[..., Any])


class RateLimited(FinderError):
    """A client has used up its requests for this window (429)."""

    status = 429
    code = "rate_limited"


def frameable(view: F) -> F:
    """Mark a view as embeddable: its pages may be framed by the allow-listed origins."""
    view.frameable = True  # type: ignore[attr-defined]
    return view


def csp_nonce() -> str:
    """This response's CSP nonce (templates call it for the one inline style they need)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def parse_ancestors(text: str) -> tuple[str, ...]:
    """Validate an allow-list of frame-ancestors sources; a bad entry stops the app at start-up."""
    sources = tuple(text.split())
    if not sources:
        raise ValueError("FINDER_EMBED_ANCESTORS is empty: use 'none' to forbid embedding, or https: for any site")
    for source in sources:
        if not _SOURCE.match(source):
            raise ValueError(
                f"FINDER_EMBED_ANCESTORS has {source!r}, which is not a CSP source; "
                "use space-separated entries like https: or https://*.example.gov.uk"
            )
    if "'none'" in sources and len(sources) > 1:
        raise ValueError("FINDER_EMBED_ANCESTORS: 'none' cannot be combined with other sources")
    return sources


def tiles_source(url: str) -> str | None:
    """The CSP source for a tile URL template: its origin, with a {s} subdomain as a wildcard."""
    if not url:
        return None
    parts = urlsplit(url)
    host = re.sub(r"^\{[a-z]+\}\.", "*.", parts.netloc)
    source = f"{parts.scheme}://{host}"
    if parts.scheme not in ("http", "https") or not _SOURCE.match(source):
        raise ValueError(f"FINDER_TILES_URL {url!r} must be an http(s) URL with a fixed host or a leading {{s}}.")
    return source


def content_security_policy(*, ancestors: str, tiles: str | None, nonce: str | None) -> str:
    """The policy for an HTML page: our own scripts and styles only, tiles the one outside image host."""
    style = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    # With tiles, Leaflet blanks a tile it abandons mid-load with a data: GIF (L.Util.emptyImageUrl).
    images = "'self'" + (f" data: {tiles}" if tiles else "")
    return (
        f"default-src 'self'; script-src 'self'; style-src {style}; img-src {images}; "
        f"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
    )


UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_LIMIT = re.compile(r"^(\d+)\s*(?:/|per)\s*(\d+)?\s*(second|minute|hour|day)s?$", re.IGNORECASE)


@dataclass(frozen=True)
class Limit:
    """So many requests per window: "120/minute", "1000 per day", "10/5 seconds"."""

    amount: int
    multiples: int
    unit: str

    @property
    def seconds(self) -> int:
        return self.multiples * UNIT_SECONDS[self.unit]

    def describe(self) -> str:
        """'minute', '10 seconds'… for messages."""
        return self.unit if self.multiples == 1 else f"{self.multiples} {self.unit}s"


def parse_limits(text: str) -> list[Limit]:
    """Limits separated by ';' or ','; "off" or nothing for none. A bad one stops the app at start-up."""
    if text.strip().lower() in ("", "off"):
        return []
    limits = []
    for part in re.split(r"[;,]", text):
        match = _LIMIT.match(part.strip())
        if not match or int(match.group(1)) < 1 or (match.group(2) and int(match.group(2)) < 1):
            raise ValueError(
                f"FINDER_RATE_LIMIT {text!r} is not a rate limit: use a form like 120/minute, "
                "several separated by ';', or off"
            )
        limits.append(Limit(int(match.group(1)), int(match.group(2) or 1), match.group(3).lower()))
    return limits


@dataclass(frozen=True)
class Window:
    """Where one client stands against one limit after this request."""

    limit: Limit
    remaining: int
    reset_after: int  # whole seconds until the window resets


class ApiRateLimiter:
    """Fixed-window limits per client address, counted in this process (see the module docstring)."""

    MAX_CLIENTS = 100_000  # forget finished windows once this many counters are held

    def __init__(self, limits_text: str, clock: Callable[[], float] = time.time) -> None:
        self.limits = parse_limits(limits_text)
        self.clock = clock
        self._counts: dict[tuple[int, str], tuple[float, int]] = {}  # (limit, client) -> (window start, hits)
        self._lock = threading.Lock()

    def hit(self, client: str) -> tuple[bool, list[Window]]:
        """Count one request from `client`; say whether it is allowed and where it stands."""
        now = self.clock()
        allowed, windows = True, []
        with self._lock:
            if len(self._counts) > self.MAX_CLIENTS:
                self._forget_finished(now)
            for i, limit in enumerate(self.limits):
                # A client's window opens with its first request and lasts the limit's length.
                began, hits = self._counts.get((i, client), (now, 0))
                if now - began >= limit.seconds:
                    began, hits = now, 0
                hits += 1
                self._counts[(i, client)] = (began, hits)
                allowed = allowed and hits <= limit.amount
                reset_after = max(1, min(limit.seconds, math.ceil(began + limit.seconds - now)))
                windows.append(Window(limit, max(0, limit.amount - hits), reset_after))
        return allowed, windows

    def _forget_finished(self, now: float) -> None:
        self._counts = {
            key: (began, hits)
            for key, (began, hits) in self._counts.items()
            if now - began < self.limits[key[0]].seconds
        }


def _client() -> str:
    """The client a limit counts against: its address (behind proxies, set FINDER_PROXIES)."""
    return request.remote_addr or "unknown"


def _is_api() -> bool:
    return request.path.startswith(API_PREFIX)


def _is_frameable() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "frameable", False))


def _check_rate_limit() -> None:
    """Before an API request: count it, and refuse it with 429 when the client is over a limit."""
    limiter: ApiRateLimiter = current_app.extensions["finder.rate_limiter"]
    if not limiter.limits or not _is_api() or request.method == "OPTIONS" or request.endpoint in NOT_LIMITED:
        return
    allowed, windows = limiter.hit(_client())
    g.rate_limit_windows = windows
    if not allowed:
        wait = max(w.reset_after for w in windows if w.remaining == 0)
        tightest = min((w for w in windows if w.remaining == 0), key=lambda w: w.limit.seconds)
        raise RateLimited(
            f"Too many requests: this API allows {tightest.limit.amount} per "
            f"{tightest.limit.describe()} from each client. Try again in {wait} second{'' if wait == 1 else 's'}."
        )


def _rate_limit_headers(response: Response) -> None:
    windows: list[Window] | None = g.get("rate_limit_windows")
    if not windows:
        return
    # The IETF draft fields describe the window closest to running out.
    nearest = min(windows, key=lambda w: (w.remaining, -w.reset_after))
    fields = [
        ("RateLimit-Limit", str(nearest.limit.amount)),
        ("RateLimit-Remaining", str(nearest.remaining)),
        ("RateLimit-Reset", str(nearest.reset_after)),
        ("RateLimit-Policy", ", ".join(f"{w.limit.amount};w={w.limit.seconds}" for w in windows)),
    ]
    if response.status_code == 429:
        fields.append(("Retry-After", str(max(w.reset_after for w in windows if w.remaining == 0))))
    response.headers.extend(fields)


# Headers that only validators read: a request carrying none of them cannot be answered with 304.
_CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE")


def _api_headers(response: Response, settings: dict[str, Any]) -> Response:
    """CORS, caching and rate-limit headers for /api/v1 answers."""
    _rate_limit_headers(response)
    method = request.method
    if method in ("GET", "HEAD") or (method == "OPTIONS" and "GET" in response.allow):
        response.headers.extend(CORS_HEADERS)
        if method == "OPTIONS":
            response.headers.extend(PREFLIGHT_HEADERS)
    if method in ("GET", "HEAD") and response.status_code == 200 and request.endpoint not in NOT_CACHED:
        response.headers.add("Cache-Control", settings["api_cache_control"])
        response.headers.add("ETag", quote_etag(hashlib.sha1(response.get_data()).hexdigest()))
        environ = request.environ
        if any(name in environ for name in _CONDITIONAL):
            response.make_conditional(environ)
    elif method != "OPTIONS":
        response.headers.add("Cache-Control", "no-store")
    return response


def _security_headers(response: Response) -> Response:
    """The headers every response carries, with framing decided by the view.

    Headers are appended (`extend`, `add`) rather than set: no view sets these, and setting scans
    every header already there, which cost more than the whole lookup behind an API answer.
    """
    settings: dict[str, Any] = current_app.extensions["finder.security"]
    headers = response.headers
    headers.extend(settings["everywhere"])
    if _is_api():
        headers.extend(API_HEADERS)
        return _api_headers(response, settings)
    nonce = g.get("csp_nonce")
    if _is_frameable():
        ancestors = settings["ancestors"]
        headers.add("Cross-Origin-Resource-Policy", "cross-origin")
    else:
        ancestors = "'none'"
        headers.add("X-Frame-Options", "DENY")
        headers.add("Cross-Origin-Opener-Policy", "same-origin")
        # Public files (embed.js above all) are loaded by other sites; pages are ours alone.
        headers.add("Cross-Origin-Resource-Policy", "cross-origin" if request.endpoint == "static" else "same-origin")
    headers.add(
        "Content-Security-Policy", content_security_policy(ancestors=ancestors, tiles=settings["tiles"], nonce=nonce)
    )
    return response


def init_app(app: Flask) -> None:
    """Check the settings once, then add the hooks. Bad settings stop the app with a clear message."""
    ancestors = parse_ancestors(app.config["EMBED_ANCESTORS"])
    if ancestors != ("'none'",):
        ancestors = ("'self'", *(s for s in ancestors if s != "'self'"))
    everywhere = [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Permissions-Policy", PERMISSIONS_POLICY),
    ]
    if app.config["ENV_NAME"] == "production":
        everywhere.append(("Strict-Transport-Security", HSTS))
    app.extensions["finder.security"] = {
        "ancestors": " ".join(ancestors),
        "tiles": tiles_source(app.config["TILES_URL"]),
        "everywhere": everywhere,
        "api_cache_control": f"public, max-age={app.config['API_MAX_AGE']}",
    }
    app.extensions["finder.rate_limiter"] = ApiRateLimiter(app.config["RATE_LIMIT"])
    if proxies := app.config["PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    app.before_request(_check_rate_limit)
    app.after_request(_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
