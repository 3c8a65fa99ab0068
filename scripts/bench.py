"""Measure the finder and write BENCHMARKS.md (run it through ./scripts/bench).

What it measures, in this order, each bounded in count and time:

1. cold start: a fresh Python process until it answers a lookup (median of several);
2. in-process London lookups: `Lookup.resolve` and `PostcodeIndex.find` per live postcode in
   shuffled order, `find_many` over the whole column plus the ward/borough/force as array indexing;
3. the national (GB) index in a fresh process: load time, find/find_many rates, resident memory
   mmap'd and in RAM, and Python dicts for comparison;
4. page render time in-process (Flask test client): ward and postcode pages with their map scripts;
5. gunicorn (sync and gthread) under wrk on 127.0.0.1: the JSON lookup against /api/v1/health,
   the trivial endpoint, measured by the same server in the same rounds as the ceiling; ward pages
   and map scripts; resident memory (RSS/PSS/USS) per worker.

Servers are started in their own process group and always stopped (finally, signal handlers and
the pid files that scripts/bench's trap reads). Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime as dt
import importlib.metadata
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SEED = 20251121

TARGET_RATIO = 0.80  # JSON lookup throughput / trivial endpoint throughput
TARGET_PAGE_MS = 20.0  # page HTML + its map script, server-side
TARGET_COLD_S = 2.0  # fresh process until it answers a lookup
TARGET_WORKER_MB = 300.0  # resident memory per gunicorn worker
TARGET_NEW_POINT = 2.0  # a map for a place not seen before vs a cached ward map, server CPU per request
TARGET_POINTS_GROWTH_MB = 10.0  # worker RSS growth over 10,000 distinct places (one map script per ward)
WARDS = 704

SERVER_ENV = {
    "FINDER_ENV": "production",
    "SECRET_KEY": "benchmark only",  # production refuses to start without one
    "FINDER_PUBLIC_URL": "http://127.0.0.1",  # production needs one; the benchmark's requests name this host
    "FINDER_GEOCODER_URL": "",  # never call out: only 127.0.0.1 is contacted
    # One client (wrk on 127.0.0.1) sends everything: the limiter still counts every API request,
    # as it would for many clients, but never refuses one.
    "FINDER_RATE_LIMIT": "1000000000/minute",
}


# ---------------------------------------------------------------------------------------------
# small helpers


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest-rank on sorted values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def mem_of(pid: int | str = "self") -> dict[str, float]:
    """Resident memory of a process in MB: RSS, PSS, USS (private), anonymous and file-backed PSS."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[-1] == "kB":
            fields[name.strip()] = int(parts[0]) / 1024
    status = Path(f"/proc/{pid}/status").read_text()
    rss_file = re.search(r"^RssFile:\s+(\d+) kB", status, re.M)
    return {
        "rss_file": int(rss_file.group(1)) / 1024 if rss_file else 0.0,
        "rss": fields.get("Rss", 0.0),
        "pss": fields.get("Pss", 0.0),
        "uss": fields.get("Private_Clean", 0.0) + fields.get("Private_Dirty", 0.0),
        "anon": fields.get("Anonymous", 0.0),
        "pss_anon": fields.get("Pss_Anon", 0.0),
        "pss_file": fields.get("Pss_File", 0.0),
    }


