"""London's 704 wards: who they are, where they are, and which ward a point falls in.

Geometry for matching is held in British National Grid (metres), so "within 100 m" means
100 metres; geometry for maps and the API is held in WGS84, as built from the ONS release.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import orjson
import shapely
from pyproj import Transformer

CITY_OF_LONDON = "E09000001"
NEAREST_WARD_LIMIT_M = 100.0
NEIGHBOUR_GAP_M = 25.0  # wards this close share a boundary (bridges generalisation gaps)
GRID_CELL_M = 500.0  # the side of a square of the grid that finds a point's candidate wards
RIVER_SEARCH_M = 1500.0  # wider than the Thames anywhere in London (about 700 m at Erith)

_TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def to_bng(lon: float | np.ndarray, lat: float | np.ndarray) -> tuple[Any, Any]:
    """WGS84 longitude/latitude to British National Grid easting/northing (metres)."""
    return _TO_BNG.transform(lon, lat)


@dataclass(frozen=True)
class Ward:
    """A ward and the borough and police force it belongs to. Keys are GSS codes."""

    index: int
    code: str
    name: str
    borough_code: str
    borough_name: str

    def __hash__(self) -> int:
        # By code alone (equal wards share it): kept pages are keyed by what holds wards, hashed per view.
        return hash(self.code)

    @property
    def force_id(self) -> str:
        """The City of London's wards are policed by City of London Police; the rest by the Met."""
        return "city-of-london" if self.borough_code == CITY_OF_LONDON else "metropolitan"


