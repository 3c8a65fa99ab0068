"""A ward's boundary as a small inline SVG, for pages seen without JavaScript (or before the map loads).

Drawn from the ONS geometry built into geodata (trusted data: no input reaches it), projected
flat around the ward's middle latitude, scaled to a fixed width and thinned to points at least
half a unit apart, so a ward costs a few kilobytes of markup and shows in every browser.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

WIDTH = 320.0
PAD = 8.0
MIN_STEP = 0.5  # points closer than this (in SVG units) add nothing visible


def _rings(geometry: dict[str, Any]) -> Iterable[Sequence[Sequence[float]]]:
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    for polygon in polygons:
        yield from polygon


def ward_outline_svg(feature: dict[str, Any], name: str, label: str | None = None) -> str:
    """An <svg> holding the outline of one ward feature (GeoJSON, WGS84), titled with its name (or `label`)."""
    rings = [list(ring) for ring in _rings(feature["geometry"])]
    lons = [p[0] for ring in rings for p in ring]
    lats = [p[1] for ring in rings for p in ring]
    squash = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span_x = max((max(lons) - min(lons)) * squash, 1e-9)
    span_y = max(max(lats) - min(lats), 1e-9)
    scale = (WIDTH - 2 * PAD) / max(span_x, span_y)
    width = span_x * scale + 2 * PAD
    height = span_y * scale + 2 * PAD
    west, north = min(lons), max(lats)

    parts = []
    for ring in rings:
        points: list[tuple[float, float]] = []
        for lon, lat, *_ in ring:
            x = round(PAD + (lon - west) * squash * scale, 1)
            y = round(PAD + (north - lat) * scale, 1)
            if not points or abs(x - points[-1][0]) + abs(y - points[-1][1]) >= MIN_STEP:
                points.append((x, y))
        if len(points) >= 3:
            parts.append("M" + "L".join(f"{x:g} {y:g}" for x, y in points) + "Z")
    title = html.escape(label or f"Outline of {name} ward")
    return (
        f'<svg class="ward-outline" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{title}" xmlns="http://www.w3.org/2000/svg">'
        f'<path d="{"".join(parts)}" fill="#1d70b8" fill-opacity="0.12" stroke="#1d70b8" '
        'stroke-width="3" stroke-linejoin="round" fill-rule="evenodd"/></svg>'
    )