def children_of(pid: int) -> list[int]:
    """Direct children of a process, from /proc/*/stat."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2 :].split()
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return sorted(kids)


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    meminfo = Path("/proc/meminfo").read_text()
    total_kb = int(re.search(r"^MemTotal:\s+(\d+)", meminfo, re.M).group(1))  # type: ignore[union-attr]

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"

    dirty = git("status", "--porcelain", "--untracked-files=no")
    versions = {}
    for dist in ("flask", "werkzeug", "gunicorn", "numpy", "shapely", "folium"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = "?"
    wrk = shutil.which("wrk")
    wrk_version = "not installed"
    if wrk:
        out = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10)
        wrk_version = (out.stdout or out.stderr).split(" [")[0].strip()
    return {
        "cpu": model.group(1).strip() if model else platform.processor() or "?",
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "ram_gib": round(total_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git("rev-parse", "--short", "HEAD") + (" + uncommitted changes" if dirty else ""),
        "versions": versions,
        "wrk": wrk_version,
    }


def run_child(kind: str, *args: str, timeout: float = 300) -> dict[str, Any]:
    """Run this file as a fresh process (`--child kind`) and return the JSON it prints last."""
    env = {**os.environ, **SERVER_ENV}
    proc = subprocess.run(
        [PYTHON, str(Path(__file__).resolve()), "--child", kind, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child {kind} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def make_app():
    from finder import create_app
    from finder.web import services

    app = create_app(
        {
            "ENV_NAME": "production",
            "SECRET_KEY": "benchmark only",
            "PUBLIC_URL": SERVER_ENV["FINDER_PUBLIC_URL"],
            "GEOCODER_URL": "",
            "RATE_LIMIT": SERVER_ENV["FINDER_RATE_LIMIT"],
        }
    )
    return app, services(app).lookup


def live_postcodes(lookup, count: int = 20_000) -> list[str]:
    """`count` live postcodes in a fixed random order, each one the finder answers with a ward
    (PO boxes and other non-geographic postcodes, which it refuses, are left out)."""
    from finder.errors import FinderError
    from finder.geo.geodata import LIVE
    from finder.lookup.service import WardAnswer

    rows = lookup.geo.postcodes.rows
    pcs = [k.decode("ascii") for k in rows["postcode"][rows["status"] == LIVE]]
    random.Random(SEED).shuffle(pcs)
    answered = []
    for pc in pcs:
        try:
            if isinstance(lookup.resolve(postcode=pc), WardAnswer):
                answered.append(pc)
        except FinderError:
            continue
        if len(answered) == count:
            break
    return answered


# ---------------------------------------------------------------------------------------------
# children: fresh processes for cold start and memory


def child_cold(launched_at: float) -> dict[str, Any]:
    """Fresh process: import the WSGI app (which loads geodata) and resolve one postcode."""
    t0 = time.time()
    from finder.web import services
    from finder.wsgi import app

    t_import = time.time()
    result = services(app).lookup.resolve(postcode="SW1A 1AA")
    assert result.ward is not None and result.ward.code == "E05013806", result
    answered = time.time()
    client = app.test_client()
    t = time.perf_counter()
    response = client.get("/api/v1/postcodes/SW1A%201AA")
    first_http = time.perf_counter() - t
    assert response.status_code == 200
    t = time.perf_counter()
    response = client.get("/maps/E05013806.js")
    first_map = time.perf_counter() - t
    assert response.status_code == 200
    t = time.perf_counter()
    response = client.get("/maps/E05013807.js")
    second_map = time.perf_counter() - t
    assert response.status_code == 200
    return {
        "to_answer_s": answered - launched_at,
        "interpreter_s": t0 - launched_at,
        "import_wsgi_s": t_import - t0,
        "first_resolve_s": answered - t_import,
        "first_http_ms": first_http * 1000,
        "first_map_ms": first_map * 1000,
        "second_ward_map_ms": second_map * 1000,
    }


def child_national(quick: bool) -> dict[str, Any]:
    """Fresh process: the app as the WSGI module builds it, then the GB index touched, copied, dicts."""
    import numpy as np

    out: dict[str, Any] = {}
    out["mem_python_numpy"] = mem_of()
    t = time.perf_counter()
    from finder.web import services
    from finder.wsgi import app

    out["app_build_s"] = time.perf_counter() - t
    lookup = services(app).lookup
    out["mem_app"] = mem_of()
    geodir = Path(app.config["GEODATA_DIR"])
    from finder.geo.postcodes import PostcodeIndex

    gb_path = geodir / "gb_postcodes.npy"
    out["gb_file_mb"] = gb_path.stat().st_size / 2**20
    out["london_file_mb"] = (geodir / "postcodes.npy").stat().st_size / 2**20

    times = []
    for _ in range(5):
        t = time.perf_counter()
        gb = PostcodeIndex(np.load(gb_path, mmap_mode="r"))
        times.append(time.perf_counter() - t)
    out["gb_load_mmap_ms"] = statistics.median(times) * 1000
    out["gb_rows"] = len(gb)
    mem_mapped = mem_of()  # before anything reads the mapped pages

    rng = np.random.default_rng(SEED)
    keys = np.array(gb.keys)  # a RAM copy of the query column
    shuffled = keys[rng.permutation(len(keys))]
    strs = [k.decode("ascii") for k in shuffled]

    # find_many over the whole national column, shuffled; as S8 keys and as Python strings
    times = []
    for _ in range(3):
        t = time.perf_counter()
        found = gb.find_many(shuffled)
        times.append(time.perf_counter() - t)
    assert (found >= 0).all()
    out["gb_find_many_s"] = statistics.median(times)
    out["gb_find_many_rate"] = len(shuffled) / out["gb_find_many_s"]
    t = time.perf_counter()
    found = gb.find_many(strs)
    out["gb_find_many_str_rate"] = len(strs) / (time.perf_counter() - t)
    out["mem_gb_touched"] = mem_of()
    # Copying the key column and the searches have read every page of the file by now.
    out["gb_mmap_resident_mb"] = out["mem_gb_touched"]["rss_file"] - mem_mapped["rss_file"]

    # per postcode (bounded sample)
    sample = strs[: 50_000 if quick else 400_000]
    deadline = time.perf_counter() + 30
    t = time.perf_counter()
    n = 0
    for pc in sample:
        if gb.find(pc) is None:
            raise AssertionError(pc)
        n += 1
        if n & 4095 == 0 and time.perf_counter() > deadline:
            break
    out["gb_find_n"] = n
    out["gb_find_rate"] = n / (time.perf_counter() - t)

    # the app's own London index for comparison, in the same process
    london = lookup.geo.postcodes
    lkeys = np.array(london.keys)
    lshuf = lkeys[rng.permutation(len(lkeys))]
    lstrs = [k.decode("ascii") for k in lshuf]
    t = time.perf_counter()
    n = 0
    for pc in lstrs[: len(sample)]:
        london.find(pc)
        n += 1
    out["london_find_rate_same_process"] = n / (time.perf_counter() - t)

    # the whole GB file read into RAM instead of mmap'd
    t = time.perf_counter()
    in_ram = np.load(gb_path)
    out["gb_load_ram_ms"] = (time.perf_counter() - t) * 1000
    out["gb_ram_mb"] = in_ram.nbytes / 2**20  # private to each process that loads it
    del in_ram

    # Python dicts {postcode: row}: London always, GB unless --quick
    def dict_cost(strings: list[str], sorted_keys: np.ndarray, name: str) -> None:
        before = mem_of()
        t = time.perf_counter()
        index = {k.decode("ascii"): i for i, k in enumerate(sorted_keys.tolist())}
        out[f"{name}_dict_build_s"] = time.perf_counter() - t
        out[f"{name}_dict_mb"] = mem_of()["anon"] - before["anon"]
        t = time.perf_counter()
        m = 0
        for pc in strings[: len(sample)]:
            index.__getitem__(pc)
            m += 1
        out[f"{name}_dict_get_rate"] = m / (time.perf_counter() - t)
        del index

    dict_cost(lstrs, lkeys, "london")
    if not quick:
        dict_cost(strs, keys, "gb")
    out["mem_end"] = mem_of()
    return out


# ---------------------------------------------------------------------------------------------
# 1. cold start


def bench_cold(quick: bool) -> dict[str, Any]:
    repeats = 2 if quick else 5
    log(f"cold start: {repeats} fresh processes (plus one discarded) importing finder.wsgi and resolving a postcode")
    runs = []
    for i in range(repeats + 1):
        launched = time.time()
        child = run_child("cold", repr(launched), timeout=120)
        child["process_s"] = time.time() - launched
        if i:
            runs.append(child)
            log(f"  run {i}: answered after {child['to_answer_s']:.2f} s")
    out: dict[str, Any] = {"runs": runs}
    for key in runs[0]:
        out[key] = statistics.median(r[key] for r in runs)
    # import-time breakdown, top-level modules by cumulative time
    proc = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", "import finder.wsgi"],
        cwd=ROOT,
        env={**os.environ, **SERVER_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Self time summed per top-level package: no double counting. finder.wsgi's own self time is its
    # module body (create_app and its Services' lookup: geodata, store), not an import.
    by_package: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if m:
            name = m.group(4)
            key = name if name == "finder.wsgi" else name.split(".")[0]
            by_package[key] = by_package.get(key, 0.0) + int(m.group(1)) / 1e6
    out["imports"] = sorted(((t, k) for k, t in by_package.items()), reverse=True)[:12]
    out["imports_total"] = sum(by_package.values())
    return out


# ---------------------------------------------------------------------------------------------
# 2. in-process London lookups


def bench_london(lookup, quick: bool) -> dict[str, Any]:
    import numpy as np

    pcs = live_postcodes(lookup)
    if quick:
        pcs = pcs[:20_000]
    out: dict[str, Any] = {"n_live": len(pcs)}

    def timed_loop(name: str, fn, limit: float) -> None:
        deadline = time.perf_counter() + limit
        t, c = time.perf_counter(), time.process_time()
        n = 0
        for pc in pcs:
            fn(pc)
            n += 1
            if n & 1023 == 0 and time.perf_counter() > deadline:
                break
        elapsed, cpu = time.perf_counter() - t, time.process_time() - c
        out[f"{name}_n"], out[f"{name}_rate"], out[f"{name}_us"] = n, n / elapsed, elapsed / n * 1e6
        out[f"{name}_cpu_rate"] = n / cpu
        log(f"  {name}: {n:,} postcodes, {n / elapsed:,.0f}/s ({elapsed / n * 1e6:.1f} µs each; CPU {n / cpu:,.0f}/s)")

    log(f"in-process London: {len(pcs):,} live postcodes, shuffled")
    index = lookup.geo.postcodes

    def check_find(pc: str) -> None:
        if index.find(pc) is None:
            raise AssertionError(pc)

    timed_loop("find", check_find, 30)

    # The service path without the team store (when the app has one), to separate the two costs.
    bare = copy.copy(lookup)
    if getattr(bare, "teams", None) is not None:
        bare.teams = None
        timed_loop("resolve_no_store", lambda pc: bare.resolve(postcode=pc), 30)

    # The full service path for every live postcode, timing resolve, to_api and JSON separately.
    resolve = lookup.resolve
    app_json = lookup_app_json()  # the app's JSON provider, as jsonify uses
    clock = time.perf_counter
    spent = [0.0, 0.0, 0.0]
    limit = 20.0 if quick else 150.0
    deadline = clock() + limit
    t, c = clock(), time.process_time()
    n = 0
    for pc in pcs:
        t0 = clock()
        result = resolve(postcode=pc)
        t1 = clock()
        body = result.to_api()
        t2 = clock()
        app_json(body)
        t3 = clock()
        spent[0] += t1 - t0
        spent[1] += t2 - t1
        spent[2] += t3 - t2
        n += 1
        if result.postcode != pc:
            raise AssertionError(f"{pc} resolved as {result.postcode}")
        if n & 1023 == 0 and t3 > deadline:
            break
    elapsed, cpu = clock() - t, time.process_time() - c
    out["resolve_n"] = n
    out["resolve_rate"], out["resolve_us"] = n / spent[0], spent[0] / n * 1e6
    out["to_api_us"], out["json_us"] = spent[1] / n * 1e6, spent[2] / n * 1e6
    out["resolve_json_rate"], out["resolve_json_us"] = n / elapsed, elapsed / n * 1e6
    out["resolve_json_cpu_rate"] = n / cpu
    log(
        f"  resolve (full service path): {n:,} of {len(pcs):,} postcodes, {out['resolve_rate']:,.0f}/s "
        f"({out['resolve_us']:.1f} µs each); + to_api {out['to_api_us']:.1f} µs + JSON {out['json_us']:.1f} µs"
        f" = {out['resolve_json_rate']:,.0f}/s (CPU {out['resolve_json_cpu_rate']:,.0f}/s)"
    )

    # vectorised: the whole column (live and withdrawn), shuffled
    rows = index.rows
    keys = np.array(index.keys)
    order = np.random.default_rng(SEED).permutation(len(keys))
    shuffled = keys[order]
    strs = [k.decode("ascii") for k in shuffled]
    wards = lookup.geo.wards.wards
    borough_codes = sorted({w.borough_code for w in wards})
    ward_borough = np.array([borough_codes.index(w.borough_code) for w in wards], dtype=np.int16)
    ward_force = np.array([w.force_id == "city-of-london" for w in wards], dtype=np.int8)
    ward_column = np.asarray(rows["ward"])
    times, times_str, times_idx = [], [], []
    for _ in range(3 if quick else 7):
        t = time.perf_counter()
        found = index.find_many(shuffled)
        times.append(time.perf_counter() - t)
        t = time.perf_counter()
        index.find_many(strs)
        times_str.append(time.perf_counter() - t)
        t = time.perf_counter()
        ward_i = ward_column[found]
        borough_i = ward_borough[ward_i]
        force_i = ward_force[ward_i]
        times_idx.append(time.perf_counter() - t)
    assert (found == order).all(), "find_many disagrees with the row order"
    assert len(borough_i) == len(force_i) == len(keys)
    n = len(keys)
    out["vector_n"] = n
    out["find_many_rate"] = n / statistics.median(times)
    out["find_many_str_rate"] = n / statistics.median(times_str)
    out["ward_index_rate"] = n / statistics.median(times_idx)
    both = statistics.median(t1 + t2 for t1, t2 in zip(times, times_idx, strict=True))
    out["find_many_with_ward_rate"] = n / both
    log(
        f"  find_many: {n:,} postcodes, {out['find_many_rate']:,.0f}/s as S8 keys, "
        f"{out['find_many_str_rate']:,.0f}/s from Python strings; ward+borough+force indexing "
        f"{out['ward_index_rate']:,.0f}/s"
    )
    return out


_APP = None


def lookup_app_json():
    assert _APP is not None
    return _APP.json.dumps


# ---------------------------------------------------------------------------------------------
# 4. page render, in-process


def bench_pages(app, lookup, quick: bool) -> dict[str, Any]:
    from finder import create_app

    client = app.test_client()
    rng = random.Random(SEED)
    codes = [w.code for w in lookup.geo.wards.wards]
    rng.shuffle(codes)
    pcs = live_postcodes(lookup)
    n = 150 if quick else 1500
    out: dict[str, Any] = {"n": n}
    map_src = re.compile(r'<script src="(/maps/[^"]+\.js[^"]*)"')

    cpu_ms: list[float] = []  # thread CPU time of the last request, beside its wall time

    def get(path: str) -> tuple[float, bytes]:
        t, c = time.perf_counter(), time.thread_time()
        response = client.get(path)
        elapsed = (time.perf_counter() - t) * 1000
        cpu_ms.append((time.thread_time() - c) * 1000)
        if response.status_code != 200:
            raise AssertionError(f"{path}: {response.status_code}")
        return elapsed, response.data

    def pairs(name: str, page_paths: list[str], count: int, warm: bool) -> None:
        page_ms, map_ms, sum_ms, sum_cpu, map_bytes = [], [], [], [], []
        if warm:
            for path in page_paths * 2:
                _, html = get(path)
                get(map_src.search(html.decode()).group(1).replace("&amp;", "&"))  # type: ignore[union-attr]
        deadline = time.perf_counter() + 60
        for i in range(count):
            path = page_paths[i % len(page_paths)]
            t_page, html = get(path)
            t_map, script = get(map_src.search(html.decode()).group(1).replace("&amp;", "&"))  # type: ignore[union-attr]
            map_bytes.append(len(script))
            page_ms.append(t_page)
            map_ms.append(t_map)
            sum_ms.append(t_page + t_map)
            sum_cpu.append(cpu_ms[-2] + cpu_ms[-1])
            if time.perf_counter() > deadline:
                break
        for label, values in (("page", page_ms), ("map", map_ms), ("sum", sum_ms), ("sum_cpu", sum_cpu)):
            out[f"{name}_{label}_p50"] = pct(values, 50)
            out[f"{name}_{label}_p99"] = pct(values, 99)
        out[f"{name}_n"] = len(sum_ms)
        out[f"{name}_map_kb"] = statistics.fmean(map_bytes) / 1024
        log(
            f"  {name}: page p50 {out[f'{name}_page_p50']:.2f} ms, map p50 {out[f'{name}_map_p50']:.2f} ms, "
            f"sum p50 {out[f'{name}_sum_p50']:.2f} / p99 {out[f'{name}_sum_p99']:.2f} ms "
            f"(CPU p50 {out[f'{name}_sum_cpu_p50']:.2f} ms; {len(sum_ms)} pairs)"
        )

    log(f"page render in-process (Flask test client), {n} page+map pairs each")
    pairs("ward_warm", [f"/wards/{c}" for c in codes[:100]], n, warm=True)
    pairs("postcode_warm", [f"/search?postcode={urllib.parse.quote(pc)}" for pc in pcs[:100]], n, warm=True)
    distinct = 100 if quick else 500
    pairs(
        "postcode_new",
        [f"/search?postcode={urllib.parse.quote(pc)}" for pc in pcs[100 : 100 + distinct]],
        distinct,
        False,
    )

    cache = getattr(sys.modules.get("finder.lookup.pages"), "_map_script", None)
    out["map_cache_max"] = cache.cache_info().maxsize if hasattr(cache, "cache_info") else None

    # a ward map never rendered in this process (the neighbour and bounds caches are already built)
    fresh, fresh_cpu = [], []
    for code in codes[100 : 100 + (30 if quick else 150)]:
        fresh.append(get(f"/maps/{code}.js")[0])
        fresh_cpu.append(cpu_ms[-1])
    out["map_uncached_p50"], out["map_uncached_p99"] = pct(fresh, 50), pct(fresh, 99)
    out["map_uncached_cpu_p50"] = pct(fresh_cpu, 50)
    log(f"  map script, first render of a ward: p50 {pct(fresh, 50):.2f} ms, p99 {pct(fresh, 99):.2f} ms")

    def measure_api(name: str, paths: list[str]) -> None:
        for path in paths[:200]:
            get(path)
        times = []
        cpu_ms.clear()
        deadline = time.perf_counter() + 15
        for i in range(1000 if quick else 5000):
            times.append(get(paths[i % len(paths)])[0])
            if time.perf_counter() > deadline:
                break
        out[f"api_{name}_p50"] = pct(times, 50)
        out[f"api_{name}_mean"] = statistics.fmean(times)
        out[f"api_{name}_cpu_mean"] = statistics.fmean(cpu_ms)
        out[f"api_{name}_cpu_p50"] = pct(cpu_ms, 50)

    # the JSON API in-process: the app-only cost, without HTTP and without a noisy neighbour's load;
    # and, as a what-if, the lookup with the app's team store switched off (when it has one)
    api_paths = [f"/api/v1/postcodes/{urllib.parse.quote(pc)}" for pc in pcs[:4000]]
    cases: list[tuple[str, list[str]]] = [("health", ["/api/v1/health"]), ("lookup", api_paths)]
    if getattr(lookup, "teams", None) is not None:
        cases.append(("lookup_no_store", api_paths))
    for name, paths in cases:
        served = client
        if name == "lookup_no_store":
            bare = copy.copy(lookup)
            bare.teams = None
            client = create_app(dict(app.config), lookup=bare).test_client()  # the same app, but for its lookup
        try:
            measure_api(name, paths)
        finally:
            client = served
    if "api_lookup_no_store_cpu_p50" in out:
        log(
            f"  JSON in-process without the team store: CPU p50 {out['api_lookup_no_store_cpu_p50'] * 1000:.0f} µs "
            f"(= {out['api_health_cpu_p50'] / out['api_lookup_no_store_cpu_p50']:.0%} of health's rate)"
        )
    out["api_ratio"] = out["api_health_mean"] / out["api_lookup_mean"]
    out["api_cpu_ratio"] = out["api_health_cpu_p50"] / out["api_lookup_cpu_p50"]
    log(
        f"  JSON in-process: health {out['api_health_mean'] * 1000:.0f} µs, lookup "
        f"{out['api_lookup_mean'] * 1000:.0f} µs per request (lookup rate = {out['api_ratio']:.0%} of health; "
        f"by CPU time p50 {out['api_health_cpu_p50'] * 1000:.0f} vs {out['api_lookup_cpu_p50'] * 1000:.0f} µs "
        f"= {out['api_cpu_ratio']:.0%})"
    )
    return out


# ---------------------------------------------------------------------------------------------
# where the time goes: a sampling profile of requests, in-process


def profile_requests(app, lookup, quick: bool) -> dict[str, str]:
    """pyinstrument (the bench extra) over in-process requests; empty when it is not installed."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        log("profile: pyinstrument is not installed (pip install -e '.[bench]'); skipped")
        return {}
    client = app.test_client()
    pcs = live_postcodes(lookup)
    cases = {
        "JSON lookup /api/v1/postcodes/<pc>": [f"/api/v1/postcodes/{urllib.parse.quote(pc)}" for pc in pcs[:2000]],
        "trivial endpoint /api/v1/health": ["/api/v1/health"],
        "postcode page /search?postcode=<pc>": [f"/search?postcode={urllib.parse.quote(pc)}" for pc in pcs[:2000]],
    }
    out = {}
    for name, paths in cases.items():
        for path in paths[:100]:
            client.get(path)
        profiler = Profiler(interval=0.0005)
        count = 300 if quick else 2000
        deadline = time.perf_counter() + (5 if quick else 15)
        done = 0
        profiler.start()
        while done < count and time.perf_counter() < deadline:
            client.get(paths[done % len(paths)])
            done += 1
        profiler.stop()
        text = profiler.output_text(
            unicode=True, color=False, show_all=False, processor_options={"filter_threshold": 0.02}
        )
        # drop the banner; keep the summary line and the call tree
        lines = text.splitlines()
        start = next((k for k, line in enumerate(lines) if "Profile at" in line), 0)
        timing = re.search(r"Duration:\s*([\d.]+)\s+CPU time:\s*([\d.]+)", text)
        summary = f"{done} requests in {timing.group(1)} s wall clock, {timing.group(2)} s CPU" if timing else ""
        out[name] = summary + "\n\n" + "\n".join(lines[start + 1 :]).strip("\n")
        log(f"  profiled {name}: {done} requests")
    return out


