"""Throughput and p99 through HAProxy for one and for three finder instances (deploy/run-local), and one instance
without the proxy: what the proxy costs, on this machine. Run by hand: `python scripts/bench_deploy.py`.

Each instance is one gunicorn worker (run-local's WORKERS=1), so "3 instances" is three workers on however
many cores the machine has; wrk (Debian's package) sends the load from 127.0.0.1 for 10 s per row.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATHS = {"JSON lookup": "/api/v1/postcodes/SW1A1AA", "ward page (kept)": "/wards/E05013806"}


def wrk(url: str, seconds: int = 10, connections: int = 16, header: str = "") -> tuple[float, str]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", *(["-H", header] if header else []), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+(\S+)", out).group(1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    if errors:
        raise SystemExit(f"wrk saw errors at {url}:\n{out}")
    return rate, p99


def haproxy(sock: str, command: str) -> None:
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(sock)
        s.sendall(command.encode() + b"\n")
        while s.recv(4096):
            pass


def main() -> None:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian package wrk)")
    folder = Path(tempfile.mkdtemp(prefix="finder-bench-deploy."))
    env = {
        **os.environ,
        "FINDER_DEPLOY_DIR": str(folder),
        "FINDER_RATE_LIMIT": os.environ.get("FINDER_RATE_LIMIT", "off"),
    }
    topology = subprocess.Popen(
        [str(ROOT / "deploy" / "run-local")], env=env, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert topology.stdout is not None
        if not topology.stdout.readline().startswith("ready"):
            raise SystemExit("deploy/run-local did not start")
        values = dict(line.split("=", 1) for line in (folder / "topology.env").read_text().splitlines())
        proxy, direct = f"http://127.0.0.1:{values['PROXY_PORT']}", f"http://127.0.0.1:{values['FINDER1_PORT']}"
        rows = []
        for name, path in PATHS.items():
            for url in (direct + path, proxy + path):  # warm every instance
                subprocess.run(["wrk", "-t1", "-c4", "-d2s", url], capture_output=True, check=True)
            rows.append((name, "1 instance, no proxy", *wrk(direct + path)))
            # A ward page asked with a cookie is never answered from the proxy's copy: the instances' own rate.
            uncached = "Cookie: bench=1" if path.startswith("/wards/") else ""
            for server in ("finder2", "finder3"):
                haproxy(values["HAPROXY_SOCKET"], f"disable server finder/{server}")
            time.sleep(1)
            rows.append((name, "HAProxy, 1 instance", *wrk(proxy + path, header=uncached)))
            for server in ("finder2", "finder3"):
                haproxy(values["HAPROXY_SOCKET"], f"enable server finder/{server}")
            time.sleep(2)
            rows.append((name, "HAProxy, 3 instances", *wrk(proxy + path, header=uncached)))
            if uncached:
                rows.append((name, "HAProxy's copy (kept 1 s at most)", *wrk(proxy + path)))
        print(f"\n{os.cpu_count()} cores; wrk -t2 -c16 -d10s from 127.0.0.1\n")
        print("| answer | served by | requests/s | p99 |\n|---|---|---|---|")
        for name, served, rate, p99 in rows:
            print(f"| {name} | {served} | {rate:,.0f} | {p99} |")
    finally:
        topology.send_signal(signal.SIGTERM)
        topology.wait(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
