"""Build geodata/ from the official open data releases.

Reads a mirror laid out like ../shared/data-raw (see its SOURCES.md), or the files that
`finder.geo.download` fetches from the publishers, and writes compact, deterministic files:

- wards.geojson        704 wards, WGS84 (maps, API), with borough codes and names
- wards_bng.geojson    the same polygons in British National Grid metres (matching)
- postcodes.npy        live and withdrawn London postcodes, sorted, with location, recorded ward and
                       the ward whose boundary holds the point (they differ for 0.15%)
- gb_postcodes.npy     every live GB postcode with its district (to name places outside London)
- districts.json       district codes, clean names and counties (two-tier areas) for gb_postcodes.npy
- outcodes.json        each London outward code and the wards its postcodes fall in
- withdrawn.npy        each withdrawn London postcode and the last release that listed it
- london_bng.geojson   Greater London's outline in grid metres: the GLA boundary where the raw folder holds
                       it, else the wards' union (decides whether a point just outside is in London)
- manifest.json        sources, versions, row counts, checksums and the cross-check figures

Repeatable: the same inputs give byte-identical outputs, so the committed manifest only
changes when the data does.

Safe under a running server: every file is written beside its final name and renamed into place
once all are written, manifest last. A server that memory-mapped the old postcodes.npy keeps
reading the old file until it restarts (writing over it in place truncated the pages it maps,
and every lookup died of SIGBUS); a build that fails leaves geodata/ as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from finder.geo.geodata import (
    GB_DTYPE,
    INSIDE,
    LIVE,
    NEAREST,
    NEAREST_BEYOND_LIMIT,
    OUTPUTS,
    POSTCODE_DTYPE,
    RECORDED,
    TERMINATED,
    WITHDRAWN_DTYPE,
)
from finder.geo.maps import SCRIPTS_FILE, write_map_scripts
from finder.geo.wards import NEAREST_WARD_LIMIT_M, WardIndex

Log = Callable[[str], None]

# Each source's file in the raw folder: glob patterns tried in turn, the first matching exactly one
# file wins. The release sits in a wildcard, so a newer download needs no change here; the mirror's
# names come first, then what finder.geo.download writes (GeoJSON wards, ONSPD terminated postcodes).
RAW_FILES: dict[str, tuple[str, ...]] = {
    "london_postcodes": ("postcodes-codepoint-open/london_postcodes_codepoint_*.csv.gz",),
    "withdrawn_postcodes": (
        "postcodes-codepoint-open/london_postcodes_absent_from_codepoint_*.csv.gz",
        "postcodes-onspd/london_postcodes_terminated_onspd_*.csv.gz",
    ),
    "gb_postcodes": ("postcodes-codepoint-open/gb_postcodes_codepoint_*.csv.gz",),
    "codelist": ("postcodes-codepoint-open/Codelist.xlsx",),
    "codepoint_metadata": ("postcodes-codepoint-open/codepoint_metadata.txt",),
    "wards": (
        "wards-2024-ons-bgc-london/london_wards_dec2024_bgc_704.shp",
        "wards-2024-ons-bgc-london/london_wards_dec2024_bgc.geojson",
    ),
}
# Optional: where absent (a download), the outline of London is the union of the generalised wards.
LONDON_BOUNDARY = "boroughs-london/London_GLA_Boundary.shp"
# What the mirror's files are. A download writes its own descriptions to <raw>/sources.json.
RAW_DESCRIPTIONS = "sources.json"
SOURCES = {
    "london_postcodes": "OS Code-Point Open 2025.4.0, London (E09) rows",
    "withdrawn_postcodes": "OS Code-Point Open 2014.3.0 and 2018.3.0 postcodes absent from 2025.4.0",
    "gb_postcodes": "OS Code-Point Open 2025.4.0, all GB postcodes",
    "codelist": "OS Code-Point Open 2025.4.0 Doc/Codelist.xlsx (Boundary-Line Oct 2025 names)",
    "codepoint_metadata": "OS Code-Point Open 2025.4.0 Doc/metadata.txt",
    "wards": "ONS Wards (December 2024) Boundaries UK BGC, London subset (the May 2022 set)",
    "london_boundary": "GLA London boundary (London Datastore, OS Boundary-Line 2019-10)",
}
CODELIST_DISTRICT_SHEETS = ("LBO", "DIS", "MTD", "UTA")


def clean_district_name(name: str) -> str:
    """Drop the OS code list's suffixes: "Bromley London Boro" -> "Bromley",
    "Manchester District (B)" -> "Manchester", "Caerdydd - Cardiff" -> "Cardiff"."""
    name = name.strip()
    if name == "City and County of the City of London":
        return "City of London"
    if " - " in name:  # Welsh and English names: keep the English one
        name = name.split(" - ", 1)[1]
    name = re.sub(r"\s*\((B|City)\)$", "", name)
    name = re.sub(r"\s+(London Boro|District)$", "", name)
    return name


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _feature_collection(gdf: Any, precision: int) -> dict[str, Any]:
    """Deterministic GeoJSON of a ward GeoDataFrame, coordinates rounded."""
    features = []
    for row in gdf.itertuples():
        geometry = shapely.set_precision(row.geometry, 10**-precision) if precision else row.geometry
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": row.WD24CD,
                    "name": row.WD24NM,
                    "borough_code": row.LAD24CD,
                    "borough_name": row.LAD24NM,
                },
                "geometry": json.loads(shapely.to_geojson(shapely.make_valid(geometry))),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _save_npy(path: Path, rows: np.ndarray) -> None:
    with open(path, "wb") as f:  # np.save would add ".npy" to a path's name
        np.save(f, rows, allow_pickle=False)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")


def _read_codepoint_version(path: Path) -> str:
    match = re.search(r"DATASET VERSION NUMBER:\s*(\S+)", path.read_text(encoding="latin-1"))
    return match.group(1) if match else "unknown"


def resolve_raw_files(raw_dir: Path) -> dict[str, str]:
    """Each source's file, relative to raw_dir (see RAW_FILES); raise when one is missing or ambiguous."""
    found: dict[str, str] = {}
    missing = []
    for key, patterns in RAW_FILES.items():
        for pattern in patterns:
            matches = sorted(raw_dir.glob(pattern))
            if len(matches) > 1:
                raise FileNotFoundError(f"{raw_dir} has several files for {key}: {[m.name for m in matches]}")
            if matches:
                found[key] = matches[0].relative_to(raw_dir).as_posix()
                break
        else:
            missing.append(" or ".join(patterns))
    if missing:
        raise FileNotFoundError(f"{raw_dir} lacks {', '.join(missing)}")
    if (raw_dir / LONDON_BOUNDARY).is_file():
        found["london_boundary"] = LONDON_BOUNDARY
    return found


