"""What one request costs in CPU instructions, counted by valgrind's cachegrind: a figure noise cannot move.

Request rates on a shared 2-core machine drift by 10–20% from one minute to the next, which hides
a change worth a few per cent. Counting instructions does not: the same code and requests count the
same every run. Each path is served in process (the finder's WSGI app, production settings, the
team cache kept for the whole run) twice under cachegrind, N and N + 1,000 requests after the same
warm-up over every request measured; the difference over 1,000 is one request's cost in steady
state, with start-up cancelled out. Caches are simulated too, so each path also gets an estimate
of cycles (instructions + 10 per first-level miss + 100 per last-level miss).

Two caveats. SHA-1 runs in software under valgrind (the CPU's SHA instructions are hidden), so an
answer's ETag counts about 13 instructions a byte where the real CPU spends about 1.6 cycles.
And gunicorn's work per connection (accept, parse, close) is not here: the ratios to health are
the app's own, lower than the served ones in BENCHMARKS.md.

Usage: .venv/bin/python scripts/bench_instructions.py [--store sqlite:///FILE] [--paths health,postcode,point,ward_page]
(needs valgrind: apt-get install valgrind; about 2 minutes a path on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from bench import PYTHON, SERVER_ENV, log, machine  # noqa: E402

COUNTS = ("I   refs", "I1  misses", "D1  misses", "LL misses")

# The child: serve `count` requests of one path in process, after a warm-up over every request it serves.
CHILD = """
import sys
from werkzeug.test import EnvironBuilder
from finder.wsgi import app
count = int(sys.argv[2])
requests = [
    EnvironBuilder(url, "http://127.0.0.1/", environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()
    for url in open(sys.argv[3]).read().splitlines()
]
def serve(env):
    body = app(dict(env), lambda *args: None)
    b"".join(body)
    body.close()
for env in requests:
    serve(env)
for i in range(count):
    serve(requests[i % len(requests)])
"""


def urls(kind: str, count: int = 1000) -> list[str]:
    """The requests a path is measured with: 1,000 live postcodes or places in London, or health."""
    from bench_editing import live_postcodes
    from bench_peer import london_points

    if kind == "health":
        return ["/api/v1/health"]
    if kind == "postcode":
        return [f"/api/v1/postcodes/{pc}" for pc in live_postcodes(count)]
    if kind == "point":
        return [f"/api/v1/locate?lat={lat}&lon={lon}" for lat, lon in london_points(count)]
    if kind == "ward_page":  # every ward's page: kept after the warm-up, as a worker's are minutes in
        from finder.geo.geodata import GeoData

        return [f"/wards/{ward.code}" for ward in GeoData(ROOT / "geodata").wards.wards]
    raise SystemExit(f"unknown path {kind!r}: use health, postcode, point or ward_page")


def counted(kind: str, count: int, store: str, workdir: Path) -> list[int]:
    """Cachegrind's totals for one run: instructions, first-level instruction and data misses, last-level misses."""
    listing = workdir / f"{kind}.txt"  # written by main() first: two threads building apps at once race in Alembic
    env = {
        **os.environ,
        **SERVER_ENV,
        "DATABASE_URL": store,
        "FINDER_TEAM_CACHE_SECONDS": "1000000",  # under valgrind 30 s pass in a few hundred requests
        "PYTHONHASHSEED": "0",
    }
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=yes", "--cachegrind-out-file=/dev/null"]
    run = subprocess.run(
        [*cmd, PYTHON, "-c", CHILD, kind, str(count), str(listing)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if run.returncode != 0:
        raise RuntimeError(f"{kind} under cachegrind failed:\n{run.stderr[-3000:]}")
    totals = []
    for name in COUNTS:
        found = re.search(rf"{re.escape(name)}:\s+([\d,]+)", run.stderr)
        if found is None:
            raise RuntimeError(f"cachegrind gave no {name!r} total:\n{run.stderr[-2000:]}")
        totals.append(int(found.group(1).replace(",", "")))
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="DATABASE_URL of the team store (default: an empty SQLite store)")
    parser.add_argument("--paths", default="health,postcode,point")
    args = parser.parse_args()
    kinds = args.paths.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        store = args.store
        if store is None:
            from bench_peer import empty_store

            store = empty_store(workdir / "empty.db")
        log(f"cachegrind: {', '.join(kinds)}, 100 and 1,100 requests each, two at a time")
        for kind in kinds:
            (workdir / f"{kind}.txt").write_text("\n".join(urls(kind)))
        jobs = [(kind, count) for kind in kinds for count in (100, 1100)]
        with ThreadPoolExecutor(2) as pool:
            runs = dict(zip(jobs, pool.map(lambda job: counted(*job, store, workdir), jobs), strict=True))
    facts = machine()
    valgrind = subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip()
    print(
        f"Counted by `scripts/bench_instructions.py` on {facts['date']} at commit {facts['commit']}: {facts['cpu']}, "
        f"Python {facts['python']}, {valgrind}; team store: {args.store or 'empty'}; per request, in steady state."
    )
    print()
    print("| path | instructions | I1 misses | D1 misses | LL misses | estimated cycles | ÷ health |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    cycles = {}
    for kind in kinds:
        ir, i1, d1, ll = ((b - a) / 1000 for a, b in zip(runs[kind, 100], runs[kind, 1100], strict=True))
        cycles[kind] = ir + 10 * (i1 + d1) + 100 * ll
        share = f"{cycles['health'] / cycles[kind]:.0%}" if "health" in cycles else ""
        print(f"| {kind} | {ir:,.0f} | {i1:,.0f} | {d1:,.0f} | {ll:,.0f} | {cycles[kind]:,.0f} | {share} |")


if __name__ == "__main__":
    main()
