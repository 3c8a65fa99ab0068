#!/usr/bin/env python3
"""Issue 22, item 2: p99 of health and postcode lookups with 500 idle or slow connections open, per server.

For each candidate: start it on 127.0.0.1 (production settings, 2 workers), open 250 connections that
send nothing and 250 that send one byte every 10 s, then ask /api/v1/health and /api/v1/postcodes/SW1A2AA
one after the other, each on a new connection, for --seconds; then, with the slow clients gone, a short
wrk throughput run (-t1 -c16) per path, and memory (PSS) per worker. Prints a Markdown table.

    PYTHONPATH=$PWD .venv/bin/python scripts/bench_slow_clients.py [--seconds 20] [--servers nginx,sync,...]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from bench import SERVER_ENV, loadavg, machine  # noqa: E402

from tests.support.slowclients import RUN_SERVER, free_port, percentile, slow_clients, timed_gets  # noqa: E402

LOOKUP = "/api/v1/postcodes/SW1A2AA"
BIN = Path(sys.executable).parent
APP = "finder.wsgi:app"


def candidates(port: int) -> dict[str, list[str]]:
    bind = f"127.0.0.1:{port}"
    gunicorn = [str(BIN / "gunicorn"), "--bind", bind, "--workers", "2", "--preload", "--no-control-socket"]
    return {
        "nginx + gunicorn sync (shipped)": [str(RUN_SERVER)],
        "gunicorn sync (before)": [*gunicorn, APP],
        "gunicorn gthread, 8 threads": [*gunicorn, "--worker-class", "gthread", "--threads", "8", APP],
        "granian WSGI": [str(BIN / "granian"), "--interface", "wsgi", "--workers", "2", "--port", str(port), APP],
    }


def start(command: list[str], port: int, home: str, log) -> subprocess.Popen:
    env = {"PATH": os.environ["PATH"], "HOME": home, "PYTHONPATH": str(ROOT), **SERVER_ENV}
    env |= {"PORT": str(port), "WORKERS": "2"}
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            timed_gets(port, ["/api/v1/health", LOOKUP], rounds=3, timeout=5)
            return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not start") from None
            time.sleep(0.3)


def tree(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return []
    return [pid] + [p for child in children for p in tree(int(child))]


def pss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    return int(re.search(r"^Pss:\s+(\d+)", text, re.M).group(1)) / 1024


def comm(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text()


def memory(server: subprocess.Popen) -> str:
    """PSS of each app worker (the master's children other than nginx and its log filter), and of nginx."""
    children = [int(p) for p in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()]
    workers = [pss_mb(pid) for pid in children if not comm(pid).startswith(("nginx", "sed"))]
    front = [pss_mb(pid) for pid in tree(server.pid) if comm(pid).startswith("nginx")]
    text = ", ".join(f"{mb:.0f}" for mb in sorted(workers)) + " MB"
    return text + (f" (+ nginx {sum(front):.1f} MB)" if front else "")


def under_slow_clients(port: int, seconds: float) -> str:
    took: dict[str, list[float]] = {"/api/v1/health": [], LOOKUP: []}
    with slow_clients(port, idle=250, trickling=250, every=10):
        time.sleep(2)  # every connection made and accepted (or queued) before the visitors come
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                for path, values in timed_gets(port, list(took), rounds=1, timeout=5).items():
                    took[path] += values
            except OSError as error:
                return f"no answer within 5 s ({type(error).__name__}) after {len(took[LOOKUP])} answered lookups"
    return " · ".join(
        f"{'health' if 'health' in path else 'lookup'} p50 {percentile(v, 0.5) * 1000:.1f}, "
        f"p99 {percentile(v, 0.99) * 1000:.1f} ms (n={len(v)})"
        for path, v in took.items()
    )


def wrk(port: int, path: str, seconds: int) -> float:
    out = subprocess.run(
        ["wrk", "-t1", "-c16", f"-d{seconds}s", "--timeout", "5s", f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.+)", out)
    if errors:
        raise RuntimeError(f"wrk saw errors on {path}: {errors.group(0)}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20, help="asking health and lookups under slow clients")
    parser.add_argument("--wrk-seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2, help="wrk rounds per path")
    parser.add_argument("--servers", default="", help="comma-separated prefixes of the candidates to run")
    args = parser.parse_args()
    info = machine()
    print(f"# {info.get('cpu', '')} · load {loadavg()} at start", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-slow-") as home:
        for name, _ in candidates(0).items():
            if args.servers and not any(name.startswith(p) for p in args.servers.split(",")):
                continue
            port = free_port()
            command = candidates(port)[name]
            if not shutil.which(command[0]):
                print(f"skipping {name}: {command[0]} not installed", flush=True)
                continue
            with open(Path(home) / "server.log", "ab") as log:
                server = start(command, port, home, log)
                try:
                    slow = under_slow_clients(port, args.seconds)
                    time.sleep(1)
                    rates = {path: [] for path in ("/api/v1/health", LOOKUP)}
                    for _ in range(args.rounds):
                        for path in rates:
                            rates[path].append(wrk(port, path, args.wrk_seconds))
                    mem = memory(server)
                finally:
                    os.killpg(server.pid, 15)
                    server.wait(timeout=30)
            row = (name, slow, *(f"{max(r):,.0f}" for r in rates.values()), mem)
            print(" | ".join(row), flush=True)
            rows.append(row)
    print(f"\nload {loadavg()} at end\n")
    print("| server | with 250 idle + 250 slow connections open | health req/s | lookup req/s | worker PSS |")
    print("|---|---|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
