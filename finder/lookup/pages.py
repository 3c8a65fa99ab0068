"""Resident pages: the postcode form, results, ward pages and their maps.

A resident's postcode or location answers their request and is then forgotten: "use my location"
redirects to the ward's own address, a postcode result asks the browser to show the ward's
address instead of the search, and the map script is the same file for everyone in a ward.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from markupsafe import Markup

from finder.coverage.views import counted
from finder.errors import FinderError, InvalidInput
from finder.geo.geodata import GeoData
from finder.geo.maps import prebuilt_scripts, ward_map_script
from finder.geo.svg import ward_outline_svg
from finder.geo.wards import WardIndex
from finder.i18n import tr
from finder.lookup.service import OutcodeAnswer, PostcodeAnswer, WardAnswer, kept_postcodes
from finder.teams.directory import NearbyPlace
from finder.teams.views import confirmed
from finder.web import pagecache, services, tiles
from finder.web.limits import limited
from finder.web.pagecache import page

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    """The postcode form."""
    return render_template("home.html", query="")


@bp.get("/search")
@limited("SEARCH_RATE_LIMIT")
def search():
    """The form's target: a postcode or outward code becomes a result, a ward list or a clear error.

    A whole address pasted in is never kept in the address bar: the answer redirects at once to the
    postcode found in it (`pasted=1` says so on the page), or, with none found, to no text at all.
    """
    query = request.args.get("postcode", "")
    pasted = request.args.get("pasted") == "1"
    try:
        if pasted and not query.strip():
            raise InvalidInput(tr("We could not find a postcode in what you entered. Enter a postcode, like SW1A 2AA"))
        result = services().lookup.resolve(postcode=query)
    except FinderError as error:
        if error.details.get("found_in_text"):
            return redirect(url_for(".search", postcode=kept_postcodes(error), pasted="1"), 303)
        return render_template("home.html", query=query, error=error), error.status
    if getattr(result, "found_in_text", False):
        return redirect(url_for(".search", postcode=result.postcode, pasted="1"), 303)
    counted(result, "page")
    if isinstance(result, OutcodeAnswer):
        return render_template("outcode.html", result=result, query=query)
    return render_template("result.html", result=result, query=query, pasted=pasted)


@bp.get("/locate")
def locate():
    """A point from "use my location" or a map click: resolved, then the resident goes to the ward's page.

    The exact location stays out of the address bar, the history and any link the resident shares.
    """
    try:
        result = services().lookup.resolve(lat=request.args.get("lat"), lon=request.args.get("lon"))
    except FinderError as error:
        # Its language links go to each language's home page: the point is carried into no further address.
        home = ("public.home", {})
        return render_template("home.html", query="", error=error, language_page=home), error.status
    edge = result.london_edge
    beyond = {"beyond": edge.force.id} if edge and edge.force else {}  # the force only, never the point
    return redirect(url_for(".ward", code=result.ward.code, **{"from": "location"}, **beyond), 303)


@bp.get("/wards/<code>")
def ward(code: str):
    """A shareable page for one ward (`?from=location` when "use my location" led here; `&beyond=<force>` when
    the place chosen was so near London's boundary that the data cannot say which side it is)."""
    if code != code.strip().upper():
        return redirect(url_for(".ward", code=code.strip().upper()), 301)
    # "use my location" is counted here, after its redirect
    result = counted(services().lookup.resolve(ward=code), "page")
    from_location = request.args.get("from") == "location"
    beyond = services().lookup.force_beyond_london(request.args.get("beyond", "")) if from_location else None
    return page(
        services().pages,
        result,
        lambda: render_template(
            "result.html", result=result, query="", from_location=from_location, beyond_london=beyond
        ),
        from_location,
        beyond and beyond.id,
    )


@bp.get("/maps/<code>.js")
def ward_map(code: str):
    """The Leaflet script for a ward's map: the same trusted file for everyone (static/map.js adds the rest)."""
    if services().lookup.geo.wards.get(code) is None:
        abort(404)
    # Tiles and their credit are added by static/map.js: the credit is the operator's HTML, and it stays
    # out of Folium, which compiles what it renders as templates.
    script = _map_script(services().lookup.geo, code)
    # Pages name the script with its content's hash (`map_script_url`): that address always means these bytes,
    # so a returning visitor's browser keeps it for good and a ward view is one request. Any other address
    # (an old page's, after geodata changed) gets an hour, so it is never kept past a change.
    current = request.args.get("v") == _version(script)
    cache_control = "public, max-age=31536000, immutable" if current else "public, max-age=3600"
    return pagecache.send(script, "text/javascript", cache_control, "Accept-Encoding")


def _version(script: pagecache.Page) -> str:
    """A map script's version in its address: the start of its content hash."""
    return script.etag[:12]


@bp.app_template_global()
def map_script_url(code: str) -> str:
    """The ward's map script at an address that names its content (kept by browsers for good)."""
    return url_for("public.ward_map", code=code, v=_version(_map_script(services().lookup.geo, code)))


# One script per ward (704 of them, about 10 KB each): the cache's size is bounded by the geodata,
# never by requests. Keyed by the geodata itself, so apps with different geodata never share.
@lru_cache(maxsize=1024)
def _map_script(geo: GeoData, code: str) -> pagecache.Page:
    """The ward's script as built with geodata (rendered here only when geodata has none), kept with its
    ETag and compressed forms; the built script itself stays the str every worker shares."""
    prebuilt = prebuilt_scripts(geo.directory)
    return pagecache.Page.of(prebuilt[code] if prebuilt is not None else ward_map_script(geo.wards, code))


@bp.record_once
def _before_fork(state: BlueprintSetupState) -> None:
    """Before gunicorn forks, what map scripts need, shared by the workers: the scripts built with geodata,
    or Folium to render them."""
    if prebuilt_scripts(state.app.config["GEODATA_DIR"]) is None:
        import folium  # noqa: F401  (300-450 ms, loaded once in the master only when no scripts were built)


@bp.app_template_global()
def map_data(result: WardAnswer) -> dict[str, Any]:
    """What varies on a ward's map, for static/map.js: the searched point and the nearest front counters.

    It reaches the page as JSON in an attribute, never as template or script source.
    """
    point = [result.lat, result.lon] if result.has_location else None
    by_postcode = isinstance(result, PostcodeAnswer)
    origin = _("your postcode") if by_postcode else (_("the place you chose") if point else _("the ward centre"))
    counters = result.teams.front_counters if result.teams else ()
    layer = tiles()
    return {
        "tiles": {"url": layer.url, "attribution": layer.attribution} if layer else None,
        "point": point,
        "pointLabel": _("Your postcode") if by_postcode else _("The place you chose"),
        "places": [
            {"name": p.name, "lat": round(p.lat, 6), "lon": round(p.lon, 6), "lines": place_lines(p, origin)}
            for p in counters
        ],
    }


@bp.app_template_global()
def ward_outline(code: str) -> Markup:
    """The ward's boundary as inline SVG, shown where the map cannot be (no JavaScript, printing)."""
    name = services().lookup.geo.wards.by_code[code].name
    return Markup(_outline(services().lookup.geo.wards, code, _("Outline of %(name)s ward", name=name)))


@lru_cache(maxsize=4096)  # bounded by the 704 wards in each language (about 500 bytes each)
def _outline(wards: WardIndex, code: str, label: str) -> str:
    return ward_outline_svg(wards.feature(code), wards.by_code[code].name, label)


def place_lines(place: NearbyPlace, origin: str) -> list[str]:
    """What a station's map popup says, as plain lines (static/map.js puts them in with textContent)."""
    lines = []
    if place.provenance.sample:
        lines.append(_("Sample data — fictional"))
    if place.address:
        lines.append(place.address + (f", {place.postcode}" if place.postcode else ""))
    lines.append(_("%(distance)s from %(origin)s", distance=place.distance_label, origin=origin))
    if place.opening_hours or place.description:
        lines.append(place.opening_hours or place.description or "")
    if not place.provenance.sample:
        lines.append(confirmed(place.provenance))
    return lines


@bp.get("/about")
def about():
    """Where the data comes from, how current it is, and the licences."""
    lookup = services().lookup
    return render_template(
        "about.html", manifest=lookup.geo.manifest, config=current_app.config, forces=lookup.forces.values()
    )


@bp.get("/accessibility")
def accessibility():
    """The accessibility statement (GOV.UK's model): councils embedding the finder must publish one."""
    return render_template("accessibility.html")
