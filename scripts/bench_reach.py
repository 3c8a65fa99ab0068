"""Benchmark counting lookups (issue 11): JSON lookups per second with counting on vs off, as markdown.

Two gunicorn servers as deployed (2 sync workers, --preload, production settings, a SQLite store
with the sample teams), one with FINDER_REACH_COUNTING=1 (flushing every second, harsher than the
default minute) and one with it off, measured by wrk in alternating rounds on the same postcodes.
Reported: the median ratio of their throughputs, and what the counting server stored.
Usage: .venv/bin/python scripts/bench_reach.py [--quick] [--output FILE]. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from bench import Server, log, write_lua, wrk  # noqa: E402
from bench_editing import live_postcodes  # noqa: E402

from finder.store import Store  # noqa: E402
from finder.store.migrate import upgrade  # noqa: E402
from finder.teams.samples import load_sample_teams  # noqa: E402
from tests.store.teamdata import FORCE_NAMES  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output")
    args = parser.parse_args()
    rounds, seconds = (2, 2) if args.quick else (5, 8)
    paths = [f"/api/v1/postcodes/{pc}" for pc in live_postcodes(2000)]
    with tempfile.TemporaryDirectory(prefix="finder-bench-reach.") as tmp:
        workdir = Path(tmp)
        servers = {}
        for name, counting in (("counting", "1"), ("not-counting", "0")):
            database = workdir / f"{name}.db"
            store = Store(f"sqlite:///{database}")
            upgrade(store)
            load_sample_teams(store, FORCE_NAMES)
            store.dispose()
            env = {
                "DATABASE_URL": f"sqlite:///{database}",
                "FINDER_REACH_COUNTING": counting,
                "FINDER_REACH_FLUSH_SECONDS": "1",
            }
            servers[name] = Server(f"reach-{name}", ["--workers", "2"], workdir, env)
            servers[name].start()
        script = write_lua(workdir, "lookups", paths)
        try:
            for server in servers.values():
                wrk(server, script, 2, 8)  # warm up: teams cached, map of nothing
            ratios, on_rps, off_rps = [], [], []
            for i in range(rounds):
                on = wrk(servers["counting"], script, seconds, 8)
                off = wrk(servers["not-counting"], script, seconds, 8)
                ratios.append(on["rps"] / off["rps"])
                on_rps.append(on["rps"])
                off_rps.append(off["rps"])
                log(f"round {i + 1}: counting {on['rps']:,.0f} req/s, not counting {off['rps']:,.0f} req/s")
        finally:
            for server in servers.values():
                server.stop()
        with sqlite3.connect(workdir / "counting.db") as db:
            stored, rows = db.execute("select coalesce(sum(count), 0), count(*) from lookup_count").fetchone()
    ratio = statistics.median(ratios)
    text = (
        "## Counting lookups (issue 11)\n\n"
        "JSON postcode lookups under gunicorn (2 sync workers, --preload), wrk with 8 connections, "
        f"{rounds} alternating rounds of {seconds} s; counts flushed every second.\n\n"
        "| measure | result |\n|---|---|\n"
        f"| lookups/s with counting on vs off (median of rounds) | {ratio:.1%} "
        f"({statistics.median(on_rps):,.0f} vs {statistics.median(off_rps):,.0f} req/s) |\n"
        f"| what the counting server stored | {stored:,} lookups in {rows:,} rows (ward, day, surface) |\n"
    )
    print(text)
    if args.output:
        Path(args.output).write_text(text, "utf-8")


if __name__ == "__main__":
    main()