# ---------------------------------------------------------------------------------------------
# 5. gunicorn under wrk

LUA = """
local paths = {%(paths)s}
local n = #paths
local i = 0
request = function()
  i = i + 1
  if i > n then i = 1 end
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%%d,"duration_us":%%d,"bytes":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,' ..
    '"max_us":%%d,"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d}\\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


class Server:
    """A gunicorn (or granian) master, in its own process group, serving finder.wsgi:app on 127.0.0.1.

    Production settings (SERVER_ENV), with `env` on top for what one benchmark changes (its store,
    its cache). scripts/bench_*.py serve through this too, so scripts/bench's trap stops them all.
    """

    def __init__(
        self,
        name: str,
        args: list[str],
        workdir: Path,
        env: dict[str, str] | None = None,
        *,
        target: str = "finder.wsgi:app",
        granian: bool = False,
    ) -> None:
        self.name = name
        self.args = args
        self.workdir = workdir
        self.env = env or {}
        self.target = target  # the WSGI app: the finder, or scripts.peer_app:app (bench_peer.py)
        self.granian = granian  # granian's WSGI server instead of gunicorn (no --preload: each worker loads)
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def start(self) -> float:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.pidfile = self.workdir / f"gunicorn-{self.name}.pid"
        self.errlog = open(self.workdir / f"gunicorn-{self.name}.log", "w")  # noqa: SIM115
        if self.granian:
            cmd = [
                str(Path(PYTHON).parent / "granian"),
                "--interface",
                "wsgi",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--pid-file",
                str(self.pidfile),
                "--log-level",
                "warning",
                "--no-access-log",
                *self.args,
                self.target,
            ]
        else:
            cmd = [
                str(Path(PYTHON).parent / "gunicorn"),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--preload",
                "--pid",
                str(self.pidfile),
                "--log-level",
                "warning",
                "--timeout",
                "30",
                *self.args,
                self.target,
            ]
        t = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env={**os.environ, **SERVER_ENV, **self.env},
            stdout=self.errlog,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # also record the master's pid ourselves, for scripts/bench's trap, before it writes its own
        (self.workdir / f"master-{self.name}.pid").write_text(str(self.proc.pid))
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn {self.name} exited: {(self.workdir / self.errlog.name).read_text()}")
            try:
                if self.get("/api/v1/health")[0] == 200:
                    return time.perf_counter() - t
            except OSError:
                pass
            time.sleep(0.01)  # a launch is timed to within 10 ms
        raise RuntimeError(f"gunicorn {self.name} did not answer within 60 s")

    def get(self, path: str) -> tuple[int, bytes]:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
        with opener.open(f"http://127.0.0.1:{self.port}{path}", timeout=10) as response:
            return response.status, response.read()

    def workers(self) -> list[int]:
        assert self.proc is not None
        return children_of(self.proc.pid)

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far by the master and its workers."""
        assert self.proc is not None
        total = 0
        for pid in [self.proc.pid, *self.workers()]:
            with contextlib.suppress(OSError):
                text = Path(f"/proc/{pid}/stat").read_text()
                fields = text[text.rfind(")") + 2 :].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        return total / os.sysconf("SC_CLK_TCK")

    def memory(self) -> dict[str, Any]:
        assert self.proc is not None
        workers = [mem_of(pid) for pid in self.workers()]
        return {"master": mem_of(self.proc.pid), "workers": workers}

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        # the workers are in the master's process group; make sure none outlived it
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        for name in (f"master-{self.name}.pid",):
            (self.workdir / name).unlink(missing_ok=True)
        self.errlog.close()
        self.proc = None


