"""Distances from a place people searched for to police stations and contact points.

Distances are straight lines in British National Grid metres (pyproj), which is what "0.8 km
away" means on the page; walking distances would need a routing service we do not run.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely

from finder.geo.wards import WardIndex


@lru_cache(maxsize=1024)
def ward_centre(wards: WardIndex, code: str) -> tuple[float, float]:
    """(easting, northing) of a point inside the ward: its centroid, or a point on its surface if that falls outside."""
    polygon = wards.bng[wards.by_code[code].index]
    point = shapely.centroid(polygon)
    if not shapely.covers(polygon, point):
        point = shapely.point_on_surface(polygon)
    return float(point.x), float(point.y)


def nearest_bng(
    origin: tuple[float, float], eastings: np.ndarray, northings: np.ndarray, limit: int, max_m: float | None = None
) -> list[tuple[int, float]]:
    """The `limit` nearest of the BNG points to a BNG origin, as (index, metres), nearest first."""
    if not len(eastings):
        return []
    distances = np.hypot(eastings - origin[0], northings - origin[1])
    order = np.argsort(distances, kind="stable")[:limit]
    return [(int(i), float(distances[i])) for i in order if max_m is None or distances[i] <= max_m]
