"""Benchmark the finder beside the app a typical developer writes (issue 12), and choose its server.

1. Side by side: the finder (gunicorn, 2 sync workers, --preload, production settings) with an empty
   team store as a fresh deploy has, the finder with 700 synced teams, and scripts/peer_app.py (Flask
   + geopandas point-in-polygon per request, `contains` and STRtree; a Folium map inline per ward
   page) under the same gunicorn. Rounds interleave every server and path; each round's ratio
   compares runs minutes apart at most. A ward view is the page and what draws its map: for the
   finder /wards/<code> then /maps/<code>.js, for the peer its one page.
2. Cold start: a fresh server until it answers a lookup, and the parts of the finder's.
3. Server choice: the finder under gunicorn sync, gunicorn gthread and granian's WSGI mode.
4. Memory: each worker's PSS after the rounds (the finder maps the GB postcode index).
Usage: .venv/bin/python scripts/bench_peer.py [--quick] [--output FILE] [--rounds N] [--seconds S].
Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from bench import PYTHON, SERVER_ENV, Server, loadavg, log, machine, write_lua, wrk  # noqa: E402
from bench_editing import live_postcodes  # noqa: E402

from finder.config import default_raw_data  # noqa: E402

CONNECTIONS = 16
PEER = "scripts.peer_app:app"

# How a fresh process reaches its first answer, part by part (run with `python -c`).
FINDER_COLD = """
import json, time
t0 = time.perf_counter()
import finder, finder.web, finder.lookup.pages, finder.lookup.api  # the code the app runs
t1 = time.perf_counter()
from finder import create_app
app = create_app()
t2 = time.perf_counter()
from finder.web import services
services(app).lookup  # geodata, the store
t3 = time.perf_counter()
response = app.test_client().get("/api/v1/postcodes/SW1A%201AA")
assert response.status_code == 200
t4 = time.perf_counter()
import sys
heavy = sorted(m for m in ("folium", "branca", "pandas", "sqlalchemy", "geopandas", "flask_babel", "requests",
                      "email_validator") if m in sys.modules)
print(json.dumps({"imports": t1 - t0, "create_app": t2 - t1, "geodata": t3 - t2, "first_request": t4 - t3,
                  "loaded": heavy}))
