"""Distances from a place people searched for to police stations and contact points.

Distances are straight lines in British National Grid metres (pyproj), which is what "0.8 km
away" means on the page; walking distances would need a routing service we do not run.
"""

from __future__ import annotations

import math
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


class NearestPlaces:
    """The `limit` nearest of a fixed set of BNG points to a place, within `max_m` metres (ties: the lower
    index first), from a short list kept per square kilometre.

    Measuring all of them (a hundred front counters) took a lookup 30 µs inside a request. A place in a
    square is within h (half its diagonal) of the square's centre, so its `limit` nearest are within
    D + h of it, D being the farthest of the centre's `limit` nearest; only points within D + 2h of the
    centre can be among them. Each square a lookup falls in keeps those few: a hundred bytes or so for
    each of the 1,600 squares that London's wards cover.
    """

    SQUARE_M = 1000.0

    def __init__(self, eastings: np.ndarray, northings: np.ndarray, limit: int, max_m: float) -> None:
        self.eastings = eastings
        self.northings = northings
        self.limit = limit
        self.max_m = max_m
        self._points = list(zip(eastings.tolist(), northings.tolist(), strict=True))
        self._squares: dict[tuple[int, int], tuple[int, ...]] = {}  # indices: a few bytes per square

    def near(self, origin: tuple[float, float]) -> list[tuple[int, float]]:
        """The nearest points to `origin` as (index, metres), nearest first (ties: the lower index first)."""
        x, y = origin
        square = (math.floor(x / self.SQUARE_M), math.floor(y / self.SQUARE_M))
        candidates = self._squares.get(square)
        if candidates is None:
            candidates = self._squares[square] = self._short_list(square)
        points = self._points
        found = sorted([(math.hypot(points[i][0] - x, points[i][1] - y), i) for i in candidates])[: self.limit]
        return [(i, distance) for distance, i in found if distance <= self.max_m]

    def _short_list(self, square: tuple[int, int]) -> tuple[int, ...]:
        """The indices of the points that can be among the nearest to a place in the square."""
        side = self.SQUARE_M
        cx, cy = (square[0] + 0.5) * side, (square[1] + 0.5) * side
        h = side / math.sqrt(2) + 1.0  # a metre over, so that rounding never leaves a point out
        distances = np.hypot(self.eastings - cx, self.northings - cy)
        farthest = np.sort(distances)[self.limit - 1] if len(distances) >= self.limit else math.inf
        within = np.flatnonzero(distances <= min(farthest + h, self.max_m) + h)
        return tuple(within.tolist())
