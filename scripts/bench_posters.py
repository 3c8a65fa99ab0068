"""Benchmark ward posters (issue 11, section 3): the time to draw all 704 as PDF, and print a markdown section.

A SQLite store is filled as production's would be: the police.uk sync run against the local stub
(`tests.support.policeuk_stub`, 700 fictional Met neighbourhoods with officers, routes, meetings and
priorities; the rate limit lifted), plus the fictional sample teams. The City's 25 wards have no team
there, so their posters carry the force routes only. Then, in process (Flask test client, production
settings, one thread), every ward's poster is drawn as its own PDF (`/wards/<code>/poster.pdf`,
WeasyPrint) and checked to be one A4 page; then the largest borough's posters as one PDF, as a borough
admin downloads them (`/admin/boroughs/<code>/posters.pdf`). The first poster, which loads WeasyPrint
and its fonts, is timed on its own.

Usage: .venv/bin/python scripts/bench_posters.py [--quick] [--output FILE]. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from bench import SERVER_ENV, log, pct  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from finder import create_app  # noqa: E402
from finder.geo.geodata import GeoData  # noqa: E402
from finder.lookup.service import Lookup, load_forces  # noqa: E402
from finder.store import Store  # noqa: E402
from finder.store.migrate import upgrade  # noqa: E402
from finder.teams.directory import TeamDirectory  # noqa: E402
from finder.teams.policeuk_client import PoliceUK  # noqa: E402
from finder.teams.samples import load_sample_teams  # noqa: E402
from finder.teams.sync import Sync, WardMatcher  # noqa: E402
from tests.support.policeuk_stub import PoliceUKStub, fake_force  # noqa: E402

PUBLIC = SERVER_ENV["FINDER_PUBLIC_URL"]
A4 = (595, 842)


def a4_pages(pdf: bytes) -> int:
    """How many pages the PDF has; fails unless every one is A4."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    sizes = {(round(p.mediabox.width), round(p.mediabox.height)) for p in pages}
    assert sizes == {A4}, sizes
    return len(pages)


def filled_store(geodata: GeoData, path: Path, quick: bool) -> Store:
    """A store holding police.uk-shaped teams for the Met's wards (from the stub) and the sample teams."""
    forces = {fid: f.name for fid, f in load_forces().items()}
    met = [(w.code, w.name) for w in geodata.wards.wards if w.force_id == "metropolitan"]
    if quick:
        met = met[:40]
    store = Store(f"sqlite:///{path}")
    upgrade(store)
    data = fake_force("metropolitan", met, extra=0, seed=2025)
    with PoliceUKStub(data, rate=100_000, burst=100_000) as stub:
        client = PoliceUK(stub.url, rate=100_000, burst=100_000)
        Sync(store, client, WardMatcher(geodata.wards.wards), forces, workers=4, log=lambda _: None).run("metropolitan")
    load_sample_teams(store, forces)
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 wards' posters and a small borough (a smoke test)")
    parser.add_argument("--output", type=Path, help="also write the markdown section to this file")
    args = parser.parse_args()

    geodata = GeoData(ROOT / "geodata")
    wards = sorted(geodata.wards.wards, key=lambda w: w.code)
    with tempfile.TemporaryDirectory(prefix="finder-bench-posters.") as tmp:
        log("filling a SQLite store through the police.uk sync (local stub, limit lifted)")
        store = filled_store(geodata, Path(tmp) / "teams.db", args.quick)
        app = create_app(
            {"ENV_NAME": "production", "SECRET_KEY": "benchmark only", "PUBLIC_URL": PUBLIC, "GEOCODER_URL": ""},
            lookup=Lookup(geodata, load_forces(), teams=(teams := TeamDirectory(store, geodata.wards))),
        )
        logging.getLogger("finder.access").setLevel(logging.WARNING)  # a line per poster would bury the progress
        client = app.test_client()

        def poster(code: str) -> tuple[float, bytes]:
            started = time.perf_counter()
            response = client.get(f"/wards/{code}/poster.pdf", base_url=PUBLIC)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, (code, response.status_code)
            return elapsed, response.data

        chosen = wards[:40] if args.quick else wards
        log("the first poster (loads WeasyPrint and its fonts)")
        first, _ = poster(chosen[0].code)
        with_team = sum(1 for w in chosen if teams.team(w.code) is not None)
        log(f"drawing {len(chosen)} ward posters, one PDF each")
        times, sizes, pages = [], [], 0
        started = time.perf_counter()
        for ward in chosen:
            elapsed, pdf = poster(ward.code)
            times.append(elapsed * 1000)
            sizes.append(len(pdf))
            pages += a4_pages(pdf)
        total = time.perf_counter() - started
        assert pages == len(chosen), "a poster that is not exactly one page"

        per_borough = Counter(w.borough_code for w in wards)
        borough = min(per_borough, key=per_borough.get) if args.quick else max(per_borough, key=per_borough.get)
        name = next(w.borough_name for w in wards if w.borough_code == borough)
        log(f"{name}'s {per_borough[borough]} posters as one PDF, as a borough admin downloads them")
        from finder.posters.views import pdf_response, ward_posters

        in_borough = sorted((w for w in wards if w.borough_code == borough), key=lambda w: w.name)
        with app.test_request_context(base_url=PUBLIC):
            started = time.perf_counter()
            response = pdf_response(ward_posters(w.code for w in in_borough), "bench.pdf")
            borough_seconds = time.perf_counter() - started
        borough_pdf = response.get_data()
        assert a4_pages(borough_pdf) == len(in_borough)
        store.dispose()

    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    text = (
        "## Ward posters (issue 11)\n\n"
        f"Measured by `scripts/bench_posters.py`{' --quick' if args.quick else ''} on {time.strftime('%Y-%m-%d')}: "
        f"WeasyPrint {version('weasyprint')}, CPython {platform.python_version()}, "
        f"{len(os.sched_getaffinity(0))} CPUs, load average {load} at the end (other work shared the machine).\n\n"
        "In process (Flask test client, production settings, one thread). The store holds police.uk-shaped "
        f"teams synced from the local stub and the sample teams: {with_team} of the {len(chosen)} wards have a "
        "team (the City's wards have none there and get the force routes). One PDF per ward, "
        "`/wards/<code>/poster.pdf`, each checked to be exactly one A4 page.\n\n"
        "| measure | result |\n|---|---|\n"
        f"| all {len(chosen)} ward posters, one PDF each, one after another | {total:.1f} s "
        f"({len(chosen) / total:.1f} posters/s) |\n"
        f"| one poster, p50 / p95 / worst | {statistics.median(times):.0f} / {pct(times, 95):.0f} / "
        f"{max(times):.0f} ms |\n"
        f"| the first poster in a worker (loads WeasyPrint and fonts) | {first * 1000:.0f} ms |\n"
        f"| PDF size, median (all {len(chosen)}: {sum(sizes) / 1e6:.1f} MB) | "
        f"{statistics.median(sizes) / 1000:.0f} KB |\n"
        f"| {name}'s {len(in_borough)} posters as one PDF (a borough admin's download) | "
        f"{borough_seconds:.1f} s, {len(borough_pdf) / 1e6:.1f} MB |\n"
    )
    print(text)
    if args.output:
        args.output.write_text(text, "utf-8")


if __name__ == "__main__":
    main()
