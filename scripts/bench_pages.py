"""Measure what a resident on a slow phone network waits for, and print a markdown section for BENCHMARKS.md.

The real app runs under gunicorn (2 sync workers, production settings, map tiles off, a SQLite
store holding the fictional sample teams). Headless Chromium (Debian's, through Playwright) opens
each page in a fresh context, so with an empty cache, at a phone's size, with the network throttled
through the DevTools protocol to Chrome DevTools' "Slow 4G" preset (devtools-frontend,
NetworkManager.ts): 1.6 Mbit/s x 0.9 down (180,000 bytes/s), 750 kbit/s x 0.9 up (84,375 bytes/s),
150 ms x 3.75 = 562.5 ms of latency on every request. The CPU is not slowed.

Reported per page, as the median (and worst) of the runs: first paint and first contentful paint
(the Paint Timing API, from the start of navigation), the load event, the requests made and the
bytes transferred (CDP encodedDataLength: headers and compressed bodies, as they crossed the wire).

Usage: .venv/bin/python scripts/bench_pages.py [--quick] [--output FILE]. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from bench import Server  # noqa: E402
from playwright.sync_api import Browser, Route, sync_playwright  # noqa: E402

from finder.lookup.service import load_forces  # noqa: E402
from finder.store import Store  # noqa: E402
from finder.store.migrate import upgrade  # noqa: E402
from finder.teams.samples import load_sample_teams  # noqa: E402

SLOW_4G = {"offline": False, "downloadThroughput": 180_000, "uploadThroughput": 84_375, "latency": 562.5}
PHONE = {"viewport": {"width": 375, "height": 667}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
TARGET_PAINT_MS, TARGET_BYTES = 1500, 100_000  # issue 9: a result page's first paint and transfer, tiles aside
PAGES = {  # St James's (SW1A 1AA) has a sample team; a postcode search redirects to the ward's page
    "Home": "/",
    "Result with a team (postcode search)": "/search?postcode=SW1A+1AA",
    "Embed": "/embed",
    "Embed result with a team": "/embed/search?postcode=SW1A+1AA",
}
PAINTS = """() => Object.fromEntries(performance.getEntriesByType('paint').map(e => [e.name, e.startTime]))"""
LOAD = """() => { const n = performance.getEntriesByType('navigation')[0]; return n ? n.loadEventEnd : null; }"""


def log(message: str) -> None:
    print(f"[bench-pages {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def measure(browser: Browser, base: str, path: str, throttle: bool = True) -> dict[str, Any]:
    """One visit from an empty cache: paint times, load, requests and bytes over the wire."""
    context = browser.new_context(base_url=base, service_workers="block", **PHONE)
    outside: list[str] = []

    def refuse(route: Route) -> None:  # nothing may leave 127.0.0.1
        outside.append(route.request.url)
        route.abort()

    context.route(re.compile(rf"^(?!{re.escape(base)}/)"), refuse)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    if throttle:
        cdp.send("Network.emulateNetworkConditions", SLOW_4G)
    sizes: dict[str, int] = {}
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    try:
        response = page.goto(path, wait_until="networkidle", timeout=60_000)
        assert response and response.ok, f"{path}: {response.status if response else 'no response'}"
        paints = page.evaluate(PAINTS)
        load = page.evaluate(LOAD)
    finally:
        context.close()
    assert not outside, f"{path} asked for {outside}"
    return {
        "fp": paints.get("first-paint"),
        "fcp": paints.get("first-contentful-paint"),
        "load": load,
        "requests": len(sizes),
        "bytes": sum(sizes.values()),
    }


def summary(runs: list[dict[str, Any]], key: str) -> tuple[float, float]:
    values = [r[key] for r in runs if r[key] is not None]
    return statistics.median(values), max(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 visits a page instead of 10 (a smoke test)")
    parser.add_argument("--output", type=Path, help="also write the markdown section to this file")
    args = parser.parse_args()
    rounds = 3 if args.quick else 10
    chromium = os.environ.get("FINDER_CHROMIUM", "/usr/bin/chromium")

    workdir = Path(tempfile.mkdtemp(prefix="finder-bench-pages."))
    store = Store(f"sqlite:///{workdir / 'teams.db'}")
    upgrade(store)
    load_sample_teams(store, {force_id: force.name for force_id, force in load_forces().items()})
    store.dispose()

    env = {
        "DATABASE_URL": f"sqlite:///{workdir / 'teams.db'}",
        "FINDER_TILES_URL": "",  # map tiles aside: they come from the tile server, not the finder
        "FINDER_REACH_COUNTING": "0",
    }
    server = Server("pages", ["--workers", "2"], workdir, env)
    results: dict[str, list[dict[str, Any]]] = {}
    try:
        server.start()
        base = f"http://127.0.0.1:{server.port}"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
            )
            version = browser.version
            for path in PAGES.values():  # both workers build their map scripts and read teams before the runs
                for _ in range(4):
                    measure(browser, base, path, throttle=False)
            for label, path in PAGES.items():
                log(f"{rounds} visits under Slow 4G, empty cache: {label}")
                results[label] = [measure(browser, base, path) for _ in range(rounds)]
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    lines = [
        "## Pages on a slow phone network",
        "",
        f"Measured by `scripts/bench_pages.py`{' --quick' if args.quick else ''} on {time.strftime('%Y-%m-%d')}: "
        f"Chromium {version} (headless), {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])} at the end "
        "(other work shared the machine). Only 127.0.0.1 was contacted.",
        "",
        "gunicorn (2 sync workers, production settings, a SQLite store with the fictional sample teams, map "
        "tiles off). Each visit is a fresh browser context (empty cache) at 375 x 667 px, with the network "
        "throttled to Chrome DevTools' Slow 4G preset: 180,000 bytes/s down, 84,375 bytes/s up, 562.5 ms "
        "latency per request (the CPU is not slowed). Times from the start of navigation; bytes as they crossed "
        "the wire (headers and compressed bodies). "
        f"Median of {rounds} visits, worst in brackets. Target for a result page (issue 9): first paint under "
        f"{TARGET_PAINT_MS / 1000:.1f} s, under {TARGET_BYTES // 1000} KB.",
        "",
        "| page | first paint | first contentful paint | load event | requests | transferred |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, runs in results.items():
        cells = [f"{m / 1000:.2f} s ({w / 1000:.2f})" for m, w in (summary(runs, k) for k in ("fp", "fcp", "load"))]
        requests_, bytes_ = summary(runs, "requests")[0], summary(runs, "bytes")
        path = PAGES[label]
        lines.append(
            f"| {label} (`{path}`) | {' | '.join(cells)} | {requests_:.0f} | {bytes_[0] / 1000:.1f} KB "
            f"({bytes_[1] / 1000:.1f}) |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        args.output.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