def wrk(server: Server, script: Path, seconds: float, connections: int) -> dict[str, Any]:
    cmd = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        f"http://127.0.0.1:{server.port}",
    ]
    cpu_before = server.cpu_seconds()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    cpu = server.cpu_seconds() - cpu_before
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary: {proc.stdout}\n{proc.stderr}")
    r = json.loads(line.removeprefix("BENCH_JSON "))
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["cpu_ms_per_req"] = cpu * 1000 / max(1, r["requests"])
    r["errors"] = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    return r


def write_lua(workdir: Path, name: str, paths: list[str]) -> Path:
    path = workdir / f"{name}.lua"
    path.write_text(LUA % {"paths": ",".join(json.dumps(p) for p in paths)})
    return path


def london_points(lookup, count: int, rng: random.Random) -> list[tuple[float, float]]:
    """`count` distinct random points inside London's wards (as "use my location" would send them)."""
    min_x, min_y, max_x, max_y = -0.51, 51.28, 0.34, 51.70
    points: list[tuple[float, float]] = []
    while len(points) < count:
        lat, lon = round(rng.uniform(min_y, max_y), 6), round(rng.uniform(min_x, max_x), 6)
        if lookup.geo.wards.locate(lat, lon) is not None:
            points.append((lat, lon))
    return points


