"""The web surfaces: resident pages and the JSON API. Views are thin; `Lookup.resolve` decides."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request, url_for
from werkzeug.exceptions import BadHost, HTTPException, RequestEntityTooLarge, SecurityError
from werkzeug.routing import BaseConverter, ValidationError

from finder.errors import FinderError, InvalidInput
from finder.geo.geocoder import PostcodesIO
from finder.geo.geodata import GeoData
from finder.geo.maps import Tiles
from finder.services.lookup import Lookup, load_forces
from finder.services.teams import TeamDirectory
from finder.store import Store, default_url
from finder.store.migrate import ensure_ready
from finder.store.models import MAX_ID

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


def lookup() -> Lookup:
    """The app's Lookup, built on first use (so CLI commands run before geodata is built)."""
    service = current_app.extensions.get("finder.lookup")
    if service is None:
        service = build_lookup(current_app)
    return service


def team_directory() -> TeamDirectory:
    """The lookup's teams, for a view that has read a team (or found the store unavailable): so there are some."""
    teams = lookup().teams
    if teams is None:
        raise RuntimeError("this finder has no team store")
    return teams


def build_lookup(app: Flask) -> Lookup:
    """Load geodata and the force file once per process."""
    geocoder = None
    if app.config["GEOCODER_URL"]:
        geocoder = PostcodesIO(app.config["GEOCODER_URL"], timeout=app.config["GEOCODER_TIMEOUT"])
    geodata = GeoData(app.config["GEODATA_DIR"])
    teams = TeamDirectory(build_store(app), geodata.wards, cache_seconds=app.config["TEAM_CACHE_SECONDS"])
    service = Lookup(geodata, load_forces(), geocoder, teams)
    app.extensions["finder.lookup"] = service
    return service


def build_store(app: Flask) -> Store:
    """The team store: DATABASE_URL, else SQLite in the instance folder (created and migrated here).

    A shared PostgreSQL database must already be at the current schema (`finder init-db`). Every
    wait on it is bounded by DB_TIMEOUT, and a store that cannot be reached does not stop the app.
    """
    store = Store(app.config["DATABASE_URL"] or default_url(app.instance_path), timeout=app.config["DB_TIMEOUT"])
    ensure_ready(store, outage_ok=True)
    store.dispose()  # no pooled connection may cross gunicorn's fork (--preload)
    app.extensions["finder.store"] = store
    return store


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


def init_app(app: Flask) -> None:
    """Register blueprints, error handlers and template globals."""
    from finder.web import admin, assets, coverage, limits, nudges, security
    from finder.web.api import bp as api_bp
    from finder.web.embed import bp as embed_bp
    from finder.web.posters import bp as posters_bp
    from finder.web.public import bp as public_bp
    from finder.web.teams import bp as teams_bp

    app.url_map.converters["int"] = StoreIdConverter  # before any route is registered
    app.register_blueprint(public_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(embed_bp)
    app.register_blueprint(teams_bp)
    app.register_blueprint(posters_bp)
    coverage.init_app(app)  # /coverage, its downloads and the API's /coverage; lookups counted per ward
    security.init_app(app)
    limits.init_app(app)  # /search and poster.pdf, limited per client like the API
    admin.init_app(app)  # staff sessions, CSRF on every form but the API's, and /admin
    nudges.init_app(app)  # residents' "no published team" reports (rate limited, no CSRF: no session)
    # Static files skip Flask's hooks, so they get its security headers from WhiteNoise.
    everywhere = app.extensions["finder.security"]["everywhere"]
    assets.init_app(app, [*everywhere, ("Cross-Origin-Resource-Policy", "cross-origin")])

    @app.errorhandler(FinderError)
    def finder_error(error: FinderError):
        if wants_json():
            return jsonify(error.to_dict()), error.status
        return render_template("error.html", error=error), error.status

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # Keep the error's own headers (Allow on a 405, as HTTP requires), not its content type.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        if wants_json():
            body = {"error": {"code": error.name.lower().replace(" ", "_"), "message": error.description}}
            return jsonify(body), error.code, headers
        return render_template("error.html", error=error, status=error.code), error.code, headers

    @app.errorhandler(RequestEntityTooLarge)
    def body_too_large(error: RequestEntityTooLarge):
        return finder_error(
            security.BodyTooLarge(
                f"The request body is larger than the {app.config['MAX_CONTENT_LENGTH']:,} bytes this finder "
                f"accepts. Send at most {app.config['MAX_BATCH']} postcodes at once."
            )
        )

    def unreadable_body(error: Exception):
        return finder_error(
            InvalidInput(
                "The request body could not be read: it was cut off, or its chunked encoding is malformed.",
                code="malformed_body",
            )
        )

    # gunicorn reads a body only when the app does, so a malformed one raises in the view.
    from gunicorn.http.errors import NoMoreData, ParseException

    app.register_error_handler(ParseException, unreadable_body)  # a bad chunk size, extension or terminator
    app.register_error_handler(NoMoreData, unreadable_body)  # a body that ends before it said it would

    @app.errorhandler(SecurityError)  # a Host header that is not a trusted name
    @app.errorhandler(BadHost)  # a Host header that is no host name at all
    def unknown_host(error: HTTPException):
        """No page for another host: Flask can build no URL for it, and a cache must keep nothing."""
        refusal = security.UnknownHost(
            "This finder does not answer to the host name this request was sent to. Use the finder's own address."
        )
        if wants_json():
            return jsonify(refusal.to_dict()), refusal.status
        return Response(refusal.message + "\n", refusal.status, {"Cache-Control": "no-store"}, mimetype="text/plain")

    @app.context_processor
    def globals_for_templates():
        return {"attribution": ATTRIBUTION, "public_url": public_url}
