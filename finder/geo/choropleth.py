"""A Folium choropleth of every ward, coloured by a whole-number score (the coverage map).

Like the ward maps (finder/geo/maps.py), Folium renders only the Leaflet script, with a fixed map
id, served as a file of our own. Folium and branca compile what they render as Jinja templates,
so the script holds trusted ONS geometry and names (HTML-escaped for Leaflet's tooltips) and the
scores, which are integers: no text from the store or a request ever reaches it. The page's table
holds every fact on the map, so the map is an enhancement.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from finder.geo.wards import WardIndex

MAP_ID = "coverage"  # the map's element id is "map_coverage"
# ColorBrewer RdYlBu, 7 classes (colour-blind safe): red for no parts, blue for all six.
COLOURS = ("#d73027", "#fc8d59", "#fee090", "#ffffbf", "#e0f3f8", "#91bfdb", "#4575b4")
OUTLINE = {"color": "#505a5f", "weight": 0.6, "fillOpacity": 0.8}


def colour(score: int, maximum: int = len(COLOURS) - 1) -> str:
    """The fill for a score out of `maximum`."""
    step = round(max(0, min(score, maximum)) * (len(COLOURS) - 1) / maximum) if maximum else 0
    return COLOURS[step]


def choropleth_script(wards: WardIndex, scores: Mapping[str, int], maximum: int) -> str:
    """The Leaflet JavaScript for all wards filled by score (a ward missing from `scores` counts 0)."""
    features = []
    for ward in wards.wards:
        score = int(scores.get(ward.code, 0))
        features.append(
            {
                "type": "Feature",
                "geometry": wards.feature(ward.code)["geometry"],
                "properties": {
                    "code": ward.code,
                    "name": html.escape(ward.name),
                    "borough": html.escape(ward.borough_name),
                    "score": f"{score} of {int(maximum)}",
                    "fill": colour(score, maximum),
                },
            }
        )
    import folium  # here, not at import: serving processes never load it for ward maps (finder/geo/maps.py)

    map_ = folium.Map(tiles=None, control_scale=True, zoom_control=True, prefer_canvas=False)
    map_._id = MAP_ID
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name="Coverage by ward",
        style_function=lambda feature: {**OUTLINE, "fillColor": feature["properties"]["fill"]},
        highlight_function=lambda _: {"weight": 3, "color": "#0b0c0c"},
        tooltip=folium.GeoJsonTooltip(fields=["name", "borough", "score"], aliases=["Ward", "Borough", "Score"]),
    ).add_to(map_)
    min_x = min(wards.wgs84_bounds(w.code)[0] for w in wards.wards)
    min_y = min(wards.wgs84_bounds(w.code)[1] for w in wards.wards)
    max_x = max(wards.wgs84_bounds(w.code)[2] for w in wards.wards)
    max_y = max(wards.wgs84_bounds(w.code)[3] for w in wards.wards)
    map_.fit_bounds([[min_y, min_x], [max_y, max_x]], padding=(8, 8))
    figure = map_.get_root()
    figure.render()
    return figure.script.render().strip() + "\n"  # type: ignore[attr-defined]  # the root is a branca Figure