@dataclass(frozen=True)
class WardMatch:
    """The ward a point fell in, and how: inside its boundary, or the nearest within 100 m."""

    ward: Ward
    how: Literal["inside", "nearest"]
    distance_m: float = 0.0


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Run a parse without the cyclic garbage collector. A parse makes no reference cycles, so a collection
    could free nothing; but its tens of thousands of new lists would set off about a hundred collections,
    and the full ones walk everything already loaded (60-80 ms of a cold start)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class WardIndex:
    """Point-in-polygon over the ward boundaries with an STRtree; boundary points count as inside."""

    def __init__(self, wards: list[Ward], bng: np.ndarray, wgs84: np.ndarray) -> None:
        self.wards = wards
        self.by_code = {w.code: w for w in wards}
        self.bng = bng
        self.wgs84 = wgs84
        self.tree = shapely.STRtree(bng)
        shapely.prepare(bng)
        self._neighbours: list[tuple[Ward, ...] | None] = [None] * len(wards)
        self._grid = self._candidate_grid()

    def _candidate_grid(self) -> tuple[dict[int, tuple[int, int]], np.ndarray]:
        """For each GRID_CELL_M square some ward's bounding box reaches, where its wards are in a list of
        them (each cell's lowest index first); and that list.

        A point's ward is then one of a handful, tested by coordinates: asking the STRtree meant making a
        shapely Point and going through its query wrapper, most of a point lookup's time.
        """
        low_i, low_j, high_i, high_j = (shapely.bounds(self.bng) // GRID_CELL_M).astype(np.int64).T
        width, height = high_i - low_i + 1, high_j - low_j + 1
        ward = np.repeat(np.arange(len(self.wards)), width * height)
        offset = np.arange(len(ward)) - np.repeat(np.cumsum(width * height) - width * height, width * height)
        keys = self._cell_key(low_i[ward] + offset // height[ward], low_j[ward] + offset % height[ward])
        order = np.argsort(keys, kind="stable")  # stable: a cell's wards stay lowest index first
        cells, starts = np.unique(keys[order], return_index=True)
        stops = [*starts[1:].tolist(), len(keys)]
        return dict(zip(cells.tolist(), zip(starts.tolist(), stops, strict=True), strict=True)), ward[order]

    @staticmethod
    def _cell_key(i: Any, j: Any) -> Any:
        return i * 1_000_000 + j  # BNG cells: i and j well under a million

    @classmethod
    def from_files(cls, wgs84_path: str, bng_path: str) -> WardIndex:
        """Load the two GeoJSON files written by the geodata build.

        Both boundaries are kept as shapely geometries and the parsed GeoJSON is dropped: kept as Python
        lists and dicts, it was 37,000 objects that every full collection walked.
        """
        with _collector_paused():
            features = orjson.loads(Path(wgs84_path).read_bytes())["features"]
            bng_features = orjson.loads(Path(bng_path).read_bytes())["features"]
            wards = [
                Ward(i, p["code"], p["name"], p["borough_code"], p["borough_name"])
                for i, p in enumerate(f["properties"] for f in features)
            ]
            if [f["properties"]["code"] for f in bng_features] != [w.code for w in wards]:
                raise ValueError("ward files disagree; rebuild geodata")
            wgs84 = shapely.from_geojson([orjson.dumps(f["geometry"]) for f in features])
            bng = shapely.from_geojson([orjson.dumps(f["geometry"]) for f in bng_features])
            del features, bng_features  # freed here, while the collector cannot start on them
        return cls(wards, bng, wgs84)

    def __len__(self) -> int:
        return len(self.wards)

    def get(self, code: str) -> Ward | None:
        """The ward with this GSS code, or None."""
        return self.by_code.get(code)

    def locate_bng(self, easting: float, northing: float) -> WardMatch | None:
        """The ward covering a BNG point (on a shared edge, the lowest index), else the nearest within 100 m,
        else None."""
        if not (math.isfinite(easting) and math.isfinite(northing)):  # far from Britain, BNG can be infinite
            return None
        cells, wards = self._grid
        cell = cells.get(self._cell_key(int(easting // GRID_CELL_M), int(northing // GRID_CELL_M)))
        if cell is not None:
            candidates = wards[cell[0] : cell[1]]
            hits = candidates[shapely.intersects_xy(self.bng[candidates], easting, northing)]
            if len(hits):
                return WardMatch(self.wards[int(hits[0])], "inside")
        point = shapely.Point(easting, northing)
        nearest, distance = self.tree.query_nearest(point, max_distance=NEAREST_WARD_LIMIT_M, return_distance=True)
        if len(nearest):
            return WardMatch(self.wards[int(nearest[0])], "nearest", round(float(distance[0]), 1))
        return None

    def locate(self, lat: float, lon: float) -> WardMatch | None:
        """The ward for a WGS84 point (see locate_bng)."""
        easting, northing = to_bng(lon, lat)
        return self.locate_bng(easting, northing)

    def locate_many_bng(self, eastings: np.ndarray, northings: np.ndarray) -> np.ndarray:
        """Ward index covering each BNG point, -1 where none covers it (no nearest fallback)."""
        points = shapely.points(eastings, northings)
        point_i, ward_i = self.tree.query(points, predicate="covered_by")
        none = len(self.wards)
        out = np.full(len(points), none, dtype=np.int32)
        # Where a point lies on a shared edge, keep the lowest ward index, as locate_bng does.
        np.minimum.at(out, point_i, ward_i)
        out[out == none] = -1
        return out

    @cached_property
    def _wgs84_bounds(self) -> np.ndarray:
        return shapely.bounds(self.wgs84)

    def wgs84_bounds(self, code: str) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat) of a ward."""
        return tuple(float(v) for v in self._wgs84_bounds[self.by_code[code].index])  # type: ignore[return-value]

    def feature(self, code: str) -> dict[str, Any]:
        """The ward as a WGS84 GeoJSON Feature."""
        w = self.by_code[code]
        # GEOS writes back exactly the coordinates it read; keys in the built file's order (tests/geo/test_wards.py)
        geometry = orjson.loads(shapely.to_geojson(self.wgs84[w.index]))
        return {
            "geometry": {"coordinates": geometry["coordinates"], "type": geometry["type"]},
            "properties": {
                "borough_code": w.borough_code,
                "borough_name": w.borough_name,
                "code": w.code,
                "name": w.name,
            },
            "type": "Feature",
        }

    def neighbours(self, code: str) -> tuple[Ward, ...]:
        """Wards bordering this one (within NEIGHBOUR_GAP_M), by name; found when first asked for, ward by ward,
        so no worker spends its first request (0.05-0.09 s) on all 704."""
        i = self.by_code[code].index
        found = self._neighbours[i]
        if found is None:
            near = self.tree.query(self.bng[i], predicate="dwithin", distance=NEIGHBOUR_GAP_M)
            found = tuple(sorted((self.wards[j] for j in near.tolist() if j != i), key=lambda n: n.name))
            self._neighbours[i] = found
        return found

    def river_banks(self, easting: float, northing: float) -> tuple[tuple[Ward, float], tuple[Ward, float] | None]:
        """The nearest ward on each bank of the water a point lies on, with its distance in metres: for a point
        in Greater London that no ward covers, which is the tidal Thames (the wards are cut at its high-water
        line).

        The nearest ward is on the near bank. The far bank is where the nearest ward lies in the opposite
        direction: of the wards within RIVER_SEARCH_M, the nearest whose closest point is on the far side of
        the line through the point square to the near bank's direction (a negative dot product). A ward on
        the near bank a little upstream or down is on the same side of that line, so it is never taken for
        the far bank; where the far bank is outside London (upstream of Hampton, Surrey's bank), None.
        """
        point = shapely.Point(easting, northing)
        near = self.tree.query(point, predicate="dwithin", distance=RIVER_SEARCH_M)
        if not len(near):
            raise LookupError("no ward near this point")
        distances = shapely.distance(self.bng[near], point)
        order = np.argsort(distances, kind="stable")
        first = int(near[order[0]])
        bank = shapely.shortest_line(point, self.bng[first]).coords[1]
        towards = np.array(bank) - (easting, northing)
        for k in order[1:]:
            other = shapely.shortest_line(point, self.bng[int(near[k])]).coords[1]
            if float(np.dot(np.array(other) - (easting, northing), towards)) < 0:
                return (self.wards[first], round(float(distances[order[0]]), 1)), (
                    self.wards[int(near[k])],
                    round(float(distances[k]), 1),
                )
        return (self.wards[first], round(float(distances[order[0]]), 1)), None
