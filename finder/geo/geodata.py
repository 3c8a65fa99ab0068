"""The built geodata, loaded once per process.

Postcode arrays are memory-mapped, so start-up is quick and several workers share the pages.
Every file is checked as it loads (before gunicorn forks, with --preload): a file of the wrong
layout stops the server at start-up with a message naming it, instead of failing every lookup.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np
import shapely
import shapely.geometry
from shapely.errors import ShapelyError

from finder.geo.postcodes import PostcodeIndex
from finder.geo.wards import WardIndex

BAND_M = 5_000  # the height of a band of northing in the nearest-postcode search
# The files `finder build-geodata` writes (finder/geo/build.py), and the layout of its arrays.
OUTPUTS = (
    "wards.geojson",
    "wards_bng.geojson",
    "postcodes.npy",
    "gb_postcodes.npy",
    "districts.json",
    "outcodes.json",
    "withdrawn.npy",
    "london_bng.geojson",
)

LIVE, TERMINATED = 0, 1
RECORDED, INSIDE, NEAREST, NEAREST_BEYOND_LIMIT = 0, 1, 2, 3
POSTCODE_DTYPE = np.dtype(
    [
        ("postcode", "S8"),
        ("lat", "<f8"),
        ("lon", "<f8"),
        ("easting", "<i4"),
        ("northing", "<i4"),
        ("ward", "<i2"),
        ("centre", "<i2"),  # the ward whose boundary holds the postcode's point, -1 for none
        ("status", "u1"),
        ("match", "u1"),
    ]
)
GB_DTYPE = np.dtype([("postcode", "S8"), ("easting", "<i4"), ("northing", "<i4"), ("district", "<i2")])
# A withdrawn London postcode and the last release that listed it (Code-Point "2018.3.0", or ONSPD's
# termination month "202311"): the only date the data holds for it.
WITHDRAWN_DTYPE = np.dtype([("postcode", "S8"), ("last_listed", "S10")])


class PostcodeRow(NamedTuple):
    """One row of postcodes.npy as plain Python values, read in one call: reading its fields one by one
    from numpy took a lookup 3.7 µs, against 0.5. The fields are POSTCODE_DTYPE's, in its order."""

    postcode: bytes
    lat: float
    lon: float
    easting: int
    northing: int
    ward: int
    centre: int
    status: int
    match: int

    @classmethod
    def read(cls, rows: np.ndarray, number: int) -> PostcodeRow:
        return cls._make(rows[number].item())


REBUILD = "run `finder build-geodata --force` to rebuild geodata"


class GeodataError(RuntimeError):
    """geodata/ cannot be served as it stands."""


class GeodataMissing(GeodataError):
    """geodata/ has not been built; `finder build-geodata` builds it."""


class GeodataInvalid(GeodataError):
    """A geodata file is unreadable, truncated, or not the layout this finder builds."""


@contextmanager
def _reading(*paths: Path) -> Iterator[None]:
    """Turn a failure to read these files into GeodataInvalid naming them and the fix."""
    try:
        yield
    except GeodataError:
        raise
    except (OSError, EOFError, ValueError, KeyError, TypeError, IndexError, ShapelyError) as e:
        names = " and ".join(str(p) for p in paths)
        raise GeodataInvalid(f"geodata file {names} cannot be read ({e}); {REBUILD}") from e


def load_rows(path: Path, dtype: np.dtype) -> np.ndarray:
    """Memory-map a built array: one dimension of `dtype` rows, sorted by postcode, each postcode once."""
    with _reading(path):
        rows = np.load(path, mmap_mode="r", allow_pickle=False)
    if rows.dtype != dtype:
        raise GeodataInvalid(f"geodata file {path} holds rows of {rows.dtype}, not {dtype}; {REBUILD}")
    if rows.ndim != 1 or len(rows) == 0:
        raise GeodataInvalid(f"geodata file {path} has shape {rows.shape}, not one row per postcode; {REBUILD}")
    # Eight bytes of postcode, padded with NULs, sort as big-endian integers do: compared so, the 1.7 million
    # GB postcodes take 5 ms, not 25.
    keys = rows["postcode"].view(">u8")
    if not np.all(keys[:-1] < keys[1:]):
        raise GeodataInvalid(f"geodata file {path} is not sorted by postcode; {REBUILD}")
    return rows


