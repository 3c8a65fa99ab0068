"""Accuracy report over issue 26's classes, as a Markdown table: each class sampled with a fixed seed, resolved by
the finder's one lookup (`Lookup.resolve`) and checked against a reference named in the table.

Where no independent reference is held (shared/data-raw holds no ONS local-authority-to-police-force lookup), the
reference is the finder's own tables, and the table says so: such a row checks the lookup against its own build.
Usage: .venv/bin/python scripts/accuracy.py [--sample N] [--seed S]. About 5 s for the default 300 a class on a
loaded 2-core machine (most of it loading the data). Nothing is fetched; no postcode or point is logged.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas
import numpy as np
import shapely
from pyproj import Transformer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from finder.config import default_raw_data  # noqa: E402
from finder.errors import FinderError  # noqa: E402
from finder.geo import geodata as layout  # noqa: E402
from finder.geo.geodata import GeoData  # noqa: E402
from finder.lookup.service import LONDON_DISTRICTS, Lookup, PointAnswer, load_forces  # noqa: E402

OWN = "the finder's own tables only"
LONDON_FORCES = ("metropolitan", "city-of-london")


def _answer(resolve: Callable[[], object]) -> object:
    try:
        return resolve()
    except FinderError as error:
        return error


def _ward_or_po_box(answer: object, row: np.void) -> str:
    """The recorded ward; or, for a PO box, an answer that says it is one (not a home address: no ward team)."""
    if isinstance(answer, FinderError):
        return "right" if answer.code == "po_box_postcode" else "wrong"
    return "right" if answer.ward.index == row["ward"] else "wrong"  # type: ignore[attr-defined]


def _points(polygon: shapely.Geometry, rng: np.random.Generator, n: int) -> Iterator[tuple[float, float]]:
    """Uniform random points in a shape (grid metres), by rejection inside its bounds."""
    x0, y0, x1, y1 = polygon.bounds
    found = 0
    while found < n:
        xs, ys = rng.uniform(x0, x1, 4 * n), rng.uniform(y0, y1, 4 * n)
        inside = shapely.contains_xy(polygon, xs, ys)
        for x, y in zip(xs[inside], ys[inside], strict=True):
            if found == n:
                return
            found += 1
            yield float(x), float(y)


_TO_WGS84 = Transformer.from_crs(27700, 4326, always_xy=True)


def _lat_lon(easting: float, northing: float) -> tuple[float, float]:
    lon, lat = _TO_WGS84.transform(easting, northing)
    return lat, lon


def report(sample: int, seed: int) -> list[tuple[str, str, int, int, int]]:
    """One row per class: name, reference, right, undecided (an answer that says the data cannot decide),
    wrong."""
    geo = GeoData(ROOT / "geodata")
    lookup = Lookup(geo, load_forces())
    rng = np.random.default_rng(seed)
    rows = []
    pcs = geo.postcodes.rows

    def tally(name: str, reference: str, outcomes: list[str]) -> None:
        rows.append((name, reference, outcomes.count("right"), outcomes.count("undecided"), outcomes.count("wrong")))

    live = np.nonzero(pcs["status"] == layout.LIVE)[0]
    picked = rng.choice(live, min(sample, len(live)), replace=False)
    tally(
        "Random London postcodes",
        f"Code-Point Open's recorded ward for each postcode ({OWN}: the build copies it)",
        [
            _ward_or_po_box(_answer(lambda r=r: lookup.resolve(postcode=pcs[r]["postcode"].decode())), pcs[r])
            for r in picked
        ],
    )

    london = geo.london.polygon
    outcomes = []
    for e, n in _points(london, rng, sample):
        lat, lon = _lat_lon(e, n)
        a = _answer(lambda lat=lat, lon=lon: lookup.resolve(lat=lat, lon=lon))
        on_river = isinstance(a, FinderError) and a.code == "on_river" and a.details["force"]["id"] == "metropolitan"
        in_a_ward = isinstance(a, PointAnswer) and a.force.id in LONDON_FORCES
        outcomes.append("right" if on_river or in_a_ward else "wrong")
    tally(
        "Random London points",
        "the GLA boundary (London_GLA_Boundary, GLA/OS): any London ward and force; the ward itself is the "
        f"generalised ONS wards' ({OWN})",
        outcomes,
    )

    ring = shapely.difference(london.buffer(2000), london)
    outcomes = []
    for e, n in _points(ring, rng, sample):
        lat, lon = _lat_lon(e, n)
        a = _answer(lambda lat=lat, lon=lon: lookup.resolve(lat=lat, lon=lon))
        nearest = geo.nearest_gb_postcode(e, n, 5000.0, outside=LONDON_DISTRICTS)
        expected = lookup.areas.for_district(nearest[1]) if nearest else None
        if isinstance(a, PointAnswer):
            outcomes.append("undecided" if a.london_edge and not a.london_edge.inside else "wrong")
        else:
            force = a.details.get("force") or {}
            ok = force.get("id") not in LONDON_FORCES and (expected is None or force.get("id") == expected.id)
            outcomes.append("right" if ok else "wrong")
    tally(
        "Points within 2 km outside London",
        "the GLA boundary; the force from the nearest postcode outside London's district (Code-Point Open) and "
        f"the Police Act 1996 Schedule 1 table ({OWN})",
        outcomes,
    )

    # The river: inside the GLA boundary but in no borough as drawn to mean high water (GLA/OS, a file the
    # finder's build does not use), so the water of the tidal Thames and its creeks.
    banks = geopandas.read_file(default_raw_data() / "boroughs-london" / "London_Borough_Excluding_MHW.shp")
    water = shapely.difference(london, shapely.union_all(banks.geometry.values))
    outcomes = []
    for e, n in _points(water, rng, sample):
        lat, lon = _lat_lon(e, n)
        a = _answer(lambda lat=lat, lon=lon: lookup.resolve(lat=lat, lon=lon))
        nearest = banks.iloc[int(np.argmin(banks.geometry.distance(shapely.Point(e, n))))]["NAME"]
        if isinstance(a, PointAnswer):  # by the bank, within the wards' 20 m resolution: that bank's ward
            ok = a.force.id == "metropolitan" and a.ward.borough_name == nearest
        else:
            named = [bank["borough"]["name"] for bank in a.details.get("banks", [])]
            ok = a.code == "on_river" and a.details["force"]["id"] == "metropolitan" and nearest in named
            if ok and a.details["undecided"]:  # about as near two boroughs' banks: both shown, neither chosen
                outcomes.append("undecided")
                continue
        outcomes.append("right" if ok else "wrong")
    tally(
        "Points on the river",
        "the GLA boundary less London's boroughs drawn to mean high water (London_Borough_Excluding_MHW, GLA/OS): "
        "the Met, and the nearest borough among the banks named",
        outcomes,
    )

    gb = geo.gb_postcodes.rows
    outside = np.array([not d.code.startswith(LONDON_DISTRICTS) for d in geo.districts] + [False])
    located = np.nonzero((gb["district"] >= 0) & outside[gb["district"]])[0]
    outcomes = []
    for r in rng.choice(located, min(sample, len(located)), replace=False):
        a = _answer(lambda r=r: lookup.resolve(postcode=gb[r]["postcode"].decode()))
        expected = lookup.areas.for_district(geo.districts[int(gb[r]["district"])])
        force = getattr(a, "details", {}).get("force") or {}
        outcomes.append("right" if expected and force.get("id") == expected.id else "wrong")
    tally(
        "Postcodes outside London",
        f"Code-Point Open's district for each postcode, and the Police Act 1996 Schedule 1 table ({OWN})",
        outcomes,
    )

    outcodes = sorted({gb[r]["postcode"].split(b" ")[0].decode() for r in located} - set(geo.outcodes))
    outcomes = []
    for oc in rng.choice(outcodes, min(sample, len(outcodes)), replace=False):
        a = _answer(lambda oc=str(oc): lookup.resolve(postcode=oc))
        counted = [(d, n) for d, n in geo.outcode_districts(str(oc)) if d is not None]
        forces = {lookup.areas.for_district(d) for d, _ in counted}
        details = getattr(a, "details", {})
        if len(forces) > 1:
            named = {(f["force"] or {}).get("id") for f in details.get("forces") or []}
            ok = getattr(a, "code", "") == "outcode_spans_forces" and named == {f.id if f else None for f in forces}
        else:
            (force,) = forces or {None}
            ok = force is not None and (details.get("force") or {}).get("id") == force.id
        outcomes.append("right" if ok else "wrong")
    tally(
        "Outward codes outside London",
        f"every postcode's Code-Point Open district in the outward code, and the Schedule 1 table ({OWN})",
        outcomes,
    )

    withdrawn = np.nonzero(pcs["status"] != layout.LIVE)[0]
    outcomes = []
    for r in rng.choice(withdrawn, min(sample, len(withdrawn)), replace=False):
        a = _answer(lambda r=r: lookup.resolve(postcode=pcs[r]["postcode"].decode()))
        said = a.details.get("status") if isinstance(a, FinderError) else getattr(a, "status", None)
        outcomes.append("right" if said == "terminated" else "wrong")
    tally(
        "Terminated postcodes",
        f"absent from Code-Point Open 2025.4 but listed by an earlier release (data-raw's absent file; {OWN})",
        outcomes,
    )
    return rows


def markdown(rows: list[tuple[str, str, int, int, int]], sample: int, seed: int, seconds: float) -> str:
    lines = [
        f"Accuracy over issue 26's classes: {sample} a class, seed {seed}, {seconds:.1f} s.",
        "",
        "| Class | Checked against | Right | Says it cannot decide | Wrong | Right % |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, reference, right, undecided, wrong in rows:
        total = right + undecided + wrong
        lines.append(f"| {name} | {reference} | {right} | {undecided} | {wrong} | {100 * right / total:.1f} |")
    lines.append("")
    lines.append("A London PO box postcode counts as right when it is answered as a PO box (no ward team of its own).")
    lines.append(
        "A point on the river is right when it names the Met (whose Marine Policing Unit polices the river) and, among "
        "its banks, the nearest borough (mid-river, which bank is nearer differs by metres between the generalised "
        "wards and the boroughs as drawn); a point inside a ward or within 20 m of one is answered with that ward, "
        "right only when the ward is in the nearest borough."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=26)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = report(args.sample, args.seed)
    text = markdown(rows, args.sample, args.seed, time.perf_counter() - started)
    print(text)
    return text


if __name__ == "__main__":
    main()