"""
PEER_COLD = """
import json, sys, time
t0 = time.perf_counter()
import flask, pandas, geopandas, folium, shapely
t1 = time.perf_counter()
sys.path.insert(0, "scripts")
import peer_app
t2 = time.perf_counter()
response = peer_app.app.test_client().get("/api/v1/postcodes/SW1A%201AA")
assert response.status_code == 200
t3 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "data": t2 - t1, "first_request": t3 - t2}))
"""


def london_points(count: int, seed: int = 12) -> list[tuple[float, float]]:
    """Random points inside London's wards (as "use my location" sends them), from the finder's geodata."""
    from finder.geo.geodata import GeoData

    wards = GeoData(ROOT / "geodata").wards
    rng = random.Random(seed)
    points: list[tuple[float, float]] = []
    while len(points) < count:
        lat, lon = round(rng.uniform(51.28, 51.70), 6), round(rng.uniform(-0.51, 0.34), 6)
        if wards.locate(lat, lon) is not None:
            points.append((lat, lon))
    return points


def team_store(path: Path, quick: bool) -> str:
    """A SQLite store with 700 neighbourhood teams synced from the police.uk stand-in (as bench_teams)."""
    from bench_teams import run_sync

    from finder.geo.geodata import GeoData
    from finder.store import Store
    from finder.store.migrate import upgrade
    from tests.support.policeuk_stub import PoliceUKStub, fake_force

    wards = GeoData(ROOT / "geodata").wards
    met = [(w.code, w.name) for w in wards.wards if w.force_id == "metropolitan"]
    met, extra = (met[:57], 3) if quick else (met, 700 - len(met))
    store = Store(f"sqlite:///{path}")
    upgrade(store)
    with PoliceUKStub(fake_force("metropolitan", met, extra=extra, seed=2025), rate=100_000, burst=100_000) as stub:
        run_sync(store, stub, wards.wards, rate=100_000, burst=100_000)
    store.dispose()
    return f"sqlite:///{path}"


def empty_store(path: Path) -> str:
    from finder.store import Store
    from finder.store.migrate import upgrade

    store = Store(f"sqlite:///{path}")
    upgrade(store)
    store.dispose()
    return f"sqlite:///{path}"


def cold(envs: dict[str, dict[str, str]], repeats: int, workdir: Path) -> dict[str, dict[str, Any]]:
    """Per kind (finder, peer): the median of `repeats` fresh servers, launch until a lookup is answered,
    launched alternately so a change in the machine's load falls on both; and the parts in a fresh process."""
    to_answer: dict[str, list[float]] = {kind: [] for kind in envs}
    for i in range(repeats):
        for kind, env in envs.items():
            target = PEER if kind == "peer" else "finder.wsgi:app"
            server = Server(f"cold-{kind}-{i}", ["--workers", "2"], workdir, env, target=target)
            try:
                started = time.perf_counter()
                server.start()
                status, _ = server.get("/api/v1/postcodes/SW1A%201AA")
                assert status == 200
                to_answer[kind].append(time.perf_counter() - started)
            finally:
                server.stop()
    parts: dict[str, list[dict[str, Any]]] = {kind: [] for kind in envs}
    for _ in range(repeats):
        for kind, env in envs.items():
            proc = subprocess.run(
                [PYTHON, "-c", PEER_COLD if kind == "peer" else FINDER_COLD],
                cwd=ROOT,
                env={**os.environ, **SERVER_ENV, **env},
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
            parts[kind].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    out: dict[str, dict[str, Any]] = {}
    for kind, runs in to_answer.items():
        out[kind] = {"to_answer_s": statistics.median(runs), "runs": runs}
        for key, value in parts[kind][0].items():
            out[kind][key] = statistics.median(p[key] for p in parts[kind]) if isinstance(value, float) else value
    return out


def pss(server: Server) -> float:
    """The largest worker's PSS, MB."""
    return max(w["pss"] for w in server.memory()["workers"])


def side_by_side(workdir: Path, args: argparse.Namespace, stores: dict[str, str]) -> dict[str, Any]:
    pcs = live_postcodes(4000)
    points = london_points(4000)
    from finder.geo.geodata import GeoData

    codes = [w.code for w in GeoData(ROOT / "geodata").wards.wards]
    random.Random(5).shuffle(codes)
    paths: dict[str, dict[str, list[str]]] = {
        "finder": {
            "health": ["/api/v1/health"],
            "postcode": [f"/api/v1/postcodes/{pc}" for pc in pcs],
            "point": [f"/api/v1/locate?lat={lat}&lon={lon}" for lat, lon in points],
            "ward_page": [f"/wards/{c}" for c in codes],
            "ward_view": [p for c in codes for p in (f"/wards/{c}", f"/maps/{c}.js")],
            "search": [f"/search?postcode={pc}" for pc in pcs],
        },
        "peer": {
            "health": ["/api/v1/health"],
            "postcode": [f"/api/v1/postcodes/{pc}" for pc in pcs],
            "postcode_indexed": [f"/api/v1/indexed/postcodes/{pc}" for pc in pcs],
            "point": [f"/api/v1/locate?lat={lat}&lon={lon}" for lat, lon in points],
            "point_indexed": [f"/api/v1/indexed/locate?lat={lat}&lon={lon}" for lat, lon in points],
            "ward_view": [f"/wards/{c}" for c in codes],
        },
    }
    scripts = {app: {ep: write_lua(workdir, f"{app}-{ep}", p) for ep, p in eps.items()} for app, eps in paths.items()}
    servers = {
        "finder": Server("finder-empty", ["--workers", "2"], workdir, {"DATABASE_URL": stores["empty"]}),
        "finder_teams": Server("finder-teams", ["--workers", "2"], workdir, {"DATABASE_URL": stores["teams"]}),
        "peer": Server("peer", ["--workers", "2"], workdir, {"FINDER_RAW_DATA": str(default_raw_data())}, target=PEER),
        # A what-if, not the app as configured: 700 teams that stay cached for an hour, to show what the
        # team cache's refreshes (each ward's team read again every 30 s by each worker) cost.
        "finder_teams_1h": Server(
            "finder-teams-1h",
            ["--workers", "2"],
            workdir,
            {"DATABASE_URL": stores["teams"], "FINDER_TEAM_CACHE_SECONDS": "3600"},
        ),
        # A what-if too: the postcode route answering one fixed 700-team answer through everything else a
        # lookup goes through (scripts/floor_app.py), the most a JSON lookup could reach on this server.
        **{
            f"finder_floor_{store}": Server(
                f"finder-floor-{store}",
                ["--workers", "2"],
                workdir,
                {"DATABASE_URL": stores[store], "PYTHONPATH": str(ROOT / "scripts")},
                target="floor_app:app",
            )
            for store in ("empty", "teams")
        },
    }
    floor = ("health", "postcode")
    whatif = {"finder_teams_1h": ("health", "postcode", "point", "ward_page")}
    whatif |= {"finder_floor_empty": floor, "finder_floor_teams": floor}
    results: dict[str, dict[str, list[dict[str, Any]]]] = {name: {} for name in servers}
    try:
        for name, server in servers.items():
            server.start()
            app = "peer" if name == "peer" else "finder"
            log(f"{name}: warming up")
            for ep, script in scripts[app].items():
                # pages long enough for each worker to have drawn every ward's page (as it has minutes in)
                warm = (2 if args.quick else 10) if ep.startswith("ward") else (1 if args.quick else 3)
                if ep in whatif.get(name, (ep,)):
                    wrk(server, script, warm, CONNECTIONS)
        for r in range(args.rounds):
            order = list(servers)[r % len(servers) :] + list(servers)[: r % len(servers)]
            for name in order:
                app = "peer" if name == "peer" else "finder"
                for ep, script in scripts[app].items():
                    if ep not in whatif.get(name, (ep,)):
                        continue
                    res = wrk(servers[name], script, args.seconds, CONNECTIONS)
                    res["loadavg"] = loadavg()
                    if res["errors"] - res["status"]:  # a 404 (a point on a ward's edge) is an answer
                        raise RuntimeError(f"{name} {ep}: wrk saw {res['errors']} errors")
                    results[name].setdefault(ep, []).append(res)
                    log(f"  round {r + 1} {name:>12} {ep:>16}: {res['rps']:7.0f} req/s (load {res['loadavg']})")
        memory = {name: pss(server) for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
    return {"runs": results, "pss": memory}


def server_choice(workdir: Path, args: argparse.Namespace, stores: dict[str, str]) -> dict[str, Any]:
    """The finder under three servers, interleaved: health, JSON lookup and ward page."""
    pcs = live_postcodes(4000)
    from finder.geo.geodata import GeoData

    codes = [w.code for w in GeoData(ROOT / "geodata").wards.wards]
    scripts = {
        "health": write_lua(workdir, "srv-health", ["/api/v1/health"]),
        "postcode": write_lua(workdir, "srv-postcode", [f"/api/v1/postcodes/{pc}" for pc in pcs]),
        "ward_page": write_lua(workdir, "srv-ward", [f"/wards/{c}" for c in codes]),
    }
    env = {"DATABASE_URL": stores["empty"]}
    servers = {
        "gunicorn sync": Server("srv-sync", ["--workers", "2"], workdir, env),
        "gunicorn gthread": Server(
            "srv-gthread", ["--workers", "2", "--worker-class", "gthread", "--threads", "4"], workdir, env
        ),
        "granian WSGI": Server(
            "srv-granian", ["--workers", "2", "--blocking-threads", "1"], workdir, env, granian=True
        ),
    }
    results: dict[str, dict[str, list[dict[str, Any]]]] = {name: {} for name in servers}
    startup: dict[str, float] = {}
    try:
        for name, server in servers.items():
            startup[name] = server.start()
            for ep, script in scripts.items():
                wrk(
                    server,
                    script,
                    (2 if args.quick else 10) if ep == "ward_page" else 1 if args.quick else 3,
                    CONNECTIONS,
                )
        for r in range(max(1, min(args.rounds, 3))):
            order = list(servers)[r % 3 :] + list(servers)[: r % 3]
            for name in order:
                for ep, script in scripts.items():
                    res = wrk(servers[name], script, args.seconds, CONNECTIONS)
                    results[name].setdefault(ep, []).append(res)
                    log(f"  round {r + 1} {name:>16} {ep:>10}: {res['rps']:7.0f} req/s, errors {res['errors']}")
        memory = {name: pss(server) for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
    return {"runs": results, "pss": memory, "startup": startup}


def med(runs: list[dict[str, Any]], key: str = "rps") -> float:
    return statistics.median(r[key] for r in runs)


def render(out: dict[str, Any], args: argparse.Namespace) -> str:
    m = out["machine"]
    runs = out["side"]["runs"]
    f, ft, p = runs["finder"], runs["finder_teams"], runs["peer"]
    lines = [
        "## Beside the app anyone would write (issue 12)",
        "",
        f"Measured by `scripts/bench_peer.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} at commit "
        f"{m['commit']}: {m['cpu']}, {m['usable_cpus']} cores, Python {m['python']}; load average "
        f"{out['load_start']} at start, {out['load_end']} at end (other work shared the machine). gunicorn, 2 sync "
        f"workers, --preload, production settings; wrk -t1 -c{CONNECTIONS}, {args.rounds} rounds of "
        f"{args.seconds:g} s per server and path, servers and paths interleaved. The peer is `scripts/peer_app.py` "
        "(Flask + pandas + geopandas point-in-polygon per request, `contains` or the STRtree; a Folium map inline "
        "per ward page) over the same raw data. A finder ward view is `/wards/<code>` then `/maps/<code>.js`; "
        "the peer's is its one page. Every figure below is a ratio of runs in the same round, or a median of them.",
        "",
        "| path | finder (empty store) | finder (700 teams) | peer `contains` | peer STRtree | finder ÷ best peer, "
        "per round | median |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]

    def row(label: str, fe: str, pe: list[str], per: float = 1.0) -> None:
        fr = [x["rps"] / per for x in f[fe]]
        best = [max(p[e][i]["rps"] for e in pe) for i in range(len(fr))]
        ratios = [a / b for a, b in zip(fr, best, strict=True)]
        cells = [f"{med(f[fe]) / per:,.0f}", f"{med(ft[fe]) / per:,.0f}"]
        cells += [f"{med(p[e]):,.0f}" for e in pe] + ["–"] * (2 - len(pe))
        lines.append(
            f"| {label} | {' | '.join(cells)} | {', '.join(f'{x:.1f}×' for x in ratios)} | "
            f"**{statistics.median(ratios):.1f}×** |"
        )

    row("JSON postcode lookup, req/s", "postcode", ["postcode", "postcode_indexed"])
    row("JSON point lookup, req/s", "point", ["point", "point_indexed"])
    row("ward view (page + map), views/s", "ward_view", ["ward_view"], per=2.0)
    lines += [
        "",
        "Against the same server's trivial endpoint (`/api/v1/health`), ratio per round and median (target: JSON "
        "≥ 85%, pages ≥ 80%):",
        "",
        "| path | empty store, per round | median | 700 teams, per round | median |",
        "|---|---|---:|---|---:|",
    ]
    for label, ep in (
        ("JSON postcode lookup", "postcode"),
        ("JSON point lookup", "point"),
        ("ward page `/wards/<code>`", "ward_page"),
        ("postcode result `/search?postcode=` (never kept: it carries the postcode)", "search"),
    ):
        cells = []
        for runs_ in (f, ft):
            ratios = [a["rps"] / b["rps"] for a, b in zip(runs_[ep], runs_["health"], strict=True)]
            cells += [", ".join(f"{x:.0%}" for x in ratios), f"**{statistics.median(ratios):.0%}**"]
        lines.append(f"| {label} | {' | '.join(cells)} |")
    w = runs["finder_teams_1h"]
    cells = []
    for ep in ("postcode", "point", "ward_page"):
        ratios = [a["rps"] / b["rps"] for a, b in zip(w[ep], w["health"], strict=True)]
        cells.append(f"{ep} {statistics.median(ratios):.0%}")
    lines.append(
        "\nWhat-if, not the app as configured: with the 700 teams kept an hour instead of 30 s, each ÷ health: "
        + ", ".join(cells)
        + ". The difference from the 700-team column is what the team cache's 30 s refreshes cost."
    )
    floors = []
    for store, what in (("empty", "empty store, 6 KB"), ("teams", "700 teams, 10 KB")):
        fl = runs[f"finder_floor_{store}"]
        ratios = [a["rps"] / b["rps"] for a, b in zip(fl["postcode"], fl["health"], strict=True)]
        floors.append(f"{what}: {', '.join(f'{x:.0%}' for x in ratios)}, median **{statistics.median(ratios):.0%}**")
    lines.append(
        "\nThe floor, a what-if too (`scripts/floor_app.py`): the postcode route answering one fixed answer through "
        "everything else a lookup goes through (route, rate limit, lookup count, headers, ETag), ÷ its own health; "
        + "; ".join(floors)
        + ". No JSON lookup can be faster than this on the same server: the rest of its gap to health is finding "
        "the postcode, its ward and its team, and building the answer."
    )
    lines.append(
        f"\nHealth itself: finder {med(f['health']):,.0f} req/s (with 700 teams {med(ft['health']):,.0f}), "
        f"peer {med(p['health']):,.0f}."
    )
    c = out["cold"]
    fc, pc = c["finder"], c["peer"]
    lines += [
        "",
        "### Cold start and memory",
        "",
        "| | finder | peer |",
        "|---|---:|---:|",
        f"| gunicorn launch → first lookup answered (median of {len(fc['runs'])}) | {fc['to_answer_s']:.2f} s | "
        f"{pc['to_answer_s']:.2f} s |",
        f"| … each launch, in the order run (finder and peer alternately) | "
        f"{', '.join(f'{x:.2f}' for x in fc['runs'])} | {', '.join(f'{x:.2f}' for x in pc['runs'])} |",
        f"| fresh process: imports | {fc['imports']:.2f} s | {pc['imports']:.2f} s |",
        f"| … building the app / loading the data | {fc['create_app'] + fc['geodata']:.2f} s (create_app "
        f"{fc['create_app']:.2f}, geodata and store {fc['geodata']:.2f}) | {pc['data']:.2f} s |",
        f"| … first request | {fc['first_request'] * 1000:.0f} ms | {pc['first_request'] * 1000:.0f} ms |",
        f"| worker PSS after the rounds, largest | {out['side']['pss']['finder']:.0f} MB (700 teams: "
        f"{out['side']['pss']['finder_teams']:.0f} MB) | {out['side']['pss']['peer']:.0f} MB |",
        "",
        f"The finder answered first in {sum(a < b for a, b in zip(fc['runs'], pc['runs'], strict=True))} of "
        f"{len(fc['runs'])} launch pairs. Heavy packages a fresh finder process has loaded by its first answer: "
        f"{', '.join(fc['loaded']) or 'none'}.",
    ]
    s = out["servers"]
    lines += [
        "",
        "### Which server",
        "",
        "The finder (empty store) under each, interleaved, same load; medians of rounds.",
        "",
        "| server | health req/s | JSON lookup req/s | lookup ÷ health | ward page req/s | page ÷ health | "
        "launch → answering | worker PSS |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in s["runs"].items():
        h, lk, wp = med(r["health"]), med(r["postcode"]), med(r["ward_page"])
        lines.append(
            f"| {name} | {h:,.0f} | {lk:,.0f} | {lk / h:.0%} | {wp:,.0f} | {wp / h:.0%} | "
            f"{s['startup'][name]:.2f} s | {s['pss'][name]:.0f} MB |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, 60 teams (a smoke test)")
    parser.add_argument("--output", type=Path, help="write the markdown section to this file")
    parser.add_argument("--rounds", type=int, help="rounds (default 5; 1 with --quick)")
    parser.add_argument("--seconds", type=float, help="seconds per run (default 5; 1 with --quick)")
    args = parser.parse_args()
    args.rounds = args.rounds or (1 if args.quick else 5)
    args.seconds = args.seconds or (1 if args.quick else 5)
    for name, value in SERVER_ENV.items():
        os.environ[name] = value
    out: dict[str, Any] = {"machine": machine(), "load_start": loadavg()}
    with tempfile.TemporaryDirectory(prefix="finder-bench-peer.") as tmp:
        workdir = Path(tmp)
        log("stores: an empty one, and one with 700 teams synced from the police.uk stand-in")
        stores = {"empty": empty_store(workdir / "empty.db"), "teams": team_store(workdir / "teams.db", args.quick)}
        repeats = 2 if args.quick else 11
        log(f"cold start: finder and peer, {repeats} launches each, alternately")
        envs = {"finder": {"DATABASE_URL": stores["empty"]}, "peer": {"FINDER_RAW_DATA": str(default_raw_data())}}
        out["cold"] = cold(envs, repeats, workdir)
        log(f"  finder {out['cold']['finder']}\n  peer {out['cold']['peer']}")
        log("side by side: finder (empty store), finder (700 teams), peer")
        out["side"] = side_by_side(workdir, args, stores)
        log("server choice: gunicorn sync, gthread, granian")
        out["servers"] = server_choice(workdir, args, stores)
    out["load_end"] = loadavg()
    report = render(out, args)
    if args.output:
        args.output.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
