"""Benchmark the finder beside the app a capable developer writes in an afternoon (issue 27).

Both serve the default store (`finder init-db`: police.uk's March 2023 snapshot of the Met's ward teams)
under gunicorn, 2 sync workers, --preload, production settings. The peer is scripts/peer_app.py. Rounds
of wrk -t1 -c16 interleave the two servers and every path, the order turning each round, so each ratio
compares runs seconds apart; the figures are medians of the rounds.

- postcode API `/api/v1/postcodes/<pc>`, locate API `/api/v1/locate?lat&lon`;
- ward view: for the finder its page and the map script the page names (two requests, so views/s is
  half its requests/s), for the peer its one page with the Folium map inline; and a returning visitor's
  view, the finder's page alone (its map script is named by its content hash and kept for a year);
- memory: each worker's PSS after the rounds; start: gunicorn launch until a postcode is answered,
  launches alternated between the two.
With --servers, the finder also under gunicorn sync, gthread and granian (health, postcode, ward page).

Usage: .venv/bin/python scripts/bench_peer.py [--quick] [--servers] [--output FILE] [--rounds N] [--seconds S]
Only 127.0.0.1 is contacted; every run is bounded (wrk -d, 5 s timeout).
"""

from __future__ import annotations

import argparse
import os
import random
import re
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
PATHS = ("postcode", "point", "ward_view", "ward_page")
LABELS = {
    "postcode": "postcode API `/api/v1/postcodes/<pc>`",
    "point": "locate API `/api/v1/locate?lat&lon`",
    "ward_view": "ward view (finder: page + map script; peer: page, map inline)",
    "ward_page": "returning visitor's ward view (finder: the page alone, its map script kept by the browser)",
}
PEER_PATH = {"ward_page": "ward_view"}  # the peer's view is its page either way


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


def empty_store(path: Path) -> str:
    """A store with the schema and no teams (scripts/bench_instructions.py's what-if)."""
    from finder.store import Store
    from finder.store.migrate import upgrade

    store = Store(f"sqlite:///{path}")
    upgrade(store)
    store.dispose()
    return f"sqlite:///{path}"


def default_store(path: Path) -> str:
    """The store a default install has: `finder init-db`, which seeds police.uk's March 2023 snapshot."""
    url = f"sqlite:///{path}"
    env = {**os.environ, **SERVER_ENV, "DATABASE_URL": url, "FINDER_RAW_DATA": str(default_raw_data())}
    subprocess.run([PYTHON, "-m", "flask", "--app", "finder", "init-db"], cwd=ROOT, env=env, check=True, timeout=300)
    return url


def first_answer(envs: dict[str, dict[str, str]], repeats: int, workdir: Path) -> dict[str, list[float]]:
    """Seconds from gunicorn's launch until a postcode is answered, launches alternated between the apps."""
    runs: dict[str, list[float]] = {kind: [] for kind in envs}
    for i in range(repeats):
        for kind, env in envs.items():
            server = Server(f"start-{kind}-{i}", ["--workers", "2"], workdir, env, target=target(kind))
            try:
                started = time.perf_counter()
                server.start()
                status, _ = server.get("/api/v1/postcodes/SW1A%201AA")
                assert status == 200
                runs[kind].append(time.perf_counter() - started)
            finally:
                server.stop()
    return runs


def target(kind: str) -> str:
    return PEER if kind == "peer" else "finder.wsgi:app"


def map_scripts(server: Server, codes: list[str]) -> list[str]:
    """Each ward page and the map script it names (content-hashed), as a browser follows them."""
    paths = []
    for code in codes:
        _, page = server.get(f"/wards/{code}")
        found = re.search(rb'src="(/maps/[^"]+\.js[^"]*)"', page)
        assert found, f"no map script on /wards/{code}"
        paths += [f"/wards/{code}", found.group(1).decode().replace("&amp;", "&")]
    return paths


def warm_up(server: Server, script: Path, until_steady: bool) -> None:
    """Both apps keep each ward's page per worker once drawn: pages are warmed until two 5 s runs in a row
    agree within 10% (each worker has drawn nearly every ward), for at most a minute."""
    if not until_steady:
        wrk(server, script, 2, CONNECTIONS)
        return
    last = 0.0
    for _ in range(12):
        rps = wrk(server, script, 5, CONNECTIONS)["rps"]
        if abs(rps - last) < 0.1 * rps:
            break
        last = rps
    log(f"  warm at {rps:,.0f} req/s")


