"""Benchmark the neighbourhood-team features and print a markdown section for BENCHMARKS.md.

1. A full `sync-policeuk` of 700 neighbourhoods (every Met ward, some with an "N" suffix, plus 21
   that match no ward) against tests.support.policeuk_stub on 127.0.0.1, which enforces the real
   API's limit (leaky bucket, 15 a second, bursts of 30) and answers 429 when it is exceeded. The
   sync runs with its defaults (14 a second, bursts of 20, 4 workers) into a SQLite file. Reported:
   time, requests, mean and busiest-second request rates, 429s, and what was stored.
2. The same data synced into PostgreSQL with the rate limit lifted (the pipeline's own speed).
3. Ward pages with team data, rendered in process (Flask test client, one thread) with no store,
   with SQLite and with PostgreSQL; then through gunicorn under wrk on 127.0.0.1 when wrk exists.

Usage: .venv/bin/python scripts/bench_teams.py [--quick] [--output FILE]
Only 127.0.0.1 is contacted. PostgreSQL comes from FINDER_TEST_POSTGRES_URL, or a throwaway server
started with scripts/pg-test-server and stopped at exit.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import Server, write_lua, wrk  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from finder import create_app  # noqa: E402
from finder.geo.geodata import GeoData  # noqa: E402
from finder.lookup.service import Lookup, load_forces  # noqa: E402
from finder.store import Store  # noqa: E402
from finder.store.migrate import upgrade  # noqa: E402
from finder.store.models import ContactRoute, Meeting, Officer, Place, Priority, Team  # noqa: E402
from finder.teams.directory import TeamDirectory  # noqa: E402
from finder.teams.policeuk_client import PoliceUK  # noqa: E402
from finder.teams.sync import Sync, WardMatcher  # noqa: E402
from tests.support.policeuk_stub import PoliceUKStub, fake_force  # noqa: E402
from tests.support.stores import create_postgres_database, drop_postgres_database  # noqa: E402

FORCE_NAMES = {force_id: force.name for force_id, force in load_forces().items()}


def log(message: str) -> None:
    print(f"[bench-teams {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))]


def counts(store: Store) -> dict[str, int]:
    with store.reader() as session:
        return {
            m.__tablename__: session.scalar(select(func.count()).select_from(m))
            for m in (Team, Officer, ContactRoute, Meeting, Priority, Place)
        }


def run_sync(store: Store, stub: PoliceUKStub, wards, *, rate: float, burst: int) -> dict[str, Any]:
    client = PoliceUK(stub.url, rate=rate, burst=burst)
    sync = Sync(store, client, WardMatcher(wards), FORCE_NAMES, workers=4, log=log)
    before = len(stub.log)
    started = time.monotonic()
    report = sync.run("metropolitan")
    elapsed = time.monotonic() - started
    times = [r.at for r in stub.log[before:]]
    busiest, left = 0, 0
    for right, t in enumerate(times):
        while t - times[left] >= 1.0:
            left += 1
        busiest = max(busiest, right - left + 1)
    refused = sum(1 for r in stub.log[before:] if r.status == 429)
    return {
        "report": report,
        "elapsed": elapsed,
        "requests": len(times),
        "mean_rate": (len(times) - 1) / (times[-1] - times[0]),
        "steady_rate": (len(times) - 1 - burst) / (times[-1] - times[burst]) if len(times) > burst + 1 else 0.0,
        "busiest": busiest,
        "refused": refused,
    }


def page_times(app, paths: list[str]) -> list[float]:
    client = app.test_client()
    for path in paths[:20]:  # warm: templates compiled, caches filled
        client.get(path)
    out = []
    for path in paths:
        started = time.perf_counter()
        response = client.get(path)
        out.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return out


def app_for(geodata: GeoData, store: Store | None):
    teams = TeamDirectory(store, geodata.wards) if store else None
    return create_app(
        {
            "ENV_NAME": "production",
            "SECRET_KEY": "benchmark only",
            "PUBLIC_URL": "http://127.0.0.1",
            "RATE_LIMIT": "off",
            "TILES_URL": "",
            "GEOCODER_URL": "",
        },
        lookup=Lookup(geodata, load_forces(), teams=teams),
    )


def gunicorn_wrk(url: str, paths: list[str], seconds: int, workdir: Path) -> dict[str, Any]:
    """Ward pages through gunicorn (2 sync workers, --preload) under wrk, 8 connections."""
    server = Server("teams", ["--workers", "2"], workdir, {"DATABASE_URL": url, "FINDER_RATE_LIMIT": "off"})
    try:
        server.start()
        script = write_lua(workdir, "wards", paths)
        wrk(server, script, 2, 4)  # warm up
        return wrk(server, script, seconds, 8)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 neighbourhoods and short page runs (a smoke test)")
    parser.add_argument("--output", type=Path, help="also write the markdown section to this file")
    args = parser.parse_args()

    geodata = GeoData(ROOT / "geodata")
    met = [(w.code, w.name) for w in geodata.wards.wards if w.force_id == "metropolitan"]
    extra = 700 - len(met)
    if args.quick:
        met, extra = met[:57], 3
    data = fake_force("metropolitan", met, extra=extra, seed=2025)
    total = len(data.neighbourhoods["metropolitan"])
    workdir = Path(tempfile.mkdtemp(prefix="finder-bench-teams."))
    pg_url = None
    try:
        sqlite = Store(f"sqlite:///{workdir / 'teams.db'}")
        upgrade(sqlite)
        with PoliceUKStub(data) as stub:  # the API's own limit: 15 a second, bursts of 30
            log(f"syncing {total} neighbourhoods at the default rate limit (about {4 * total // 14} s)")
            polite = run_sync(sqlite, stub, geodata.wards.wards, rate=14, burst=20)
        sqlite_rows = counts(sqlite)

        log("creating a PostgreSQL database and syncing the same data with the limit lifted")
        pg_url = create_postgres_database()
        postgres = Store(pg_url)
        upgrade(postgres)
        with PoliceUKStub(data, rate=100_000, burst=100_000) as stub:
            fast = run_sync(postgres, stub, geodata.wards.wards, rate=100_000, burst=100_000)
        with postgres.engine.connect() as connection:
            pg_version = connection.exec_driver_sql("SHOW server_version").scalar()

        wards = sorted({c for c, _ in met})
        random.Random(7).shuffle(wards)
        n_pages = 60 if args.quick else 400
        paths = [f"/wards/{code}" for code in (wards * 4)[:n_pages]]
        rendered: dict[str, list[float]] = {}
        for label, store in (("no store (force routes only)", None), ("SQLite", sqlite), ("PostgreSQL", postgres)):
            log(f"rendering {len(paths)} ward pages in process: {label}")
            rendered[label] = page_times(app_for(geodata, store), paths)

        served: dict[str, dict[str, Any]] = {}
        if shutil.which("wrk"):
            seconds = 3 if args.quick else 10
            for label, url in (("SQLite", sqlite.url), ("PostgreSQL", pg_url)):
                log(f"gunicorn + wrk, {seconds} s: {label}")
                served[label] = gunicorn_wrk(url, paths[:200], seconds, workdir)
        postgres.dispose()
        sqlite.dispose()
    finally:
        if pg_url:
            drop_postgres_database(pg_url)
        shutil.rmtree(workdir, ignore_errors=True)

    report = polite["report"]
    lines = [
        "## Neighbourhood teams: police.uk sync and ward pages with team data",
        "",
        f"Measured by `scripts/bench_teams.py`{' --quick' if args.quick else ''} on "
        f"{time.strftime('%Y-%m-%d')}: {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])} at the end "
        "(other work shared the machine). Only 127.0.0.1 was contacted.",
        "",
        "### Full sync from a local stand-in for data.police.uk",
        "",
        "`tests.support.policeuk_stub` serves the real API's shapes (string coordinates, HTML bios, nulls, "
        "hyphenated priority keys, N-suffixed ids) for every Met ward plus neighbourhoods that match no ward, "
        "and enforces the API's limit (leaky bucket, 15 requests a second, bursts of 30) with 429s.",
        "",
        "| run | neighbourhoods | requests | time | mean req/s | after the first burst | busiest 1 s | 429s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        f"| SQLite, default limit (14/s, burst 20, 4 workers) | {report.listed} | {polite['requests']} "
        f"| {polite['elapsed']:.1f} s | {polite['mean_rate']:.2f} | {polite['steady_rate']:.2f} "
        f"| {polite['busiest']} | {polite['refused']} |",
        f"| PostgreSQL {pg_version}, limit lifted (pipeline speed) | {fast['report'].listed} | {fast['requests']} "
        f"| {fast['elapsed']:.1f} s | {fast['mean_rate']:.1f} | – | {fast['busiest']} | {fast['refused']} |",
        "",
        f"Matched to wards: {sum(report.matched.values())} "
        f"({', '.join(f'{n} by {k}' for k, n in report.matched.items())}); "
        f"unmatched and reported: {len(report.unmatched)}. Stored: "
        + ", ".join(f"{n} {table}" for table, n in sqlite_rows.items())
        + ". A second run over the same data changes nothing (tests/services/test_sync.py).",
        "",
        "### Ward pages with team data",
        "",
        f"In process (Flask test client, one thread, {len(paths)} pages of wards with synced teams, "
        "HTML only; the map script is a separate, cached request). The team cache is off here, so every page "
        "reads its team from the store: the cost a cache miss pays:",
        "",
        "| store | pages/s | p50 ms | p95 ms |",
        "|---|---:|---:|---:|",
    ]
    for label, times in rendered.items():
        lines.append(f"| {label} | {1000 / statistics.mean(times):.0f} | {pct(times, 50):.1f} | {pct(times, 95):.1f} |")
    if served:
        lines += [
            "",
            "Through gunicorn (2 sync workers, --preload) under wrk (1 thread, 8 connections, rotating over 200 ward "
            "pages), as served: the production config keeps each ward's team for FINDER_TEAM_CACHE_SECONDS (30 s), "
            "so most pages come from each worker's cache:",
            "",
            "| store | requests/s | p50 ms | p99 ms | errors |",
            "|---|---:|---:|---:|---:|",
        ]
        for label, r in served.items():
            lines.append(
                f"| {label} | {r['rps']:.0f} | {r['p50_us'] / 1000:.1f} | {r['p99_us'] / 1000:.1f} | {r['errors']} |"
            )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        args.output.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
