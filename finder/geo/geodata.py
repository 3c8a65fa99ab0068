"""The built geodata, loaded once per process.

Postcode arrays are memory-mapped, so start-up is quick and several workers share the pages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from finder.geo.postcodes import PostcodeIndex
from finder.geo.wards import WardIndex

# The files `finder build-geodata` writes (finder/geo/build.py), and the layout of its arrays.
OUTPUTS = (
    "wards.geojson",
    "wards_bng.geojson",
    "postcodes.npy",
    "gb_postcodes.npy",
    "districts.json",
    "outcodes.json",
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
        ("status", "u1"),
        ("match", "u1"),
    ]
)
GB_DTYPE = np.dtype([("postcode", "S8"), ("easting", "<i4"), ("northing", "<i4"), ("district", "<i2")])


class GeodataMissing(RuntimeError):
    """geodata/ has not been built; `finder build-geodata` builds it."""


@dataclass(frozen=True)
class District:
    """A local authority district anywhere in Great Britain."""

    code: str
    name: str


class GeoData:
    """Wards, London postcodes (live and withdrawn), outward codes and GB postcode districts."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        missing = [name for name in OUTPUTS if not (self.directory / name).exists()]
        if missing:
            raise GeodataMissing(
                f"geodata is not built in {self.directory} (missing {', '.join(missing)}); run `finder build-geodata`"
            )
        self.wards = WardIndex.from_files(
            str(self.directory / "wards.geojson"), str(self.directory / "wards_bng.geojson")
        )
        self.postcodes = PostcodeIndex(np.load(self.directory / "postcodes.npy", mmap_mode="r"))
        self.gb_postcodes = PostcodeIndex(np.load(self.directory / "gb_postcodes.npy", mmap_mode="r"))
        self.outcodes: dict[str, list[tuple[str, int]]] = {
            oc: [(code, n) for code, n in wards]
            for oc, wards in json.loads((self.directory / "outcodes.json").read_text("utf-8")).items()
        }
        self.districts = [
            District(d["code"], d["name"]) for d in json.loads((self.directory / "districts.json").read_text("utf-8"))
        ]

    def district_of(self, postcode: str) -> District | None:
        """The GB district of a live postcode, if Code-Point Open knows it."""
        row = self.gb_postcodes.find(postcode)
        if row is None:
            return None
        district = int(self.gb_postcodes.rows[row]["district"])
        return self.districts[district] if district >= 0 else None

    @cached_property
    def manifest(self) -> dict:
        """What the build recorded: sources, versions, counts."""
        path = self.directory / "manifest.json"
        return json.loads(path.read_text("utf-8")) if path.exists() else {}