def side_by_side(workdir: Path, args: argparse.Namespace, envs: dict[str, dict[str, str]]) -> dict[str, Any]:
    pcs = live_postcodes(4000)
    points = london_points(4000)
    from finder.geo.geodata import GeoData

    codes = [w.code for w in GeoData(ROOT / "geodata").wards.wards]
    random.Random(5).shuffle(codes)
    servers = {kind: Server(kind, ["--workers", "2"], workdir, env, target=target(kind)) for kind, env in envs.items()}
    results: dict[str, dict[str, list[dict[str, Any]]]] = {kind: {} for kind in servers}
    try:
        for server in servers.values():
            server.start()
        common = {
            "health": ["/api/v1/health"],
            "postcode": [f"/api/v1/postcodes/{pc}" for pc in pcs],
            "point": [f"/api/v1/locate?lat={lat}&lon={lon}" for lat, lon in points],
        }
        paths = {
            "finder": {
                **common,
                "ward_view": map_scripts(servers["finder"], codes),
                "ward_page": [f"/wards/{c}" for c in codes],
            },
            "peer": {**common, "ward_view": [f"/wards/{c}" for c in codes]},
        }
        scripts = {k: {ep: write_lua(workdir, f"{k}-{ep}", p) for ep, p in eps.items()} for k, eps in paths.items()}
        for kind, server in servers.items():
            log(f"{kind}: warming up")
            for ep, script in scripts[kind].items():
                warm_up(server, script, ep == "ward_view" and not args.quick)
        for r in range(args.rounds):
            order = list(servers) if r % 2 == 0 else list(reversed(servers))
            eps = list(scripts["finder"])
            eps = eps[r % len(eps) :] + eps[: r % len(eps)]
            for ep in eps:
                for kind in order:
                    if ep not in scripts[kind]:
                        continue
                    res = wrk(servers[kind], scripts[kind][ep], args.seconds, CONNECTIONS)
                    res["loadavg"] = loadavg()
                    if res["errors"] - res["status"]:  # a 404 (a point on a ward's edge) is an answer
                        raise RuntimeError(f"{kind} {ep}: wrk saw {res['errors']} errors")
                    results[kind].setdefault(ep, []).append(res)
                    log(
                        f"  round {r + 1} {kind:>6} {ep:>9}: {res['rps']:7.0f} req/s, p99 {res['p99_us'] / 1000:.1f} ms"
                        f" (load {res['loadavg']})"
                    )
        memory = {kind: [w["pss"] for w in server.memory()["workers"]] for kind, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
    return {"runs": results, "pss": memory}


def server_choice(workdir: Path, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    """The finder under three servers, interleaved: health, JSON lookup and ward page."""
    pcs = live_postcodes(4000)
    from finder.geo.geodata import GeoData

    codes = [w.code for w in GeoData(ROOT / "geodata").wards.wards]
    scripts = {
        "health": write_lua(workdir, "srv-health", ["/api/v1/health"]),
        "postcode": write_lua(workdir, "srv-postcode", [f"/api/v1/postcodes/{pc}" for pc in pcs]),
        "ward_page": write_lua(workdir, "srv-ward", [f"/wards/{c}" for c in codes]),
    }
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
                wrk(server, script, (2 if args.quick else 10) if ep == "ward_page" else 2, CONNECTIONS)
        for r in range(max(1, min(args.rounds, 3))):
            order = list(servers)[r % 3 :] + list(servers)[: r % 3]
            for name in order:
                for ep, script in scripts.items():
                    res = wrk(servers[name], script, args.seconds, CONNECTIONS)
                    results[name].setdefault(ep, []).append(res)
                    log(f"  round {r + 1} {name:>16} {ep:>10}: {res['rps']:7.0f} req/s, errors {res['errors']}")
        memory = {name: max(w["pss"] for w in server.memory()["workers"]) for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
    return {"runs": results, "pss": memory, "startup": startup}


def med(runs: list[dict[str, Any]], key: str = "rps") -> float:
    return statistics.median(r[key] for r in runs)


def render(out: dict[str, Any], args: argparse.Namespace) -> str:
    m = out["machine"]
    f, p = out["side"]["runs"]["finder"], out["side"]["runs"]["peer"]
    lines = [
        "## Issue 27: beside the capable peer",
        "",
        f"Measured by `scripts/bench_peer.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} at commit "
        f"{m['commit']}: {m['cpu']}, {m['usable_cpus']} cores shared with other engineers' test runs, "
        f"Python {m['python']}; load average {out['load_start']} at start, {out['load_end']} at end. Both apps "
        "under gunicorn, 2 sync workers, --preload, production settings, on the default store (`finder init-db`: "
        f"the March 2023 police.uk snapshot of 679 Met ward teams); wrk -t1 -c{CONNECTIONS} at 127.0.0.1, "
        f"{args.rounds} rounds of {args.seconds:g} s per app and path, apps and paths interleaved. The peer is "
        "`scripts/peer_app.py`. Medians of the rounds; a ratio is finder ÷ peer within one round.",
        "",
        "| path | finder | peer | finder ÷ peer, per round | median | p99 finder | p99 peer |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    for ep in PATHS:
        per = 2.0 if ep == "ward_view" else 1.0  # the finder's view is two requests
        pe = p[PEER_PATH.get(ep, ep)]
        ratios = [a["rps"] / per / b["rps"] for a, b in zip(f[ep], pe, strict=True)]
        unit = "views/s" if ep.startswith("ward") else "req/s"
        lines.append(
            f"| {LABELS[ep]} | {med(f[ep]) / per:,.0f} {unit} | {med(pe):,.0f} {unit} | "
            f"{', '.join(f'{x:.2f}×' for x in ratios)} | **{statistics.median(ratios):.2f}×** | "
            f"{med(f[ep], 'p99_us') / 1000:.1f} ms | {med(pe, 'p99_us') / 1000:.1f} ms |"
        )
    fh, ph = f["health"], p["health"]
    ratios = [a["rps"] / b["rps"] for a, b in zip(fh, ph, strict=True)]
    lines.append(
        f"| health `/api/v1/health` (for reference) | {med(fh):,.0f} req/s | {med(ph):,.0f} req/s | "
        f"{', '.join(f'{x:.2f}×' for x in ratios)} | **{statistics.median(ratios):.2f}×** | "
        f"{med(fh, 'p99_us') / 1000:.1f} ms | {med(ph, 'p99_us') / 1000:.1f} ms |"
    )
    pss, start = out["side"]["pss"], out["start"]
    lines += [
        "",
        "The finder's ward-view p99 is per request (page or script), the peer's per page.",
        "",
        "| | finder | peer |",
        "|---|---:|---:|",
        f"| worker PSS after the rounds | {', '.join(f'{x:.0f}' for x in pss['finder'])} MB | "
        f"{', '.join(f'{x:.0f}' for x in pss['peer'])} MB |",
        f"| gunicorn launch → first postcode answered, median of {len(start['finder'])} | "
        f"{statistics.median(start['finder']):.2f} s | {statistics.median(start['peer']):.2f} s |",
        f"| … each launch, alternated | {', '.join(f'{x:.2f}' for x in start['finder'])} | "
        f"{', '.join(f'{x:.2f}' for x in start['peer'])} |",
    ]
    if "servers" in out:
        s = out["servers"]
        lines += [
            "",
            "The finder under each server, interleaved, same load; medians of rounds.",
            "",
            "| server | health req/s | postcode req/s | ward page req/s | launch → answering | worker PSS |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, r in s["runs"].items():
            lines.append(
                f"| {name} | {med(r['health']):,.0f} | {med(r['postcode']):,.0f} | {med(r['ward_page']):,.0f} | "
                f"{s['startup'][name]:.2f} s | {s['pss'][name]:.0f} MB |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test)")
    parser.add_argument("--servers", action="store_true", help="also the finder under gthread and granian")
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
        log("the default store: finder init-db (police.uk's March 2023 snapshot)")
        env = {"DATABASE_URL": default_store(workdir / "finder.db"), "FINDER_RAW_DATA": str(default_raw_data())}
        envs = {"finder": env, "peer": env}
        repeats = 2 if args.quick else 5
        log(f"start: finder and peer, {repeats} launches each, alternately")
        out["start"] = first_answer(envs, repeats, workdir)
        log(f"  {out['start']}")
        log("side by side: finder and peer")
        out["side"] = side_by_side(workdir, args, envs)
        if args.servers:
            log("server choice: gunicorn sync, gthread, granian")
            out["servers"] = server_choice(workdir, args, env)
    out["load_end"] = loadavg()
    report = render(out, args)
    if args.output:
        args.output.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
