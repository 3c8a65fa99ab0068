"""What every view shares: the app's `Services` (built once by `create_app`), URLs, and the id converter.

Views are thin; `Lookup.resolve` decides. The views themselves are registered by `create_app`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from flask import Flask, current_app, request, url_for
from werkzeug.routing import BaseConverter, ValidationError

from finder.config import default_raw_data
from finder.coverage.reach import Tally
from finder.coverage.service import CoverageReport
from finder.geo.geocoder import PostcodesIO
from finder.geo.geodata import GeoData
from finder.geo.maps import Tiles
from finder.lookup.service import Lookup, load_forces
from finder.mail import Mailer
from finder.store import Store, default_url
from finder.store.migrate import ensure_ready
from finder.store.models import MAX_ID
from finder.teams.changes import EVERY_WARD, ChangeFeed
from finder.teams.directory import TeamDirectory
from finder.web.pagecache import PageCache
from finder.web.security import SecuritySettings

ATTRIBUTION = (
    "Contains OS data © Crown copyright and database right 2025. "
    "Contains Royal Mail data © Royal Mail copyright and database right 2025. "
    "Contains National Statistics data © Crown copyright and database right 2025. "
    "Source: Office for National Statistics licensed under the Open Government Licence v3.0."
)


class StoreIdConverter(BaseConverter):
    """`<int:...>` in the finder's URLs: a record's id, so a number no store can hold matches no route.

    werkzeug's own int takes any length, and SQLite's driver raises OverflowError (a 500) on one
    above 2**63 - 1; here it is an ordinary 404, like an id that was never used.
    """

    regex = r"\d+"
    weight = 50

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))


T = TypeVar("T")


class Once(Generic[T]):
    """A part built on its first use, once: under a lock, so two threads' first requests build one, not two
    (functools.cached_property holds no lock from Python 3.12, and one for the whole class before)."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._built: tuple[T] | None = None

    def get(self) -> T:
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = (self._build(),)
        return self._built[0]

    def peek(self) -> T | None:
        """The part if it is built, else None (never builds it)."""
        return self._built[0] if self._built is not None else None


@dataclass
class CoverageKept:
    """The coverage report and lookup counts this process worked out last, and when (time.monotonic())."""

    last: tuple[float, tuple[CoverageReport, dict[str, dict[str, int]]]] | None = None


