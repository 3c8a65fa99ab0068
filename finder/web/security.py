"""Response headers for every surface: security policy, framing, CORS, caching and API rate limits.

- Every response: a strict Content-Security-Policy with no inline script at all (scripts are files
  from our own origin; the one inline style, the embed's accent colour, carries a per-request
  nonce; images from our origin and the configured tile server only, plus the data: GIF Leaflet
  puts in an abandoned tile), X-Content-Type-Options, Referrer-Policy (`no-referrer` where the URL
  holds a token), Permissions-Policy, and HSTS in production.
- Framing: views marked `@frameable` (the /embed widget) may be framed by the origins in
  EMBED_ANCESTORS and our own; every other response says `frame-ancestors 'none'` and
  `X-Frame-Options: DENY`, and pages are isolated with Cross-Origin-Opener-Policy.
- /api/v1: GETs are open to any origin (CORS `*`, never with credentials) and cacheable (ETag from
  the body, 304 on If-None-Match, Cache-Control: `private` for a postcode's or a point's answer, which no
  shared cache may keep, `public` for the rest); every client is rate limited (finder/web/limits.py,
  on `limits`), with the IETF draft RateLimit-* headers written here and a JSON 429 with Retry-After.

Hosts: absolute URLs name FINDER_PUBLIC_URL (Flask's SERVER_NAME), and a request whose Host header
is not a trusted name (Flask's TRUSTED_HOSTS) is refused with 400, so no answer, cached or not,
names a host an attacker chose.

Headers are set on the response in `after_request` hooks; static files get the same fixed ones from
WhiteNoise (finder/web/assets.py). Only the staff area (/admin) reads a session cookie (`StaffOnlySessions`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Request, Response, g, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.http import quote_etag
from werkzeug.middleware.proxy_fix import ProxyFix

from finder.errors import FinderError
from finder.headers import conditional
from finder.web.limits import Window, rate_limit_policy, retry_after, windows

API_PREFIX = "/api/v1/"
STAFF_PREFIX = "/admin"  # the staff area: the only requests that read a session
NOT_CACHED = {"api.health"}
# A shared cache keyed by postcode or point would be a record of who searched what (issue 28): the browser may
# keep these answers, no proxy or CDN may.
PRIVATE = {"api.postcode", "api.locate"}
REFERRER_POLICY = "strict-origin-when-cross-origin"
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
PAGE_FRAMING = [
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
]
STATIC_FRAMING = [*PAGE_FRAMING[:2], ("Cross-Origin-Resource-Policy", "cross-origin")]
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


class UnknownHost(FinderError):
    """A request for a host name the finder does not answer to (400)."""

    code = "unknown_host"


class BodyTooLarge(FinderError):
    """A request body over MAX_CONTENT_LENGTH (413)."""

    status = 413
    code = "body_too_large"


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


def public_origin(url: str) -> tuple[str, str]:
    """FINDER_PUBLIC_URL as (scheme, host[:port]); anything but an http(s) origin stops the app."""
    parts = urlsplit(url.strip())
    try:
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
        (parts.hostname or "").encode("idna")  # each label 1 to 63 characters
    except (ValueError, UnicodeError):
        ok = False
    if (
        not ok
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or not re.fullmatch(r"[A-Za-z0-9.:\[\]-]+", parts.netloc)
    ):
        raise ValueError(
            f"FINDER_PUBLIC_URL {url!r} is not the finder's public origin: give scheme and host (and port "
            "if needed), without a path, like https://finder.example.org"
        )
    return parts.scheme, parts.netloc.lower()


def trust_hosts(config: dict[str, Any]) -> None:
    """Absolute URLs from FINDER_PUBLIC_URL, and only trusted Host headers answered (400 for others).

    SERVER_NAME makes url_for(_external=True) name the public host whatever the request said (and
    finder.web.public_url gives it the public scheme); since Flask 3.1 it no longer refuses requests for
    other names, TRUSTED_HOSTS does that.
    """
    if config["PUBLIC_URL"]:
        scheme, netloc = public_origin(config["PUBLIC_URL"])
        config.update(
            PUBLIC_URL=f"{scheme}://{netloc}",
            SERVER_NAME=netloc,
            PREFERRED_URL_SCHEME=scheme,
            TRUSTED_HOSTS=[urlsplit(f"//{netloc}").hostname, *config["TRUSTED_HOSTS"]],
        )
    elif config["ENV_NAME"] == "production":
        raise ValueError(
            "FINDER_PUBLIC_URL must be set in production: the finder's public origin, like "
            "https://finder.example.org. Links in the embed snippet, vCards and calendars are built "
            "from it, never from a request's Host header."
        )


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


class StaffOnlySessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions for the staff area only; every other request gets Flask's null session.

    Residents' pages and the API answer the same whoever asks, so they must neither read a cookie (Flask
    would add `Vary: Cookie`, and shared caches would keep a copy per visitor) nor set one. Returning None
    from `open_session` is Flask's documented way to a null session, which Flask never saves.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path != STAFF_PREFIX and not request.path.startswith(STAFF_PREFIX + "/"):
            return None
        return super().open_session(app, request)


def _rate_limit_headers(counted: list[Window], policy: str, status: int) -> list[tuple[str, str]]:
    # The IETF draft fields describe the window closest to running out.
    nearest = counted[0] if len(counted) == 1 else min(counted, key=lambda w: (w.remaining, -w.reset_after))
    fields = [
        ("RateLimit-Limit", str(nearest.limit.amount)),
        ("RateLimit-Remaining", str(nearest.remaining)),
        ("RateLimit-Reset", str(nearest.reset_after)),
        ("RateLimit-Policy", policy),
    ]
    if status == 429:
        fields.append(("Retry-After", str(retry_after(counted))))
    return fields


def _api_headers(response: Response, settings: SecuritySettings, endpoint: str | None) -> Response:
    """The API's policy, CORS, caching and rate-limit headers for /api/v1 answers, added in one go: each header
    werkzeug adds is checked (and checked again when the answer is sent), so the fixed ones are listed once."""
    headers, status, method = response.headers, response.status_code, request.method
    fields = _rate_limit_headers(counted, settings.rate_limit_policy, status) if (counted := windows()) else []
    if method in ("GET", "HEAD"):
        if status == 200 and endpoint not in NOT_CACHED and not g.get("api_no_store"):
            headers.extend([*(settings.api_private if endpoint in PRIVATE else settings.api_public), *fields])
            headers.add("ETag", quote_etag(hashlib.sha1(response.get_data()).hexdigest()))
            conditional(response, request.environ)
            return response
        headers.extend([*settings.api_not_cached, *fields])
    elif method == "OPTIONS":
        preflight = [*CORS_HEADERS, *PREFLIGHT_HEADERS] if "GET" in response.allow else []
        headers.extend([*API_HEADERS, *fields, *preflight])
    else:
        headers.extend([*API_HEADERS, *fields, ("Cache-Control", "no-store")])
    return response


def _security_headers(app: Flask, settings: SecuritySettings, response: Response) -> Response:
    """Every response's fixed headers (a view's own value wins), and those that depend on the view:
    framing, the page's CSP (with its nonce), the API's caching.

    Headers are added (`add`, `extend`) rather than set: no view sets these others, and werkzeug's `set`
    and `setdefault` scan every header already there, which made up a fifth of an API answer's time.
    """
    headers = response.headers
    rule = request.url_rule
    endpoint = rule.endpoint if rule is not None else None
    # A page whose URL holds a one-time token must not pass it on in a Referer header (nor its errors or redirects).
    if rule is not None and "token" in rule.arguments:
        headers["Referrer-Policy"] = "no-referrer"
    present = {name.lower() for name, _ in headers}
    headers.extend([(name, value) for name, value in settings.everywhere if name.lower() not in present])
    if request.path.startswith(API_PREFIX):
        return _api_headers(response, settings, endpoint)
    if not settings.fixed_host and "public" in headers.get("Cache-Control", ""):
        response.vary.add("Host")  # without FINDER_PUBLIC_URL, absolute URLs name the request's host
    nonce = g.get("csp_nonce")
    if getattr(app.view_functions.get(endpoint or ""), "frameable", False):
        ancestors = settings.ancestors
        headers.add("Cross-Origin-Resource-Policy", "cross-origin")
    else:
        ancestors = "'none'"
        # Public files (embed.js above all) are loaded by other sites; pages are ours alone.
        headers.extend(STATIC_FRAMING if endpoint == "static" else PAGE_FRAMING)
    if nonce is None and ancestors == "'none'":
        headers.add("Content-Security-Policy", settings.page_csp)
    else:
        policy = content_security_policy(ancestors=ancestors, tiles=settings.tiles, nonce=nonce)
        headers.add("Content-Security-Policy", policy)
    return response


@dataclass(frozen=True)
class SecuritySettings:
    """The header settings checked once from the config (Services.security)."""

    ancestors: str  # CSP frame-ancestors for the framable views (/embed)
    tiles: str | None  # the tile server's CSP source (None: no tile server)
    everywhere: tuple[tuple[str, str], ...]  # on every response, static files too
    fixed_host: bool  # FINDER_PUBLIC_URL is set: absolute URLs do not vary by the request's Host
    rate_limit_policy: str  # the API's RateLimit-Policy header
    # The API's fixed headers for a GET, worked out once: a cached answer that names no one's search (a ward, an
    # outward code, the API document), a postcode's or a point's (the browser's cache only), and one not cached.
    api_public: tuple[tuple[str, str], ...]
    api_private: tuple[tuple[str, str], ...]
    api_not_cached: tuple[tuple[str, str], ...]
    page_csp: str  # a page's policy when it is not framable and has no nonce (most pages)


def init_app(app: Flask) -> SecuritySettings:
    """Check the settings once, then add the hooks. Bad settings stop the app with a clear message."""
    trust_hosts(app.config)
    ancestors = parse_ancestors(app.config["EMBED_ANCESTORS"])
    if ancestors != ("'none'",):
        ancestors = ("'self'", *(s for s in ancestors if s != "'self'"))
    everywhere = [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", REFERRER_POLICY),
        ("Permissions-Policy", PERMISSIONS_POLICY),
    ]
    if app.config["ENV_NAME"] == "production":
        everywhere.append(("Strict-Transport-Security", HSTS))
    tiles = tiles_source(app.config["TILES_URL"])
    api_get = (*API_HEADERS, *CORS_HEADERS)
    settings = SecuritySettings(
        ancestors=" ".join(ancestors),
        tiles=tiles,
        everywhere=tuple(everywhere),
        fixed_host=bool(app.config["PUBLIC_URL"]),
        rate_limit_policy=rate_limit_policy(app),
        api_public=(*api_get, ("Cache-Control", f"public, max-age={app.config['API_MAX_AGE']}")),
        api_private=(*api_get, ("Cache-Control", f"private, max-age={app.config['API_MAX_AGE']}")),
        api_not_cached=(*api_get, ("Cache-Control", "no-store")),
        page_csp=content_security_policy(ancestors="'none'", tiles=tiles, nonce=None),
    )
    if proxies := app.config["PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    app.session_interface = StaffOnlySessions()
    app.after_request(partial(_security_headers, app, settings))
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    return settings
