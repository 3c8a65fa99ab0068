"""Folium maps of a ward: its boundary, its neighbours outlined and named, and the searched point.

The map is an enhancement: every fact on it is also in the page's HTML. We render only the
Leaflet script Folium generates, with a fixed map id, and serve it as a file of our own, so
pages need no inline script and load Leaflet from our own origin rather than a CDN.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import folium
from branca.element import MacroElement
from jinja2 import Template

from finder.geo.wards import WardIndex

MAP_ID = "finder"  # the map's element id is "map_finder"; static/finder.js looks for it
WARD_STYLE = {"color": "#1d70b8", "weight": 4, "fillColor": "#1d70b8", "fillOpacity": 0.12}
NEIGHBOUR_STYLE = {"color": "#505a5f", "weight": 1.5, "dashArray": "4 4", "fillOpacity": 0.0}
# A click on a station opens its popup and must not also reach the map (which looks the place up).
PLACE_STYLE = {
    "radius": 8,
    "color": "#0b0c0c",
    "weight": 2,
    "fillColor": "#912b88",
    "fillOpacity": 1,
    "bubblingMouseEvents": False,
}


@dataclass(frozen=True)
class MapPlace:
    """A police station or contact point to mark on the map, with the lines its popup shows."""

    name: str
    lat: float
    lon: float
    lines: tuple[str, ...] = ()


class _Places(MacroElement):
    """Markers whose tooltip and popup are built with textContent, never innerHTML.

    Folium's Popup and Tooltip paste their text into JavaScript template literals and then into
    innerHTML, so `${…}` or markup in a station's name would run. Here the data goes in as JSON
    (Jinja's tojson escapes <, >, & and ') and reaches the page only through textContent.
    """

    _template = Template(
        """
{% macro script(this, kwargs) %}
(function (map, places, style) {
  places.forEach(function (p) {
    var box = document.createElement("div");
    box.className = "map-place";
    var title = document.createElement("strong");
    title.textContent = p.name;
    box.appendChild(title);
    p.lines.forEach(function (line) {
      var row = document.createElement("div");
      row.textContent = line;
      box.appendChild(row);
    });
    var label = document.createElement("span");
    label.textContent = p.name;
    L.circleMarker([p.lat, p.lon], style).bindPopup(box).bindTooltip(label).addTo(map);
  });
})({{ this._parent.get_name() }}, {{ this.places|tojson }}, {{ this.style|tojson }});
{% endmacro %}
"""
    )

    def __init__(self, places: tuple[MapPlace, ...]) -> None:
        super().__init__()
        self._name = "Places"
        self.places = [{"name": p.name, "lat": p.lat, "lon": p.lon, "lines": list(p.lines)} for p in places]
        self.style = PLACE_STYLE


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


def ward_map_script(
    wards: WardIndex,
    code: str,
    point: tuple[float, float] | None = None,
    tiles: Tiles | None = None,
    places: tuple[MapPlace, ...] = (),
) -> str:
    """The Leaflet JavaScript for one ward's map (see module docstring), with police stations when given."""
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
    if point is not None:
        folium.CircleMarker(
            location=list(point),
            radius=8,
            color="#0b0c0c",
            weight=3,
            fill=True,
            fill_color="#ffdd00",
            fill_opacity=1,
            tooltip="Your postcode",
        ).add_to(map_)
    if places:
        _Places(places).add_to(map_)
    min_x, min_y, max_x, max_y = wards.wgs84_bounds(code)
    map_.fit_bounds([[min_y, min_x], [max_y, max_x]], padding=(12, 12))
    figure = map_.get_root()
    figure.render()
    return figure.script.render().strip() + "\n"