def _check_refs(path: Path, values: np.ndarray, lowest: int, count: int, what: str) -> None:
    """Every row's reference (a ward or district number) must name one the other files hold."""
    if int(values.min()) < lowest or int(values.max()) >= count:
        raise GeodataInvalid(
            f"geodata file {path} refers to {what} numbers {int(values.min())}..{int(values.max())}, "
            f"but there are {count} {what}s (the files come from different builds); {REBUILD}"
        )


class LondonOutline:
    """Greater London's outline (the GLA boundary, more detailed than the generalised wards), in grid metres."""

    def __init__(self, polygon: shapely.Geometry, source: str) -> None:
        self.polygon = polygon
        self.source = source
        self.boundary = polygon.boundary
        shapely.prepare(polygon)
        shapely.prepare(self.boundary)

    @classmethod
    def from_file(cls, path: Path) -> LondonOutline:
        feature = json.loads(path.read_text("utf-8"))["features"][0]
        return cls(shapely.geometry.shape(feature["geometry"]), feature["properties"]["source"])

    def signed_distance(self, easting: float, northing: float, within: float = math.inf) -> float:
        """Metres from the boundary, negative inside London; beyond `within` metres of it, just -inf or +inf
        (a prepared distance test: 3-8 µs a point, where measuring the distance to 10,921 points took 300-700)."""
        point = shapely.Point(easting, northing)
        inside = self.polygon.covers(point)
        if within != math.inf and not shapely.dwithin(self.boundary, point, within):
            return -math.inf if inside else math.inf
        distance = float(self.boundary.distance(point))
        return -distance if inside else distance


@dataclass(frozen=True)
class District:
    """A local authority district anywhere in Great Britain, and its county where there are two tiers."""

    code: str
    name: str
    county: str | None = None


