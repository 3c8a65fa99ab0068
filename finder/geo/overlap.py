"""Which wards a police.uk neighbourhood covers, from its boundary: area overlap in British National Grid.

police.uk publishes each neighbourhood's outline (`/{force}/{id}/boundary`, a list of lat/lng
points). A merged or force-wide team covers several wards; the ward polygons are the ONS BGC
shapes in WardIndex. A ward counts as covered when most of its area lies inside the boundary, so a
neighbourhood drawn a little differently from the ward map does not claim its neighbours.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from finder.geo.wards import Ward, WardIndex, to_bng

COVERED_SHARE = 0.5  # of a ward's area inside the boundary


def boundary_polygon(points: Iterable[tuple[float, float]]) -> BaseGeometry | None:
    """A boundary's (lat, lon) points as a valid BNG polygon, or None when they enclose no area."""
    pts = list(points)
    if len(pts) < 3:
        return None
    lat = np.array([p[0] for p in pts], dtype=float)
    lon = np.array([p[1] for p in pts], dtype=float)
    easting, northing = to_bng(lon, lat)
    polygon = shapely.make_valid(Polygon(zip(easting, northing, strict=True)))
    return polygon if polygon.area > 0 else None


def wards_covered(
    index: WardIndex, polygon: BaseGeometry, min_share: float = COVERED_SHARE
) -> list[tuple[Ward, float]]:
    """The wards with at least `min_share` of their area inside `polygon`, most covered first (ties by code)."""
    found = []
    for i in index.tree.query(polygon):
        ward_shape = index.bng[i]
        share = shapely.intersection(ward_shape, polygon).area / ward_shape.area
        if share >= min_share:
            found.append((index.wards[i], share))
    return sorted(found, key=lambda item: (-round(item[1], 6), item[0].code))