@dataclass(frozen=True, eq=False)
class Services:
    """Everything `create_app` builds once for an app, typed: views reach it through `services()`, the CLI
    through `services(app)`. The lookup, its stores and the reach tally are built on first use, so a
    command can run before the geodata is built (`finder build-geodata`) or the store exists (`finder init-db`).
    """

    config: Mapping[str, Any]
    instance_path: str
    security: SecuritySettings
    assets: Mapping[str, str]  # static file name -> its fingerprinted name
    mailer: Mailer | None  # None without FINDER_SMTP_URL
    coverage: CoverageKept = field(default_factory=CoverageKept)
    pages: PageCache = field(init=False)  # ward pages, kept while the teams are (TEAM_CACHE_SECONDS > 0)
    given_lookup: Lookup | None = None  # a test's or a benchmark's own lookup (and its store)
    _geodata: Once[GeoData] = field(init=False)
    _store: Once[Store] = field(init=False)
    _command_store: Once[Store] = field(init=False)
    _lookup: Once[Lookup] = field(init=False)
    _reach: Once[Tally | None] = field(init=False)
    _changes: Once[ChangeFeed | None] = field(init=False)

    def __post_init__(self) -> None:
        # A frozen dataclass sets its own fields once, here, through object.__setattr__ (dataclasses' documented way).
        for name, build in (
            ("_geodata", lambda: GeoData(self.config["GEODATA_DIR"])),
            ("_store", self._build_store),
            ("_command_store", lambda: Store(self.database_url())),
            ("_lookup", self._build_lookup),
            ("_reach", self._build_reach),
            ("_changes", lambda: ChangeFeed(self.config["REDIS_URL"]) if self.config["REDIS_URL"] else None),
        ):
            object.__setattr__(self, name, Once(build))
        object.__setattr__(self, "pages", PageCache(self.config["TEAM_CACHE_SECONDS"] > 0))

    @property
    def geodata(self) -> GeoData:
        """Wards, postcodes and districts, loaded once (the lookup's, when the lookup is built)."""
        return self.given_lookup.geo if self.given_lookup is not None else self._geodata.get()

    @property
    def lookup(self) -> Lookup:
        """The lookup over the geodata, the force file, the geocoder and the team store."""
        return self._lookup.get()

    def built_lookup(self) -> Lookup | None:
        """The lookup if something has used it, without building it (the health check)."""
        return self.given_lookup or self._lookup.peek()

    @property
    def teams(self) -> TeamDirectory:
        """The lookup's teams, for a view that has read a team (or found the store unavailable): so there are some."""
        teams = self.lookup.teams
        if teams is None:
            raise RuntimeError("this finder has no team store")
        return teams

    @property
    def store(self) -> Store:
        """The team store the web reads, every wait bounded by DB_TIMEOUT (the given lookup's, if it has one)."""
        if self.given_lookup is not None and self.given_lookup.teams is not None:
            return self.given_lookup.teams.store
        return self._store.get()

    @property
    def command_store(self) -> Store:
        """The same database for the CLI's commands, which wait as long as their work needs (no DB_TIMEOUT)."""
        return self._command_store.get()

    @property
    def reach(self) -> Tally | None:
        """This process's lookup counts (None when counting is off or there is no team store)."""
        return self._reach.get()

    def database_url(self) -> str:
        """DATABASE_URL, or the embedded SQLite file in the instance folder."""
        return self.config["DATABASE_URL"] or default_url(self.instance_path)

    def _build_store(self) -> Store:
        return web_store(self.database_url(), self.config["DB_TIMEOUT"])

    def _build_lookup(self) -> Lookup:
        """The given lookup, or one over geodata and the force file loaded once per process; its teams hear of
        changes made elsewhere when FINDER_REDIS_URL is set."""
        lookup = self.given_lookup or self._new_lookup()
        if lookup.teams is not None and self.changes is not None:
            self.changes.listen(lookup.teams.changed)
        return lookup

    def _new_lookup(self) -> Lookup:
        config = self.config
        geocoder = None
        if config["GEOCODER_URL"]:
            geocoder = PostcodesIO(config["GEOCODER_URL"], timeout=config["GEOCODER_TIMEOUT"])
        geodata = self.geodata
        teams = TeamDirectory(
            self.store,
            geodata.wards,
            cache_seconds=config["TEAM_CACHE_SECONDS"],
            stale_after_months=config["STALE_AFTER_MONTHS"],
        )
        return Lookup(geodata, load_forces(raw_dir=default_raw_data()), geocoder, teams)

    @property
    def changes(self) -> ChangeFeed | None:
        """Where changed teams are announced and heard, with FINDER_REDIS_URL."""
        return self._changes.get()

    def announce(self, ward_code: str = EVERY_WARD) -> None:
        """A ward's team (or every team) changed in the store: this process reads it again at once, and every
        other worker and instance does too when FINDER_REDIS_URL is set (finder/teams/changes.py)."""
        lookup = self.built_lookup()
        if lookup is not None and lookup.teams is not None:
            lookup.teams.changed(ward_code)
        if self.changes is not None:
            self.changes.announce(ward_code)

    @property
    def changes_show_everywhere_within(self) -> float:
        """Seconds until every worker and instance shows a change made here (0: at once)."""
        return 0.0 if self.changes is not None else self.config["TEAM_CACHE_SECONDS"]

    def _build_reach(self) -> Tally | None:
        teams = self.lookup.teams
        if not self.config["REACH_COUNTING"] or teams is None:
            return None
        return Tally(teams.store, interval=self.config["REACH_FLUSH_SECONDS"])


def web_store(url: str, timeout: float) -> Store:
    """The team store as the web reads it: an embedded (SQLite) one created and migrated here.

    A shared PostgreSQL database must already be at the current schema (`finder init-db`). Every
    wait on it is bounded by `timeout`, and a store that cannot be reached does not stop the app.
    """
    store = Store(url, timeout=timeout)
    ensure_ready(store, outage_ok=True)
    store.dispose()  # no pooled connection may cross gunicorn's fork (--preload)
    return store


EXTENSION = "finder"  # app.extensions' key for the Services: the one entry an extension keeps, named after it


def services(app: Flask | None = None) -> Services:
    """The Services of `app`, or of the app handling this request or command."""
    found = (app or current_app).extensions[EXTENSION]
    assert isinstance(found, Services)
    return found


def tiles() -> Tiles | None:
    """The configured tile server, or None for boundary-only maps."""
    url = current_app.config["TILES_URL"]
    return Tiles(url, current_app.config["TILES_ATTRIBUTION"]) if url else None


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute URL: with FINDER_PUBLIC_URL, on its host (SERVER_NAME) and with its scheme, which a request
    behind a proxy that ends TLS does not carry; without it, the request's own scheme and host."""
    config = current_app.config
    scheme = config["PREFERRED_URL_SCHEME"] if config["PUBLIC_URL"] else None
    return url_for(endpoint, _external=True, _scheme=scheme, **values)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def template_globals() -> dict[str, Any]:
    return {"attribution": ATTRIBUTION, "public_url": public_url}