class GeoData:
    """Wards, London postcodes (live and withdrawn), outward codes and GB postcode districts."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        missing = [name for name in OUTPUTS if not (self.directory / name).exists()]
        if missing:
            raise GeodataMissing(
                f"geodata is not built in {self.directory} (missing {', '.join(missing)}); run `finder build-geodata`"
            )
        path = {name: self.directory / name for name in OUTPUTS}
        with _reading(path["wards.geojson"], path["wards_bng.geojson"]):
            self.wards = WardIndex.from_files(str(path["wards.geojson"]), str(path["wards_bng.geojson"]))
        with _reading(path["outcodes.json"]):
            self.outcodes: dict[str, list[tuple[str, int]]] = {
                oc: [(code, n) for code, n in wards]
                for oc, wards in json.loads(path["outcodes.json"].read_text("utf-8")).items()
            }
        with _reading(path["districts.json"]):
            self.districts = [
                District(d["code"], d["name"], d.get("county"))
                for d in json.loads(path["districts.json"].read_text("utf-8"))
            ]
        postcodes = load_rows(path["postcodes.npy"], POSTCODE_DTYPE)
        _check_refs(path["postcodes.npy"], postcodes["ward"], 0, len(self.wards), "ward")
        gb_postcodes = load_rows(path["gb_postcodes.npy"], GB_DTYPE)
        _check_refs(path["gb_postcodes.npy"], gb_postcodes["district"], -1, len(self.districts), "district")
        self.postcodes = PostcodeIndex(postcodes)
        self.gb_postcodes = PostcodeIndex(gb_postcodes)
        self.withdrawn = PostcodeIndex(load_rows(path["withdrawn.npy"], WITHDRAWN_DTYPE))
        with _reading(path["london_bng.geojson"]):
            self.london = LondonOutline.from_file(path["london_bng.geojson"])

    def last_listed(self, postcode: str) -> str | None:
        """The last release that listed a withdrawn London postcode, or None."""
        row = self.withdrawn.find(postcode)
        return None if row is None else self.withdrawn.rows[row]["last_listed"].decode("ascii")

    def district_of(self, postcode: str) -> District | None:
        """The GB district of a live postcode, if Code-Point Open knows it."""
        row = self.gb_postcodes.find(postcode)
        if row is None:
            return None
        district = int(self.gb_postcodes.rows[row]["district"])
        return self.districts[district] if district >= 0 else None

    def outcode_districts(self, outcode: str) -> list[tuple[District | None, int]]:
        """Every live GB postcode in an outward code, counted by district (None: no location), most first."""
        keys = self.gb_postcodes.keys
        prefix = outcode.encode("ascii") + b" "
        start, stop = np.searchsorted(keys, [prefix, prefix + b"\xff"])
        if start == stop:
            return []
        numbers, counts = np.unique(self.gb_postcodes.rows["district"][start:stop], return_counts=True)
        found = [(self.districts[int(n)] if n >= 0 else None, int(c)) for n, c in zip(numbers, counts, strict=True)]
        return sorted(found, key=lambda dc: (-dc[1], dc[0].name if dc[0] else ""))

    @cached_property
    def _by_band(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """GB postcodes with a district, ordered by band of northing (BAND_M tall), then by easting, with the
        row where each band starts (built on first use: points near London's edge or outside it).

        A search looks at a few bands' short runs of eastings, not a strip of Britain from coast to coast: a
        point on London's edge took 5 ms against 5 km of easting, about 0.1 ms an answer over London's points.
        Row numbers as int32 (1.7 million rows): 7 MB in each worker that builds it, not 14.
        """
        rows = self.gb_postcodes.rows
        located = np.nonzero(rows["district"] >= 0)[0].astype(np.int32)
        order = located[np.lexsort((rows["easting"][located], rows["northing"][located] // BAND_M))]
        bands = rows["northing"][order] // BAND_M
        starts = np.searchsorted(bands, np.arange(int(bands[-1]) + 2)) if len(order) else np.zeros(1, np.int64)
        return order, np.asarray(rows["easting"][order]), starts

    @cached_property
    def _district_masks(self) -> dict[str, np.ndarray]:
        return {}

    def _not_starting(self, prefix: str) -> np.ndarray:
        """Per district number (and -1, the last), whether its code does not start with `prefix`: worked out
        once per prefix (a list over every district took longer than the rest of the search)."""
        masks = self._district_masks
        if prefix not in masks:
            masks[prefix] = np.array([not d.code.startswith(prefix) for d in self.districts] + [True])
        return masks[prefix]

    def nearest_gb_postcode(
        self, easting: float, northing: float, within_m: float, *, outside: str | None = None
    ) -> tuple[str, District] | None:
        """The closest live GB postcode with a district, within `within_m` metres; with `outside`, only one
        whose district code does not start so (a point outside London is not answered by a London postcode)."""
        order, eastings, starts = self._by_band
        first = max(0, math.floor((northing - within_m) / BAND_M))
        last = min(len(starts) - 2, math.floor((northing + within_m) / BAND_M))
        runs = []
        for band in range(first, last + 1):
            top, bottom = int(starts[band]), int(starts[band + 1])
            low, high = np.searchsorted(eastings[top:bottom], [easting - within_m, easting + within_m])
            runs.append(order[top + low : top + high])
        near = self.gb_postcodes.rows[np.concatenate(runs) if runs else order[:0]]
        if outside is not None:
            near = near[self._not_starting(outside)[near["district"]]]
        if not len(near):
            return None
        d = np.hypot(near["easting"] - easting, near["northing"] - northing)
        i = int(np.argmin(d))
        if d[i] > within_m:
            return None
        return near[i]["postcode"].decode("ascii"), self.districts[int(near[i]["district"])]

    @cached_property
    def manifest(self) -> dict:
        """What the build recorded: sources, versions, counts."""
        path = self.directory / "manifest.json"
        return json.loads(path.read_text("utf-8")) if path.exists() else {}