class _Staging:
    """Temporary files in the output folder, each renamed over its final name on `commit`."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.files: dict[str, Path] = {}

    def __getitem__(self, name: str) -> Path:
        """Where to write `name` for now: a hidden file beside it, so the rename is atomic."""
        if name not in self.files:
            self.files[name] = self.out_dir / f".{name}.{secrets.token_hex(6)}.tmp"
        return self.files[name]

    def commit(self) -> None:
        """Make every file durable, then rename each into place in the order it was first written."""
        for path in self.files.values():
            _fsync(path)
        for name, path in self.files.items():
            os.replace(path, self.out_dir / name)
        self.files.clear()
        _fsync(self.out_dir)

    def discard(self) -> None:
        """Remove whatever was written and not committed."""
        for path in self.files.values():
            path.unlink(missing_ok=True)
        self.files.clear()


def _fsync(path: Path) -> None:
    """Flush a file (or a folder's entries) to disk, so a crash never leaves a renamed, empty file."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _staging(out_dir: Path) -> Iterator[_Staging]:
    """Files written inside the block replace out_dir's only if the whole block succeeds."""
    staged = _Staging(out_dir)
    try:
        yield staged
        staged.commit()
    finally:
        staged.discard()


def build(raw_dir: Path, out_dir: Path, log: Log = print) -> dict[str, Any]:
    """Read the raw releases in raw_dir and write geodata into out_dir; return the manifest."""
    raw = resolve_raw_files(raw_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _staging(out_dir) as staged:
        manifest = _build(raw_dir, raw, staged, log)
    log(f"geodata: wrote {len(OUTPUTS)} files and manifest.json to {out_dir}")
    return manifest


def _build(raw_dir: Path, raw: dict[str, str], out: _Staging, log: Log) -> dict[str, Any]:
    """The build itself: each file goes to its staged path, manifest.json last."""
    import geopandas as gpd  # here: 200 ms that `finder` commands other than build-geodata never need

    stats: dict[str, Any] = {}

    log("wards: reading ONS Dec 2024 BGC boundaries")
    wards_gdf = gpd.read_file(raw_dir / raw["wards"])
    if wards_gdf.crs is None or wards_gdf.crs.to_epsg() != 27700:
        wards_gdf = wards_gdf.set_crs(27700, allow_override=True)
    wards_gdf = wards_gdf.sort_values("WD24CD").reset_index(drop=True)
    wards_gdf["geometry"] = wards_gdf.geometry.make_valid()
    _write_json(out["wards_bng.geojson"], _feature_collection(wards_gdf, 1))
    _write_json(out["wards.geojson"], _feature_collection(wards_gdf.to_crs(4326), 6))
    index = WardIndex.from_files(str(out["wards.geojson"]), str(out["wards_bng.geojson"]))
    ward_no = {w.code: w.index for w in index.wards}
    stats["wards"] = len(index)
    stats["boroughs"] = len({w.borough_code for w in index.wards})
    log(f"wards: {stats['wards']} wards in {stats['boroughs']} boroughs")
    log("wards: drawing each ward's map script (Folium), so the app never needs to")
    write_map_scripts(index, out[SCRIPTS_FILE])

    if "london_boundary" in raw:
        log("london: reading the GLA boundary")
        outline = gpd.read_file(raw_dir / raw["london_boundary"]).set_crs(27700, allow_override=True)
        london, source = shapely.make_valid(outline.geometry.union_all()), "gla_boundary"
    else:
        log("london: no GLA boundary in the raw folder; London's outline is the union of the generalised wards")
        london, source = shapely.make_valid(wards_gdf.geometry.union_all()), "wards_union"
    london = shapely.set_precision(london, 0.1)
    _write_json(
        out["london_bng.geojson"],
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"source": source},
                    "geometry": json.loads(shapely.to_geojson(london)),
                }
            ],
        },
    )
    stats["london_outline"] = {"source": source, "vertices": int(shapely.get_num_coordinates(london))}

    log("postcodes: reading live London postcodes (Code-Point Open)")
    live = pd.read_csv(
        raw_dir / raw["london_postcodes"],
        usecols=["postcode", "Eastings", "Northings", "latitude", "longitude", "Admin_ward_code"],
        dtype={"postcode": str, "Admin_ward_code": str},
    )
    unknown_wards = sorted(set(live.Admin_ward_code) - set(ward_no))
    if unknown_wards:
        raise ValueError(f"postcodes name wards missing from the boundaries: {unknown_wards[:5]}")
    live_rows = np.zeros(len(live), dtype=POSTCODE_DTYPE)
    live_rows["postcode"] = live.postcode.to_numpy(dtype="S8")
    live_rows["lat"], live_rows["lon"] = live.latitude, live.longitude
    live_rows["easting"], live_rows["northing"] = live.Eastings, live.Northings
    live_rows["ward"] = live.Admin_ward_code.map(ward_no).to_numpy()
    live_rows["status"], live_rows["match"] = LIVE, RECORDED
    pip = index.locate_many_bng(live.Eastings.to_numpy(float), live.Northings.to_numpy(float))
    live_rows["centre"] = pip
    agree = int((pip == live_rows["ward"]).sum())
    stats["live_postcodes"] = len(live_rows)
    stats["pip_agrees_with_recorded_ward"] = agree
    stats["pip_agreement_percent"] = round(100 * agree / len(live_rows), 3)
    stats["pip_in_no_polygon"] = int((pip == -1).sum())
    stats["pip_in_another_ward"] = int(((pip != live_rows["ward"]) & (pip != -1)).sum())
    log(
        f"postcodes: {len(live_rows):,} live; point-in-polygon agrees with the recorded ward for "
        f"{agree:,} ({stats['pip_agreement_percent']}%), {stats['pip_in_no_polygon']} in no polygon"
    )

    log("postcodes: reading postcodes withdrawn since 2014/2018")
    gone = pd.read_csv(
        raw_dir / raw["withdrawn_postcodes"],
        usecols=["postcode", "last_seen_release", "Eastings", "Northings", "latitude", "longitude"],
        dtype={"postcode": str, "last_seen_release": str},
    )
    gone = gone[~gone.postcode.isin(live.postcode)]
    withdrawn = np.zeros(len(gone), dtype=WITHDRAWN_DTYPE)
    withdrawn["postcode"] = gone.postcode.to_numpy(dtype="S8")
    withdrawn["last_listed"] = gone.last_seen_release.fillna("").to_numpy(dtype="S10")
    withdrawn.sort(order="postcode", kind="stable")
    _save_npy(out["withdrawn.npy"], withdrawn)
    gone_rows = np.zeros(len(gone), dtype=POSTCODE_DTYPE)
    gone_rows["postcode"] = gone.postcode.to_numpy(dtype="S8")
    gone_rows["lat"], gone_rows["lon"] = gone.latitude, gone.longitude
    gone_rows["easting"], gone_rows["northing"] = gone.Eastings, gone.Northings
    gone_rows["status"] = TERMINATED
    gone_rows["centre"] = index.locate_many_bng(gone.Eastings.to_numpy(float), gone.Northings.to_numpy(float))
    matches: Counter[int] = Counter()
    for i, (e, n) in enumerate(zip(gone.Eastings.tolist(), gone.Northings.tolist(), strict=True)):
        match = index.locate_bng(e, n)
        if match is None:
            # The postcode was in a London borough; its last point lies beyond the clipped
            # generalised edge. Take the nearest ward and record that it was farther than 100 m.
            nearest = int(index.tree.query_nearest(shapely.Point(e, n))[0])
            gone_rows[i]["ward"], gone_rows[i]["match"] = nearest, NEAREST_BEYOND_LIMIT
        else:
            gone_rows[i]["ward"] = match.ward.index
            gone_rows[i]["match"] = INSIDE if match.how == "inside" else NEAREST
        matches[int(gone_rows[i]["match"])] += 1
    stats["withdrawn_postcodes"] = len(gone_rows)
    stats["withdrawn_ward_by"] = {
        "inside": matches[INSIDE],
        "nearest_within_100m": matches[NEAREST],
        "nearest_beyond_100m": matches[NEAREST_BEYOND_LIMIT],
    }
    log(f"postcodes: {len(gone_rows):,} withdrawn, wards by location: {stats['withdrawn_ward_by']}")

    rows = np.concatenate([live_rows, gone_rows])
    rows.sort(order="postcode", kind="stable")
    if len(np.unique(rows["postcode"])) != len(rows):
        raise ValueError("duplicate postcodes in the London index")
    _save_npy(out["postcodes.npy"], rows)

    outcodes: dict[str, Counter] = defaultdict(Counter)
    for postcode, ward in zip(live.postcode.tolist(), live_rows["ward"].tolist(), strict=True):
        outcodes[postcode.split(" ")[0]][index.wards[ward].code] += 1
    for postcode in gone.postcode.tolist():
        outcodes.setdefault(postcode.split(" ")[0], Counter())
    _write_json(
        out["outcodes.json"],
        {oc: sorted(c.items(), key=lambda kv: (-kv[1], kv[0])) for oc, c in sorted(outcodes.items())},
    )
    stats["london_outcodes"] = len(outcodes)

    log("districts: reading names from the Code-Point code list")
    sheets = pd.read_excel(raw_dir / raw["codelist"], sheet_name=list(CODELIST_DISTRICT_SHEETS), header=None)
    names = {
        code: clean_district_name(name) for sheet in sheets.values() for name, code in sheet.itertuples(index=False)
    }
    for ward in index.wards:  # the ONS borough names are the ones Londoners know
        names[ward.borough_code] = ward.borough_name

    log("postcodes: reading all GB postcodes (1.7 million rows; takes a few seconds)")
    gb = pd.read_csv(
        raw_dir / raw["gb_postcodes"],
        usecols=["postcode", "Eastings", "Northings", "Admin_county_code", "Admin_district_code"],
        dtype={"postcode": str, "Admin_county_code": str, "Admin_district_code": str},
        keep_default_na=False,
    )
    district_codes = sorted(set(gb.Admin_district_code) - {""})
    # A district in a two-tier area is policed with its county (Police Act 1996, Schedule 1).
    county_of = dict(zip(gb.Admin_district_code, gb.Admin_county_code, strict=True))
    districts = [
        {"code": c, "name": names.get(c, c), **({"county": county_of[c]} if county_of[c] else {})}
        for c in district_codes
    ]
    district_no = {c: i for i, c in enumerate(district_codes)}
    gb_rows = np.zeros(len(gb), dtype=GB_DTYPE)
    gb_rows["postcode"] = gb.postcode.to_numpy(dtype="S8")
    gb_rows["easting"], gb_rows["northing"] = gb.Eastings, gb.Northings
    gb_rows["district"] = gb.Admin_district_code.map(lambda c: district_no.get(c, -1)).to_numpy()
    gb_rows.sort(order="postcode", kind="stable")
    _save_npy(out["gb_postcodes.npy"], gb_rows)
    _write_json(out["districts.json"], districts)
    stats["gb_postcodes"] = len(gb_rows)
    stats["gb_districts"] = len(districts)
    stats["gb_without_district"] = int((gb_rows["district"] < 0).sum())
    log(f"postcodes: {len(gb_rows):,} GB postcodes in {len(districts)} districts")

    descriptions_path = raw_dir / RAW_DESCRIPTIONS
    what = {**SOURCES, **(json.loads(descriptions_path.read_text("utf-8")) if descriptions_path.exists() else {})}
    manifest = {
        "codepoint_version": _read_codepoint_version(raw_dir / raw["codepoint_metadata"]),
        "sources": {
            key: {"file": rel, "what": what[key], "sha256": sha256(raw_dir / rel)} for key, rel in sorted(raw.items())
        },
        "outputs": {name: {"sha256": sha256(out[name])} for name in OUTPUTS},
        "counts": stats,
        "nearest_ward_limit_m": NEAREST_WARD_LIMIT_M,
    }
    _write_json_pretty(out["manifest.json"], manifest)  # written last, so renamed last
    return manifest


def _write_json_pretty(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, sort_keys=True, indent=2) + "\n", encoding="utf-8")


def is_built(out_dir: Path) -> bool:
    """True when every output exists and matches the checksums in manifest.json."""
    manifest_path = out_dir / "manifest.json"
    if not manifest_path.exists():
        return False
    outputs = json.loads(manifest_path.read_text(encoding="utf-8")).get("outputs", {})
    return set(outputs) == set(OUTPUTS) and all(
        (out_dir / name).exists() and sha256(out_dir / name) == meta["sha256"] for name, meta in outputs.items()
    )
