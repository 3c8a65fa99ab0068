"""Configuration, picked by FINDER_ENV. Every environment variable the app reads is here.

- FINDER_ENV: development (default), production or testing.
- SECRET_KEY: signing key for staff sessions and CSRF tokens. Required in production (the app refuses
  to start without it; every worker and instance must share it); random per process when unset
  elsewhere, so staff are signed out when the process restarts.
- FINDER_STAFF_IDLE_MINUTES: a staff session ends after this many minutes without a request (default 30).
- FINDER_STAFF_SESSION_HOURS: and this many hours after signing in, however busy (default 12). Both
  are enforced through the session's row in the store, so every worker and instance agrees.
- FINDER_REDIS_URL: a Redis every worker and instance shares (redis://host:6379/0), for several instances behind a
  proxy (deploy/README.md). A changed team is announced on it, so every worker shows the change at once rather
  than when its copy expires (finder/teams/changes.py), and the rate limits and sign-in failures are counted
  there unless FINDER_LIMITER_STORAGE_URI says otherwise. Unset (the default), nothing is shared.
- FINDER_LIMITER_STORAGE_URI: where every rate limit (API, /search, posters, no-team reports) and the
  sign-in failures are counted, as a `limits` storage URI. Default FINDER_REDIS_URL when set, else memory://:
  each worker keeps its own counts, emptied when it restarts, so with 2 workers a limit can allow up to
  twice its number. redis://host:6379 shares them across workers and instances.
- FINDER_SMTP_URL: where staff email goes (invitations, password resets, review outcomes to editors, the
  digest and review reminders), like smtp://host:25 or smtps://user:pass@host:465 (STARTTLS is used when an
  smtp:// server offers it). Unset, nothing is sent: the admin sees each link on screen to pass on, staff
  cannot reset their own password (an admin sends a link), and the staff home says email is not set up.
- FINDER_REQUIRE_TOTP_FOR_EDITORS: 1 makes ward editors sign in with a code from an authenticator app, as admins
  do: an editor without one is sent to set it up at sign-in (default 0: offered on the staff home, not required).
- FINDER_MAIL_FROM: the From address of those emails (default finder@ the public URL's host).
- FINDER_DIGEST_THRESHOLD: a ward whose coverage score is below this percentage of the six parts joins
  the weekly digest (`finder send-digest`) of its editors and borough admins, as does one whose details
  were last confirmed over 90 days ago (default 50: fewer than 3 of 6).
- FINDER_NO_TEAM_RATE_LIMIT: how many "this ward has no published team" reports one client address may
  send, like "10/hour" (counted like FINDER_RATE_LIMIT; default 10/hour).
- FINDER_FORCE_EMAIL_DOMAINS: the email domains each force's team addresses may use, as
  force=domain,domain;force=domain (default metropolitan=met.police.uk;city-of-london=cityoflondon.police.uk).
- FINDER_PERSONAL_EMAIL_DOMAINS: comma-separated email domains of personal mailboxes (default gmail.com,
  googlemail.com, hotmail.com, hotmail.co.uk, outlook.com, live.com, live.co.uk, yahoo.com, yahoo.co.uk,
  icloud.com, me.com, aol.com, btinternet.com, proton.me, protonmail.com): an invitation to one is sent
  with a warning to the admin (officers should use their work address), never refused.
- FINDER_GEODATA: folder of built geodata (default <repo>/geodata).
- FINDER_VENDOR: folder of the front-end packages built from npm (Leaflet, GOV.UK Frontend; scripts/setup
  fills it), served at /static/vendor/ (default <repo>/static/vendor). Neither it nor geodata ships in the wheel.
- FINDER_RAW_DATA: raw open-data mirror for `finder build-geodata` (default ../shared/data-raw).
- FINDER_CODEPOINT_URL, FINDER_WARDS_URL, FINDER_ONSPD_URL: where `finder build-geodata` downloads
  OS Code-Point Open, the ONS wards and the ONSPD when there is no mirror (defaults, and what each
  must serve, in finder/geo/download.py). FINDER_ONSPD_URL empty = no withdrawn postcodes.
- FINDER_TILES_URL: raster tile URL template; empty for boundary-only maps (default OpenStreetMap).
- FINDER_TILES_ATTRIBUTION: attribution shown on the map for those tiles.
- FINDER_GEOCODER_URL: a postcodes.io-compatible API for postcodes newer than our data; empty = off.
- FINDER_GEOCODER_TIMEOUT: seconds to wait for it (default 2).
- FINDER_STALE_AFTER_MONTHS: a police.uk value fetched more than this many calendar months ago that no officer
  has confirmed is marked, in words, as possibly out of date on the ward page, the embed, the poster and the
  API (`stale`; default 12). The staff area's own nudge to confirm (90 days) is separate.
- FINDER_TEAM_CACHE_SECONDS: how long each process keeps a ward's team and the front counters it
  read from the store (default 30; 0 reads the store on every lookup). A sync or an officer's
  edit shows on pages and in the API within this time; at once with FINDER_REDIS_URL.
- FINDER_REACH_COUNTING: 0 turns off counting lookups per ward, day and surface (default on; the
  counts hold no postcode, place, address or cookie, see finder/coverage/reach.py).
- FINDER_REACH_FLUSH_SECONDS: how often each worker adds its counts to the store (default 60); a
  worker that is killed loses at most this long of its counts.
- DATABASE_URL: SQLAlchemy URL of the team store (default SQLite in the instance folder, created and
  migrated automatically). For PostgreSQL, postgresql://user:pass@host/db (psycopg 3 is used); run
  `finder init-db` once per deploy, before the workers start. Testing uses an in-memory SQLite.
- FINDER_DB_TIMEOUT: seconds the web app waits on the team store for one lookup, all told (connecting,
  locks, statements; default 3, well under gunicorn's 30 s worker timeout). PostgreSQL also gets it as
  statement_timeout and lock_timeout. When the store does not answer in time, pages and the API say team
  details are unavailable and the app stops asking the store for 15 s. The CLI's commands wait as long
  as their work needs.
- FINDER_POLICEUK_URL: base URL of the data.police.uk API for `finder sync-policeuk`
  (default https://data.police.uk/api).
- FINDER_POLICEUK_RATE, FINDER_POLICEUK_BURST: the sync's request rate limit, requests per second and
  largest burst (default 14 and 20: under the API's limit of 15 a second with bursts of 30, with room
  for network jitter).
- FINDER_POLICEUK_WORKERS: neighbourhoods the sync fetches at once (default 4).
- FINDER_TEST_POSTGRES_URL: a PostgreSQL server the test suite may create throwaway databases on;
  unset, ./scripts/test (scripts/pg-test-server) starts one on 127.0.0.1.
- FINDER_EMBED_ANCESTORS: who may frame /embed, as CSP frame-ancestors sources separated by spaces
  (default "https:", any https origin, so councils can start without asking; development and testing
  also allow http://127.0.0.1:* and http://localhost:*). The finder's own origin is always allowed.
- FINDER_PUBLIC_URL: the finder's public origin, like https://finder.example.org (scheme, host and
  port; no path). Required in production, where the app refuses to start without it. Every absolute
  URL the finder writes (the embed snippet councils copy, the page links in vCards and calendars, a
  ward page's share link) starts with it, never with the request's Host header or scheme. Unset
  (development and testing only), they name the request's host, which must be a trusted one.
- FINDER_TRUSTED_HOSTS: host names besides FINDER_PUBLIC_URL's that the finder answers to, separated
  by spaces or commas (a leading dot takes in every subdomain: .example.org); a request whose Host
  header is any other name gets 400. List here the address a load balancer's health checks use
  when it is not the public name. Development and testing also answer localhost and 127.0.0.1.
- FINDER_MAX_BODY_BYTES: the largest request body the finder reads; a larger one gets 413, and no more
  than this is read of it. Default 65536: a batch of 100 postcodes is about 1.2 KB, and the largest
  batch the API accepts (100 items of 32 characters, each written as JSON \\u escapes) is under 40 KB.
- FINDER_RATE_LIMIT: requests per client to /api/v1, like "120/minute" or "1000 per day" (several
  separated by ";"; "off" to disable), counted in FINDER_LIMITER_STORAGE_URI. Default 120/minute;
  testing 100000/minute.
- FINDER_SEARCH_RATE_LIMIT, FINDER_POSTER_RATE_LIMIT: requests per client to /search and to a ward's
  poster.pdf (about 0.24 s of CPU each), counted like FINDER_RATE_LIMIT; a client over one gets a 429 page
  with Retry-After. Defaults 60/minute and 10/minute; testing 100000/minute.
- FINDER_API_MAX_AGE: seconds that browsers and CDNs may cache an API answer (default 300); a postcode's or a
  point's answer is for the browser's cache alone (private).
- FINDER_PROXIES: how many reverse proxies stand in front of the app and set X-Forwarded-For/-Proto/-Host
  (default 0). Set it behind a proxy, or every client shares one rate-limit count.
- FINDER_LOG_FORMAT: text (default) or json: each request's access line (method, route pattern, status,
  time; with json also a request id, the proxy's X-Request-ID when FINDER_PROXIES trusts it), as plain text or
  as one JSON object a line (finder/web/logs.py). Neither holds a path, query string or client address.
- FINDER_METRICS_LISTEN: where gunicorn's master serves Prometheus metrics, as a port (on 127.0.0.1) or
  host:port; unset (default), none are collected. Its own port, never proxied: keep it off the public network.
  Needs PROMETHEUS_MULTIPROC_DIR, an empty folder the workers count into, set before the server starts
  (prometheus_client's multiprocess mode). What is counted: finder/ops/metrics.py.
- HOST, PORT: where ./scripts/serve listens (default 127.0.0.1:5000).
- BIND: instead, where gunicorn listens as one instance behind the deploy's HAProxy, like 127.0.0.1:8001 (no
  nginx of its own; deploy/README.md). WORKERS: gunicorn's workers (default 2).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def default_raw_data() -> Path:
    """The local mirror of official releases beside the checkout, as in CI and development."""
    return Path(os.environ.get("FINDER_RAW_DATA") or ROOT.parent / "shared" / "data-raw")


def host_names(text: str) -> tuple[str, ...]:
    """Host names separated by spaces or commas, lower-cased."""
    return tuple(name.lower() for name in text.replace(",", " ").split())


LOCAL_HOSTS = ("localhost", "127.0.0.1")  # ./scripts/serve's default address and the test client's


PERSONAL_DOMAINS = (
    "gmail.com,googlemail.com,hotmail.com,hotmail.co.uk,outlook.com,live.com,live.co.uk,yahoo.com,yahoo.co.uk,"
    "icloud.com,me.com,aol.com,btinternet.com,proton.me,protonmail.com"
)


def force_domains(text: str) -> dict[str, tuple[str, ...]] | None:
    """FINDER_FORCE_EMAIL_DOMAINS as {force: domains}; None when unset (the built-in defaults apply)."""
    if not text.strip():
        return None
    found: dict[str, tuple[str, ...]] = {}
    for part in filter(str.strip, text.split(";")):
        force, sep, domains = part.partition("=")
        if not sep or not force.strip():
            raise ValueError(f"FINDER_FORCE_EMAIL_DOMAINS: write force=domain,domain, not {part.strip()!r}")
        found[force.strip()] = tuple(d.strip().lower() for d in domains.split(",") if d.strip())
    return found


class Config:
    """Defaults shared by every environment."""

    ENV_NAME = "development"
    TESTING = False
    SECRET_KEY = os.environ.get("SECRET_KEY") or secrets.token_hex(32)
    GEODATA_DIR = os.environ.get("FINDER_GEODATA") or str(ROOT / "geodata")
    VENDOR_DIR = os.environ.get("FINDER_VENDOR") or str(ROOT / "static" / "vendor")
    TILES_URL = os.environ.get("FINDER_TILES_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    TILES_ATTRIBUTION = os.environ.get(
        "FINDER_TILES_ATTRIBUTION",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
    )
    GEOCODER_URL = os.environ.get("FINDER_GEOCODER_URL", "")
    GEOCODER_TIMEOUT = float(os.environ.get("FINDER_GEOCODER_TIMEOUT", "2"))
    DATABASE_URL = os.environ.get("DATABASE_URL", "")
    DB_TIMEOUT = float(os.environ.get("FINDER_DB_TIMEOUT", "3"))
    TEAM_CACHE_SECONDS = float(os.environ.get("FINDER_TEAM_CACHE_SECONDS", "30"))
    STALE_AFTER_MONTHS = int(os.environ.get("FINDER_STALE_AFTER_MONTHS", "12"))
    REACH_COUNTING = os.environ.get("FINDER_REACH_COUNTING", "1") != "0"
    REACH_FLUSH_SECONDS = float(os.environ.get("FINDER_REACH_FLUSH_SECONDS", "60"))
    POLICEUK_URL = os.environ.get("FINDER_POLICEUK_URL", "https://data.police.uk/api")
    POLICEUK_RATE = float(os.environ.get("FINDER_POLICEUK_RATE", "14"))
    POLICEUK_BURST = int(os.environ.get("FINDER_POLICEUK_BURST", "20"))
    POLICEUK_WORKERS = int(os.environ.get("FINDER_POLICEUK_WORKERS", "4"))
    MAX_BATCH = 100
    SEND_FILE_MAX_AGE_DEFAULT = 3600
    EMBED_ANCESTORS = os.environ.get("FINDER_EMBED_ANCESTORS", "https:")
    PUBLIC_URL = os.environ.get("FINDER_PUBLIC_URL", "")
    TRUSTED_HOSTS = host_names(os.environ.get("FINDER_TRUSTED_HOSTS", ""))  # plus FINDER_PUBLIC_URL's
    MAX_CONTENT_LENGTH = int(os.environ.get("FINDER_MAX_BODY_BYTES", "65536"))
    MAX_POSTCODE_LENGTH = 32  # characters in one item of a batch; a postcode has at most 8
    RATE_LIMIT = os.environ.get("FINDER_RATE_LIMIT", "120/minute")
    SEARCH_RATE_LIMIT = os.environ.get("FINDER_SEARCH_RATE_LIMIT", "60/minute")
    POSTER_RATE_LIMIT = os.environ.get("FINDER_POSTER_RATE_LIMIT", "10/minute")
    API_MAX_AGE = int(os.environ.get("FINDER_API_MAX_AGE", "300"))
    PROXIES = int(os.environ.get("FINDER_PROXIES", "0"))
    LOG_FORMAT = os.environ.get("FINDER_LOG_FORMAT", "text")
    METRICS_LISTEN = os.environ.get("FINDER_METRICS_LISTEN", "")
    METRICS = bool(METRICS_LISTEN)  # count requests (lookups, refusals and store errors are counted regardless)
    STAFF_IDLE_MINUTES = float(os.environ.get("FINDER_STAFF_IDLE_MINUTES", "30"))
    STAFF_SESSION_HOURS = float(os.environ.get("FINDER_STAFF_SESSION_HOURS", "12"))
    REQUIRE_TOTP_FOR_EDITORS = os.environ.get("FINDER_REQUIRE_TOTP_FOR_EDITORS", "0") == "1"
    REDIS_URL = os.environ.get("FINDER_REDIS_URL", "")
    LIMITER_STORAGE_URI = os.environ.get("FINDER_LIMITER_STORAGE_URI") or REDIS_URL or "memory://"
    SMTP_URL = os.environ.get("FINDER_SMTP_URL", "")
    FORCE_EMAIL_DOMAINS = force_domains(os.environ.get("FINDER_FORCE_EMAIL_DOMAINS", ""))
    MAIL_FROM = os.environ.get("FINDER_MAIL_FROM", "")
    PERSONAL_EMAIL_DOMAINS = frozenset(
        d.strip().lower()
        for d in os.environ.get("FINDER_PERSONAL_EMAIL_DOMAINS", PERSONAL_DOMAINS).split(",")
        if d.strip()
    )
    DIGEST_THRESHOLD = float(os.environ.get("FINDER_DIGEST_THRESHOLD", "50"))
    NO_TEAM_RATE_LIMIT = os.environ.get("FINDER_NO_TEAM_RATE_LIMIT", "10/hour")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "finder_session"


LOCAL_ANCESTORS = "http://127.0.0.1:* http://localhost:*"  # host pages on another local port


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    TRUSTED_HOSTS = (*Config.TRUSTED_HOSTS, *LOCAL_HOSTS)
    EMBED_ANCESTORS = os.environ.get("FINDER_EMBED_ANCESTORS", f"https: {LOCAL_ANCESTORS}")


class ProductionConfig(Config):
    ENV_NAME = "production"
    SECRET_KEY = os.environ.get("SECRET_KEY", "")  # no random fallback: the app refuses to start without it
    SESSION_COOKIE_SECURE = True


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    TRUSTED_HOSTS = (*Config.TRUSTED_HOSTS, *LOCAL_HOSTS)
    TILES_URL = ""  # tests never reach outside 127.0.0.1
    GEOCODER_URL = ""
    DATABASE_URL = "sqlite://"  # an empty in-memory store; tests that need teams bring their own
    TEAM_CACHE_SECONDS = 0.0  # tests change the store and look at once
    REDIS_URL = ""  # the tests of shared state start their own Redis
    LIMITER_STORAGE_URI = "memory://"
    EMBED_ANCESTORS = f"https: {LOCAL_ANCESTORS}"
    RATE_LIMIT = "100000/minute"  # high, so no test trips it by accident; tests of limits lower it
    SEARCH_RATE_LIMIT = POSTER_RATE_LIMIT = "100000/minute"
    SMTP_URL = ""  # tests that send mail run their own server on 127.0.0.1
    REACH_COUNTING = False  # no flush thread writing into tests' stores; the tests of counting turn it on


CONFIGS = {"development": DevelopmentConfig, "production": ProductionConfig, "testing": TestingConfig}


def config_for(name: str | None = None) -> type[Config]:
    """The config class for FINDER_ENV (or the name given)."""
    name = name or os.environ.get("FINDER_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise ValueError(f"FINDER_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from None
