"""Folium maps of a ward: its boundary and its neighbours, outlined and named.

The map is an enhancement: every fact on it is also in the page's HTML. We render only the
Leaflet script Folium generates, with a fixed map id, and serve it as a file of our own, so
pages need no inline script and load Leaflet from our own origin rather than a CDN.

Folium and branca compile what they render as Jinja templates, so the script holds trusted
geometry and names only (the ONS wards built into geodata) and is the same for everyone who
looks at the ward. What varies by request or comes from the store (the searched point, the front
counters) never goes through Folium: the page carries it as JSON and static/map.js draws it.

Every ward's script is built once with geodata (`finder build-geodata` writes ward_maps.json), so a
serving process never imports Folium (nor pandas under it): a faster start and less memory per
worker. The file names the renderer that made it (this module and Folium's version); one made by
another renderer is ignored, and scripts are rendered on demand as before.
"""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import orjson

from finder.geo.wards import WardIndex

SCRIPTS_FILE = "ward_maps.json"  # beside the other geodata; not in its manifest (the app runs without it)

MAP_ID = "finder"  # the map's element id is "map_finder"; static/finder.js and map.js look for it
WARD_STYLE = {"color": "#1d70b8", "weight": 4, "fillColor": "#1d70b8", "fillOpacity": 0.12}
NEIGHBOUR_STYLE = {"color": "#505a5f", "weight": 1.5, "dashArray": "4 4", "fillOpacity": 0.0}


@dataclass(frozen=True)
class Tiles:
    """A raster tile server; the map works without one (boundaries on a blank background)."""

    url: str
    attribution: str


def _escaped(feature: dict[str, Any], **extra: str) -> dict[str, Any]:
    """A copy of a ward feature whose text properties are HTML-escaped: Leaflet tooltips use innerHTML."""
    props = feature["properties"]
    label = {"name": html.escape(props["name"]), "borough": html.escape(props["borough_name"])}
    return {"type": "Feature", "geometry": feature["geometry"], "properties": {**label, **extra}}


def ward_map_script(wards: WardIndex, code: str, tiles: Tiles | None = None) -> str:
    """The Leaflet JavaScript for one ward's map: trusted ONS geometry only (see module docstring)."""
    import folium

    ward = wards.by_code[code]
    map_ = folium.Map(tiles=None, control_scale=True, zoom_control=True, prefer_canvas=False)
    map_._id = MAP_ID
    if tiles:
        folium.TileLayer(tiles=tiles.url, attr=html.escape(tiles.attribution), name="Map", max_zoom=19).add_to(map_)
    neighbours = [_escaped(wards.feature(n.code)) for n in wards.neighbours(code)]
    if neighbours:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": neighbours},
            name="Neighbouring wards",
            style_function=lambda _: NEIGHBOUR_STYLE,
            highlight_function=lambda _: {"weight": 3},
            tooltip=folium.GeoJsonTooltip(fields=["name", "borough"], aliases=["Ward", "Borough"]),
        ).add_to(map_)
    folium.GeoJson(
        {"type": "FeatureCollection", "features": [_escaped(wards.feature(code))]},
        name=html.escape(ward.name),
        style_function=lambda _: WARD_STYLE,
        tooltip=folium.GeoJsonTooltip(fields=["name", "borough"], aliases=["Ward", "Borough"]),
    ).add_to(map_)
    min_x, min_y, max_x, max_y = wards.wgs84_bounds(code)
    map_.fit_bounds([[min_y, min_x], [max_y, max_x]], padding=(12, 12))
    figure = map_.get_root()
    figure.render()
    return figure.script.render().strip() + "\n"


def renderer() -> str:
    """What a script depends on besides geodata: this module's code and Folium's version."""
    return hashlib.sha256(Path(__file__).read_bytes() + version("folium").encode()).hexdigest()[:16]


def write_map_scripts(wards: WardIndex, path: Path) -> None:
    """Every ward's script, with the renderer that made them (finder/geo/build.py calls this)."""
    scripts = {w.code: ward_map_script(wards, w.code) for w in wards.wards}
    path.write_text(json.dumps({"renderer": renderer(), "scripts": scripts}), encoding="utf-8")


def prebuilt_scripts(directory: str | Path) -> dict[str, str] | None:
    """The scripts built with the geodata in `directory`, or None (none there, or another renderer's)."""
    return _prebuilt(Path(directory).resolve())


@lru_cache(maxsize=4)  # read once per process and geodata folder
def _prebuilt(directory: Path) -> dict[str, str] | None:
    path = directory / SCRIPTS_FILE
    if not path.exists():
        return None
    built = orjson.loads(path.read_bytes())  # 9.5 MB: orjson reads it in two thirds of json's time
    return built["scripts"] if built.get("renderer") == renderer() else None
