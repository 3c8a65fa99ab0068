"""The web surfaces: resident pages and the JSON API. Views are thin; `Lookup.resolve` decides."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from finder.errors import FinderError
from finder.geo.geocoder import PostcodesIO
from finder.geo.geodata import GeoData
from finder.geo.maps import Tiles
from finder.services.lookup import Lookup, load_forces

ATTRIBUTION = (
    "Contains OS data © Crown copyright and database right 2025. "
    "Contains Royal Mail data © Royal Mail copyright and database right 2025. "
    "Contains National Statistics data © Crown copyright and database right 2025. "
    "Source: Office for National Statistics licensed under the Open Government Licence v3.0."
)


def lookup() -> Lookup:
    """The app's Lookup, built on first use (so CLI commands run before geodata is built)."""
    service = current_app.extensions.get("finder.lookup")
    if service is None:
        service = build_lookup(current_app)
    return service


def build_lookup(app: Flask) -> Lookup:
    """Load geodata and the force file once per process."""
    geocoder = None
    if app.config["GEOCODER_URL"]:
        geocoder = PostcodesIO(app.config["GEOCODER_URL"], timeout=app.config["GEOCODER_TIMEOUT"])
    service = Lookup(GeoData(app.config["GEODATA_DIR"]), load_forces(), geocoder)
    app.extensions["finder.lookup"] = service
    return service


def tiles() -> Tiles | None:
    """The configured tile server, or None for boundary-only maps."""
    url = current_app.config["TILES_URL"]
    return Tiles(url, current_app.config["TILES_ATTRIBUTION"]) if url else None


def wants_json() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    """Register blueprints, error handlers and template globals."""
    from finder.web.api import bp as api_bp
    from finder.web.public import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(api_bp)

    @app.errorhandler(FinderError)
    def finder_error(error: FinderError):
        if wants_json():
            return jsonify(error.to_dict()), error.status
        return render_template("error.html", error=error), error.status

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if wants_json():
            body = {"error": {"code": error.name.lower().replace(" ", "_"), "message": error.description}}
            return jsonify(body), error.code
        return render_template("error.html", error=error, status=error.code), error.code

    @app.context_processor
    def globals_for_templates():
        return {"attribution": ATTRIBUTION}
