"""Resident pages: the postcode form, results, ward pages and their maps."""

from __future__ import annotations

from functools import lru_cache

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for

from finder.errors import FinderError
from finder.geo.maps import ward_map_script
from finder.web import lookup, tiles
from finder.web.teams import map_places

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    """The postcode form."""
    return render_template("home.html", query="")


@bp.get("/search")
def search():
    """The form's target: a postcode or outward code becomes a result, a ward list or a clear error."""
    query = request.args.get("postcode", "")
    try:
        result = lookup().resolve(postcode=query)
    except FinderError as error:
        return render_template("home.html", query=query, error=error), error.status
    if result.kind == "outcode":
        return render_template("outcode.html", result=result, query=query)
    return render_template("result.html", result=result, query=query)


@bp.get("/locate")
def locate():
    """A point from "use my location" or a map click."""
    try:
        result = lookup().resolve(lat=request.args.get("lat"), lon=request.args.get("lon"))
    except FinderError as error:
        return render_template("home.html", query="", error=error), error.status
    return render_template("result.html", result=result, query="")


@bp.get("/wards/<code>")
def ward(code: str):
    """A shareable page for one ward."""
    if code != code.strip().upper():
        return redirect(url_for(".ward", code=code.strip().upper()), 301)
    result = lookup().resolve(ward=code)
    return render_template("result.html", result=result, query="")


@bp.get("/maps/<code>.js")
def ward_map(code: str):
    """The Leaflet script for a ward's map, with the searched point when given as ?at=lat,lon."""
    if lookup().geo.wards.get(code) is None:
        abort(404)
    point = None
    if "at" in request.args:
        try:
            lat, lon = (round(float(v), 6) for v in request.args["at"].split(","))
        except ValueError:
            abort(400)
        point = (lat, lon)
    script = _map_script(lookup().geo.wards, code, point, tiles(), map_places(code, point))
    response = Response(script, mimetype="text/javascript")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


# Keyed by the ward index itself, so apps with different geodata never share entries.
_map_script = lru_cache(maxsize=4096)(ward_map_script)


@bp.get("/about")
def about():
    """Where the data comes from, how current it is, and the licences."""
    return render_template("about.html", manifest=lookup().geo.manifest, config=current_app.config)