def bench_servers(lookup, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(SEED + 1)
    pcs = live_postcodes(lookup)[:4000]
    codes = [w.code for w in lookup.geo.wards.wards]
    rng.shuffle(codes)
    at_paths, new_pages = [], []
    for pc in live_postcodes(lookup)[4000:9000]:
        r = lookup.resolve(postcode=pc)
        at_paths.append(f"/maps/{r.ward.code}.js?at={r.lat},{r.lon}")  # the URL shape that once drew the point
        new_pages.append(f"/search?postcode={urllib.parse.quote(pc)}")
    map_paths = [f"/maps/{c}.js" for c in codes[:100]]
    # 10,000 distinct places, as residents' searches and "use my location" would send them
    point_count = 2000 if args.quick else 10_000
    point_paths = [
        f"/search?postcode={urllib.parse.quote(pc)}" for pc in live_postcodes(lookup)[9000:][: point_count // 2]
    ]
    point_paths += [f"/locate?lat={lat:.6f}&lon={lon:.6f}" for lat, lon in london_points(lookup, point_count // 2, rng)]
    endpoints = {
        "health": write_lua(workdir, "health", ["/api/v1/health"]),
        "lookup": write_lua(workdir, "lookup", [f"/api/v1/postcodes/{urllib.parse.quote(pc)}" for pc in pcs]),
        "ward_page": write_lua(workdir, "ward_page", [f"/wards/{c}" for c in codes]),
        "map": write_lua(workdir, "map", map_paths),
        "map_new_point": write_lua(workdir, "map_new_point", at_paths),
        "search_new": write_lua(workdir, "search_new", new_pages),
    }
    points_script = write_lua(workdir, "points", point_paths)
    configs = {
        "sync": ["--workers", "2", "--worker-class", "sync"],
        "gthread": ["--workers", "2", "--worker-class", "gthread", "--threads", "4"],
    }
    rounds, seconds, page_seconds, conns = args.rounds, args.seconds, args.page_seconds, args.connections
    out: dict[str, Any] = {"rounds": rounds, "seconds": seconds, "page_seconds": page_seconds, "connections": conns}
    for name, config in configs.items():
        server = Server(name, config, workdir)
        try:
            log(f"gunicorn {name} ({' '.join(config)}): starting")
            startup = server.start()
            status, body = server.get("/api/v1/postcodes/SW1A%201AA")
            assert status == 200 and json.loads(body)["ward"]["code"] == "E05013806", body
            log(f"  answering after {startup:.2f} s; workers {server.workers()}; warming up")
            warm = 1 if args.quick else 2
            for script in endpoints.values():
                wrk(server, script, warm, conns)
            # every worker renders each ward's map script once, as a server does in its first minutes
            # (704 scripts at most; each request ignores its point, so this is all the cache will hold):
            # visit every ward 8 times, so both workers see each (bounded)
            deadline = time.perf_counter() + 120
            for _ in range(8):
                for code in codes:
                    server.get(f"/maps/{code}.js")
                if time.perf_counter() > deadline:
                    break
            mem_warm = server.memory()
            results: dict[str, list[dict[str, Any]]] = {ep: [] for ep in endpoints}
            for r in range(rounds):
                pair = ["health", "lookup"] if r % 2 == 0 else ["lookup", "health"]
                pages = ["ward_page", "map", "map_new_point", "search_new"]
                pages = pages[r % 4 :] + pages[: r % 4]
                for ep in pair + pages:
                    res = wrk(server, endpoints[ep], seconds if ep in pair else page_seconds, conns)
                    res["loadavg"] = loadavg()
                    results[ep].append(res)
                    log(
                        f"  round {r + 1}/{rounds} {ep:>13}: {res['rps']:8.0f} req/s, p50 {res['p50_us'] / 1000:6.2f} "
                        f"ms, p99 {res['p99_us'] / 1000:7.2f} ms, server CPU {res['cpu_ms_per_req']:.2f} ms/req, "
                        f"errors {res['errors']} (load {res['loadavg']})"
                    )
            mem_after = server.memory()
            # then every one of the distinct places, once at least: memory must not grow with them
            points = wrk(server, points_script, max(2.0, len(point_paths) / 400), conns)
            mem_points = server.memory()
            before, after = (max(w["rss"] for w in m["workers"]) for m in (mem_after, mem_points))
            log(f"  {points['requests']:,} requests, {len(point_paths):,} places: RSS {before:.0f} -> {after:.0f} MB")
        finally:
            server.stop()
        summary: dict[str, Any] = {
            "startup_s": startup,
            "mem_warm": mem_warm,
            "mem_after": mem_after,
            "mem_points": mem_points,
            "points": {**points, "distinct": len(point_paths)},
            "raw": results,
        }
        for ep, runs in results.items():
            summary[ep] = {
                "rps": statistics.median(x["rps"] for x in runs),
                "p50_ms": statistics.median(x["p50_us"] for x in runs) / 1000,
                "p99_ms": statistics.median(x["p99_us"] for x in runs) / 1000,
                "cpu_ms": statistics.median(x["cpu_ms_per_req"] for x in runs),
                "errors": sum(x["errors"] for x in runs),
                "requests": sum(x["requests"] for x in runs),
            }
        ratios = [lk["rps"] / h["rps"] for lk, h in zip(results["lookup"], results["health"], strict=True)]
        summary["round_ratios"] = ratios
        summary["ratio"] = statistics.median(ratios)
        summary["ratio_of_medians"] = summary["lookup"]["rps"] / summary["health"]["rps"]
        summary["cpu_ratio"] = summary["health"]["cpu_ms"] / summary["lookup"]["cpu_ms"]
        summary["new_point_cpu_ratio"] = summary["map_new_point"]["cpu_ms"] / summary["map"]["cpu_ms"]
        summary["search_new_cpu_ratio"] = summary["search_new"]["cpu_ms"] / summary["ward_page"]["cpu_ms"]
        out[name] = summary
        log(
            f"  {name}: lookup {summary['lookup']['rps']:.0f} req/s vs health {summary['health']['rps']:.0f} req/s "
            f"= {summary['ratio']:.0%} (median of rounds; by server CPU per request {summary['cpu_ratio']:.0%}); "
            "worker RSS "
            f"{max(w['rss'] for w in mem_after['workers']):.0f} MB"
        )
    out["best"] = max(configs, key=lambda n: out[n]["lookup"]["rps"])
    return out


# ---------------------------------------------------------------------------------------------
# BENCHMARKS.md


def render(results: dict[str, Any], args: argparse.Namespace) -> str:
    m = results["machine"]
    cold, london, nat, pages = results["cold"], results["london"], results["national"], results["pages"]
    srv = results["servers"]
    best = srv["best"]
    b = srv[best]
    lines: list[str] = []
    w = lines.append

    def yes(ok: bool) -> str:
        return "**met**" if ok else "**NOT met**"

    def ms(x: float) -> str:
        return f"{x:.2f} ms"

    def rate(x: float) -> str:
        return f"{x:,.0f}/s"

    w("# Benchmarks")
    w("")
    w(
        f"Written by `./scripts/bench`{' --quick' if args.quick else ''} on {m['date']} at commit {m['commit']}. "
        "The machine is shared with other developers' test runs, so absolute figures are noisy; every server "
        "figure is therefore compared with the trivial endpoint `/api/v1/health` measured by the same server "
        "in the same rounds."
    )
    w("")
    w("## Machine")
    w("")
    w("| | |")
    w("|---|---|")
    w(f"| CPU | {m['cpu']} |")
    w(f"| cores | {m['logical_cpus']} logical, {m['usable_cpus']} usable |")
    w(f"| RAM | {m['ram_gib']} GiB |")
    w(f"| Python | {m['python']} |")
    w(f"| kernel | {m['kernel']} |")
    w(f"| packages | {', '.join(f'{k} {v}' for k, v in m['versions'].items())} |")
    w(f"| load generator | {m['wrk']} |")
    w(f"| load average (1, 5, 15 min) | {results['load_start']} at start, {results['load_end']} at end |")
    w(f"| date, commit | {m['date']}, {m['commit']} |")
    w(f"| run time | {results['run_s'] / 60:.1f} min |")
    w("")

    ward_sum, pc_sum = pages["ward_warm_sum_p50"], pages["postcode_warm_sum_p50"]
    worst_rss = max(x["rss"] for n in ("sync", "gthread") for x in srv[n]["mem_after"]["workers"])
    worst_pss = max(x["pss"] for n in ("sync", "gthread") for x in srv[n]["mem_after"]["workers"])
    w("## Targets")
    w("")
    w("| target | result | |")
    w("|---|---|---|")
    w(
        f"| JSON lookup ≥ {TARGET_RATIO:.0%} of the trivial endpoint's throughput (gunicorn {best}) | "
        f"{b['ratio']:.0%} ({b['lookup']['rps']:,.0f} vs {b['health']['rps']:,.0f} req/s); "
        f"by server CPU per request {b['cpu_ratio']:.0%} | "
        f"{yes(b['ratio'] >= TARGET_RATIO)} |"
    )
    w(
        f"| ward page + map script < {TARGET_PAGE_MS:.0f} ms, warm | p50 {ms(ward_sum)}, "
        f"p99 {ms(pages['ward_warm_sum_p99'])} | {yes(ward_sum < TARGET_PAGE_MS)} |"
    )
    w(
        f"| postcode page + map script < {TARGET_PAGE_MS:.0f} ms, warm | p50 {ms(pc_sum)}, "
        f"p99 {ms(pages['postcode_warm_sum_p99'])} | {yes(pc_sum < TARGET_PAGE_MS)} |"
    )
    w(
        f"| postcode page + map script < {TARGET_PAGE_MS:.0f} ms, a postcode not seen before | "
        f"p50 {ms(pages['postcode_new_sum_p50'])}, p99 {ms(pages['postcode_new_sum_p99'])} | "
        f"{yes(pages['postcode_new_sum_p50'] < TARGET_PAGE_MS)} |"
    )
    new_ratio = max(srv[n]["new_point_cpu_ratio"] for n in ("sync", "gthread"))
    w(
        f"| a new point costs within {TARGET_NEW_POINT:.0f}× a cached ward map (server CPU per request, "
        f"`/maps/<code>.js?at=…` vs `/maps/<code>.js`, worse server) | {new_ratio:.2f}× | "
        f"{yes(new_ratio <= TARGET_NEW_POINT)} |"
    )
    growth = max(
        max(x["rss"] for x in srv[n]["mem_points"]["workers"]) - max(x["rss"] for x in srv[n]["mem_after"]["workers"])
        for n in ("sync", "gthread")
    )
    w(
        f"| worker memory does not grow with distinct places (≤ {TARGET_POINTS_GROWTH_MB:.0f} MB after "
        f"{srv['sync']['points']['distinct']:,} of them; the map cache's bound is one script per ward) | "
        f"{growth:+.0f} MB | {yes(growth <= TARGET_POINTS_GROWTH_MB)} |"
    )
    w(
        f"| cold start < {TARGET_COLD_S:.0f} s (fresh process until it answers a lookup, median) | "
        f"{cold['to_answer_s']:.2f} s | {yes(cold['to_answer_s'] < TARGET_COLD_S)} |"
    )
    w(
        f"| memory per gunicorn worker < {TARGET_WORKER_MB:.0f} MB (after load, largest worker of either server) | "
        f"RSS {worst_rss:.0f} MB, PSS {worst_pss:.0f} MB | {yes(worst_rss < TARGET_WORKER_MB)} |"
    )
    w("")

    w("## 1. In-process lookups over all London postcodes")
    w("")
    coverage = (
        "every live London postcode"
        if london["resolve_n"] == london["n_live"]
        else f"the first {london['resolve_n']:,} of {london['n_live']:,} live London postcodes (time limit)"
    )
    w(
        f"Single lookups take live London postcodes ({london['n_live']:,}) in shuffled order; the full service "
        f"path covered {coverage}. Vectorised lookups take the whole column ({london['vector_n']:,} live and "
        "withdrawn postcodes), shuffled. The CPU-time rate is what the process would do on an idle core."
    )
    w("")
    w("| operation | rate (wall clock) | per postcode | rate by CPU time |")
    w("|---|---|---|---|")
    w(
        f"| `PostcodeIndex.find(pc)` ({london['find_n']:,}) | {rate(london['find_rate'])} | "
        f"{london['find_us']:.1f} µs | {rate(london['find_cpu_rate'])} |"
    )
    if "resolve_no_store_rate" in london:
        w(
            f"| `Lookup.resolve(postcode=pc)` without the team store ({london['resolve_no_store_n']:,}) | "
            f"{rate(london['resolve_no_store_rate'])} | {london['resolve_no_store_us']:.1f} µs | "
            f"{rate(london['resolve_no_store_cpu_rate'])} |"
        )
    w(
        f"| `Lookup.resolve(postcode=pc)`, the full service path ({london['resolve_n']:,}) | "
        f"{rate(london['resolve_rate'])} | {london['resolve_us']:.1f} µs | |"
    )
    w(f"| … its `Result.to_api()` | | {london['to_api_us']:.1f} µs | |")
    w(f"| … and JSON encoding (the app's provider, as `jsonify`) | | {london['json_us']:.1f} µs | |")
    w(
        f"| resolve + to_api + JSON: what `/api/v1/postcodes/<pc>` does before Flask and HTTP | "
        f"{rate(london['resolve_json_rate'])} | {london['resolve_json_us']:.1f} µs | "
        f"{rate(london['resolve_json_cpu_rate'])} |"
    )
    for key, label in (
        ("find_many_rate", "`PostcodeIndex.find_many(keys)`, S8 array"),
        ("find_many_str_rate", "`PostcodeIndex.find_many(list of str)`"),
        ("ward_index_rate", "ward → borough → force as array indexing"),
        ("find_many_with_ward_rate", "find_many + ward/borough/force indexing"),
    ):
        w(f"| {label} | {rate(london[key])} | {1e6 / london[key]:.3f} µs | |")
    w("")

    w("## 2. A national index: all GB postcodes")
    w("")
    w(
        f"In a fresh process that built the app as `finder.wsgi` does (the app already memory-maps "
        f'`gb_postcodes.npy` for its "outside London" answers). {nat["gb_rows"]:,} rows, '
        f"{nat['gb_file_mb']:.1f} MB on disk (London: {nat['london_file_mb']:.1f} MB)."
    )
    w("")
    w("| measure | national (GB) | London |")
    w("|---|---|---|")
    w(
        f"| `find` per postcode, shuffled ({nat['gb_find_n']:,}) | {rate(nat['gb_find_rate'])} | "
        f"{rate(nat['london_find_rate_same_process'])} |"
    )
    w(
        f"| `find_many` over the whole column, S8 keys | {rate(nat['gb_find_many_rate'])} "
        f"({nat['gb_find_many_s'] * 1000:.0f} ms) | {rate(london['find_many_rate'])} |"
    )
    w(
        f"| `find_many` from Python strings | {rate(nat['gb_find_many_str_rate'])} | "
        f"{rate(london['find_many_str_rate'])} |"
    )
    w(f"| load, `np.load(mmap_mode='r')` | {nat['gb_load_mmap_ms']:.2f} ms | |")
    w(
        "| resident once every page is touched (file-backed, shared between workers) | "
        f"{nat['gb_mmap_resident_mb']:.0f} MB | |"
    )
    w(
        f"| load into RAM instead, `np.load` | {nat['gb_load_ram_ms']:.0f} ms, {nat['gb_ram_mb']:.0f} MB "
        "private to each worker | |"
    )
    gb_dict = (
        f"{nat['gb_dict_build_s']:.2f} s, {nat['gb_dict_mb']:.0f} MB private, {rate(nat['gb_dict_get_rate'])}"
        if "gb_dict_build_s" in nat
        else "not measured (--quick)"
    )
    w(
        f"| Python dict `{{postcode: row}}`: build, memory, get rate | {gb_dict} | "
        f"{nat['london_dict_build_s']:.2f} s, {nat['london_dict_mb']:.0f} MB private, "
        f"{rate(nat['london_dict_get_rate'])} |"
    )
    w(
        f"| process RSS once the app is built (the GB index mapped, not yet read): {nat['mem_app']['rss']:.0f} MB, "
        f"of which file-backed {nat['mem_app']['rss_file']:.0f} MB | | |"
    )
    w("")

    w("## 3. Under gunicorn, with concurrent clients")
    w("")
    w(
        f"`gunicorn --preload finder.wsgi:app` on 127.0.0.1 (FINDER_ENV=production, no access log), 2 workers; "
        f"load from `wrk -t1 -c{srv['connections']}` with Lua scripts rotating through real paths. "
        f"{srv['rounds']} rounds, health and lookup alternating ({srv['seconds']:.0f} s each), then the ward page, "
        f"the ward map script, the map script's URL with a new point, and a postcode page for a postcode not "
        f"seen before ({srv['page_seconds']:.0f} s each); medians. "
        f"wrk runs on the same 2 cores as the server."
    )
    w("")
    w("| server | endpoint | req/s | p50 | p99 | errors | vs health | server CPU per request |")
    w("|---|---|---|---|---|---|---|---|")
    labels = {
        "health": "`/api/v1/health` (ceiling)",
        "lookup": "`/api/v1/postcodes/<pc>` (4,000 postcodes)",
        "ward_page": "`/wards/<code>` (704 wards)",
        "map": "`/maps/<code>.js` (100 wards, cached)",
        "map_new_point": "`/maps/<code>.js?at=lat,lon` (5,000 new points; the point no longer reaches the script)",
        "search_new": "`/search?postcode=<pc>` (5,000 postcodes, each new)",
    }
    for name in ("sync", "gthread"):
        s = srv[name]
        for ep, label in labels.items():
            e = s[ep]
            w(
                f"| {name}{' (best)' if name == best and ep == 'health' else ''} | {label} | {e['rps']:,.0f} | "
                f"{ms(e['p50_ms'])} | {ms(e['p99_ms'])} | {e['errors']} | {e['rps'] / s['health']['rps']:.0%} | "
                f"{ms(e['cpu_ms'])} |"
            )
    w("")
    for name in ("sync", "gthread"):
        s = srv[name]
        w(
            f"- {name}: lookup/health per round {', '.join(f'{x:.0%}' for x in s['round_ratios'])} "
            f"(median {s['ratio']:.0%}; ratio of medians {s['ratio_of_medians']:.0%}); by server CPU per "
            f"request, health/lookup = {s['cpu_ratio']:.0%}; "
            f"answering {s['startup_s']:.2f} s after launch."
        )
    w("")

    w("## 4. Page render time, in-process")
    w("")
    w(
        f"Flask test client, server-side only (no network). Each pair is the page's HTML and then the map "
        f"script the page links to. Warm: 100 wards or postcodes visited twice first, then {pages['n']:,} pairs "
        f"rotating through them. New postcode: each postcode seen once, so its map script (which carries the "
        f"postcode's point) is rendered afresh."
    )
    w("")
    w("| | HTML p50 / p99 | map script p50 / p99 | sum p50 / p99 | sum, CPU time p50 / p99 |")
    w("|---|---|---|---|---|")
    for key, label in (
        ("ward_warm", "ward page `/wards/<code>`, warm"),
        ("postcode_warm", "postcode page `/search?postcode=…`, warm"),
        ("postcode_new", "postcode page, a postcode not seen before"),
    ):
        w(
            f"| {label} | {ms(pages[key + '_page_p50'])} / {ms(pages[key + '_page_p99'])} | "
            f"{ms(pages[key + '_map_p50'])} / {ms(pages[key + '_map_p99'])} | "
            f"{ms(pages[key + '_sum_p50'])} / {ms(pages[key + '_sum_p99'])} | "
            f"{ms(pages[key + '_sum_cpu_p50'])} / {ms(pages[key + '_sum_cpu_p99'])} |"
        )
    w("")
    w(
        f"- Map script for a ward not yet rendered in a warm process: p50 {ms(pages['map_uncached_p50'])}, "
        f"p99 {ms(pages['map_uncached_p99'])} (CPU time p50 {ms(pages['map_uncached_cpu_p50'])})."
    )
    w(
        f"- First map script in a fresh process (builds the neighbour and bounds caches): "
        f"{ms(cold['first_map_ms'])}; the next ward's: {ms(cold['second_ward_map_ms'])}."
    )
    w(
        f"- JSON in-process, per request: health {pages['api_health_mean'] * 1000:.0f} µs, lookup "
        f"{pages['api_lookup_mean'] * 1000:.0f} µs mean wall clock (lookup rate {pages['api_ratio']:.0%} of "
        f"health); CPU time p50 {pages['api_health_cpu_p50'] * 1000:.0f} µs and "
        f"{pages['api_lookup_cpu_p50'] * 1000:.0f} µs ({pages['api_cpu_ratio']:.0%}), before HTTP and gunicorn "
        "add their fixed cost to both."
        + (
            f" With the team store switched off (a what-if, not the app as built): lookup CPU time p50 "
            f"{pages['api_lookup_no_store_cpu_p50'] * 1000:.0f} µs "
            f"({pages['api_health_cpu_p50'] / pages['api_lookup_no_store_cpu_p50']:.0%} of health's rate)."
            if "api_lookup_no_store_cpu_p50" in pages
            else ""
        )
    )
    w("")

    w("## 5. Cold start")
    w("")
    w(
        f"A fresh `python` process that imports `finder.wsgi` (which builds the app and loads geodata) and "
        f"resolves SW1A 1AA; median of {len(cold['runs'])} runs after one discarded."
    )
    w("")
    w("| | median |")
    w("|---|---|")
    w(f"| launch → lookup answered | {cold['to_answer_s']:.2f} s |")
    w(f"| of which interpreter start-up | {cold['interpreter_s']:.2f} s |")
    w(f"| of which `import finder.wsgi` (imports + create_app + geodata) | {cold['import_wsgi_s']:.2f} s |")
    w(f"| of which the first resolve | {cold['first_resolve_s'] * 1000:.1f} ms |")
    w(f"| first HTTP lookup through the test client | {cold['first_http_ms']:.1f} ms |")
    w(f"| whole process, including exit | {cold['process_s']:.2f} s |")
    w(f"| gunicorn (sync) launch → answering /api/v1/health | {srv['sync']['startup_s']:.2f} s |")
    w("")
    w(
        "Where `python -X importtime -c 'import finder.wsgi'` spends its "
        f"{cold['imports_total']:.2f} s: self time summed per top-level package (one run). `finder.wsgi` is "
        "the module's own body: create_app and its Services' lookup (geodata, store)."
    )
    w("")
    w("| package | seconds |")
    w("|---|---|")
    for seconds, module in cold["imports"]:
        w(f"| `{module}` | {seconds:.3f} |")
    w("")

    w("## 6. Memory per gunicorn worker")
    w("")
    w(
        "From `/proc/<pid>/smaps_rollup`, after warm-up and again after all rounds (by then each worker's "
        "map script cache holds the script of every ward it has drawn). PSS shares the pages the "
        "preloaded master and workers have in common; USS is what each worker holds alone."
    )
    w("")
    if pages.get("map_cache_max"):
        full = WARDS * pages["postcode_new_map_kb"] / 1024
        w(
            f"Each worker caches one map script per ward ({WARDS} wards; the cache's limit is "
            f"{pages['map_cache_max']:,}); at the measured mean of {pages['postcode_new_map_kb']:.1f} KB per "
            f"script, every ward's script together is about {full:.0f} MB per worker, whatever the requests."
        )
        w("")
    w("| server | when | process | RSS | PSS | USS |")
    w("|---|---|---|---|---|---|")
    for name in ("sync", "gthread"):
        for when in ("mem_warm", "mem_after"):
            mem = srv[name][when]
            procs = [("master", mem["master"])] + [(f"worker {i + 1}", x) for i, x in enumerate(mem["workers"])]
            for label, x in procs:
                w(
                    f"| {name} | {'after warm-up' if when == 'mem_warm' else 'after all rounds'} | {label} | "
                    f"{x['rss']:.0f} MB | {x['pss']:.0f} MB | {x['uss']:.0f} MB |"
                )
    w("")

    w(
        "After the rounds, each server was sent every one of "
        f"{srv['sync']['points']['distinct']:,} distinct places (half postcode searches, half "
        '"use my location" points) at least once. What a request carries is never cached: the map script '
        "cache holds one script per ward (704 at most, about 10 KB each, so under 8 MB), whatever the requests."
    )
    w("")
    w("| server | requests | largest worker RSS before | after | growth |")
    w("|---|---|---|---|---|")
    for name in ("sync", "gthread"):
        before = max(x["rss"] for x in srv[name]["mem_after"]["workers"])
        after = max(x["rss"] for x in srv[name]["mem_points"]["workers"])
        requests = srv[name]["points"]["requests"]
        w(f"| {name} | {requests:,} | {before:.0f} MB | {after:.0f} MB | {after - before:+.0f} MB |")
    w("")

    if results.get("profiles"):
        w("## 7. Where the time goes")
        w("")
        w(
            "pyinstrument call trees of in-process requests (Flask test client; wall-clock samples, so other "
            "processes' load inflates every figure alike; frames under 2% hidden)."
        )
        w("")
        for name, text in results["profiles"].items():
            w(f"<details><summary>{name}</summary>")
            w("")
            w("```")
            w(text)
            w("```")
            w("")
            w("</details>")
            w("")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short smoke run; writes no file unless --output")
    parser.add_argument("--output", type=Path, help="report file (default BENCHMARKS.md; none with --quick)")
    parser.add_argument("--workdir", type=Path, help="scratch folder for pid files, logs and Lua scripts")
    parser.add_argument("--rounds", type=int, help="server rounds (default 3; 1 with --quick)")
    parser.add_argument("--seconds", type=float, help="seconds per health/lookup run (default 10)")
    parser.add_argument("--page-seconds", type=float, help="seconds per page/map run (default 5)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("child_args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child == "cold":
        print(json.dumps(child_cold(float(args.child_args[0]))))
        return 0
    if args.child == "national":
        print(json.dumps(child_national(args.child_args == ["quick"])))
        return 0

    args.rounds = args.rounds or (1 if args.quick else 3)
    args.seconds = args.seconds or (2 if args.quick else 10)
    args.page_seconds = args.page_seconds or (1 if args.quick else 5)
    for limit, value in (("rounds", args.rounds), ("seconds", args.seconds), ("page-seconds", args.page_seconds)):
        if not 0 < value <= (10 if limit == "rounds" else 60):
            parser.error(f"--{limit} out of range")
    if not 1 <= args.connections <= 256:
        parser.error("--connections out of range (1-256)")
    output = args.output or (None if args.quick else ROOT / "BENCHMARKS.md")
    if not shutil.which("wrk"):
        parser.error("wrk is not installed (scripts/bench installs it: apt-get install wrk)")

    for name, value in SERVER_ENV.items():
        os.environ[name] = value
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="finder-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine(), "load_start": loadavg()}
    m = results["machine"]
    log(f"{m['cpu']}, {m['usable_cpus']} cores, {m['ram_gib']} GiB, Python {m['python']}, commit {m['commit']}")
    log(f"load average {results['load_start']}; {'quick smoke run' if args.quick else 'full run, about 8 minutes'}")

    results["cold"] = bench_cold(args.quick)

    global _APP
    _APP, lookup = make_app()
    results["london"] = bench_london(lookup, args.quick)

    log("national index: a fresh process loads, searches and copies gb_postcodes.npy")
    results["national"] = nat = run_child("national", *(["quick"] if args.quick else []), timeout=300)
    log(
        f"  GB: find {nat['gb_find_rate']:,.0f}/s, find_many {nat['gb_find_many_rate']:,.0f}/s, "
        f"load (mmap) {nat['gb_load_mmap_ms']:.2f} ms, resident when touched {nat['gb_mmap_resident_mb']:.0f} MB"
    )

    results["pages"] = bench_pages(_APP, lookup, args.quick)
    results["profiles"] = profile_requests(_APP, lookup, args.quick)
    results["servers"] = bench_servers(lookup, workdir, args)
    results["load_end"] = loadavg()
    results["run_s"] = time.perf_counter() - started

    report = render(results, args)
    if output:
        output.write_text(report, encoding="utf-8")
        log(f"wrote {output} ({results['run_s'] / 60:.1f} min)")
    else:
        print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
