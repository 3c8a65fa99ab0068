"""Benchmark officers' editing against residents' lookups, and print a markdown section for BENCHMARKS.md.

1. JSON lookups under gunicorn (2 sync workers, production settings, a SQLite store with the sample
   teams, the team cache on as deployed) against the same server's /api/v1/health, in alternating
   rounds: first with nobody editing, then while a signed-in ward editor saves a change 5 times a
   second through the staff pages (real HTTP, CSRF tokens, versions). Reported: the lookup/health
   ratio each way, and the editor's save times.
2. From approval to residents: a borough admin approves a waiting change over HTTP; the resident API
   is polled until the first worker answers with it and until every answer does (the other worker
   shows it when its team cache expires: FINDER_TEAM_CACHE_SECONDS, here 30).

Usage: .venv/bin/python scripts/bench_editing.py [--quick] [--output FILE]. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import pyotp  # noqa: E402
import requests  # noqa: E402
from bench import Server, make_app, write_lua, wrk  # noqa: E402
from bench import live_postcodes as answered  # noqa: E402

from finder.store import Store  # noqa: E402
from finder.store.migrate import upgrade  # noqa: E402
from finder.store.models import utcnow  # noqa: E402
from finder.store.staff import BoroughSetting  # noqa: E402
from finder.teams.samples import load_sample_teams  # noqa: E402
from tests.store.teamdata import FORCE_NAMES, SAMPLE_WARD  # noqa: E402
from tests.support.staff import PASSWORD, WESTMINSTER, make_user  # noqa: E402

CACHE_SECONDS = 30
SAVES_PER_SECOND = 5


def log(message: str) -> None:
    print(f"[bench-editing {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Staff:
    """A signed-in staff member's browser: a session with cookies, reading CSRF tokens from the forms."""

    def __init__(self, base: str, email: str, totp_secret: str | None = None) -> None:
        self.base, self.http = base, requests.Session()
        self.http.trust_env = False  # never through a proxy
        token = self.token("/admin/sign-in")
        self.request("POST", "/admin/sign-in", data={"csrf_token": token, "email": email, "password": PASSWORD})
        if totp_secret:
            token = self.token("/admin/sign-in/code")
            code = pyotp.TOTP(totp_secret).now()
            step = {"csrf_token": token, "code": code}
            self.request("POST", "/admin/sign-in/code", data=step)
        home = self.request("GET", "/admin/")
        assert home.status_code == 200, f"could not sign in {email}: {home.status_code}"

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """One request, no redirects followed. Production marks the session cookie Secure and this client
        talks plain http to 127.0.0.1, so it keeps sending it (the server is unchanged)."""
        response = self.http.request(method, self.base + path, allow_redirects=False, **kwargs)
        for cookie in self.http.cookies:
            cookie.secure = False
        return response

    def token(self, path: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', self.request("GET", path).text).group(1)

    def route_form(self) -> tuple[str, dict[str, str]]:
        """The team phone's form on the ward page: its action and fields (with the version it was opened at)."""
        html = self.request("GET", f"/admin/wards/{SAMPLE_WARD}").text
        forms = re.findall(r"<form class=\"record-form\".*?</form>", html, re.S)
        form = next(f for f in forms if 'value="phone" selected' in f)
        action = re.search(r'action="([^"]+)"', form).group(1)
        fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form))
        fields.update(re.findall(r'<select[^>]*name="([^"]+)"[^>]*>.*?<option value="([^"]+)" selected', form, re.S))
        return action, fields

    def save_phone(self, number: str) -> int:
        action, fields = self.route_form()
        fields.update(value=number, note="benchmark")
        return self.request("POST", action, data=fields).status_code


def live_postcodes(count: int) -> list[str]:
    """`count` postcodes the finder answers, URL-ready (as scripts/bench.py picks them)."""
    _, lookup = make_app()
    return [pc.replace(" ", "%20") for pc in answered(lookup, count)]


def rate(server: Server, script: Path, seconds: int) -> float:
    """Requests a second under wrk (8 connections); any error stops the benchmark."""
    result = wrk(server, script, seconds, 8)
    if result["errors"]:
        raise RuntimeError(f"wrk saw {result['errors']} errors")
    return result["rps"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short round (a smoke test)")
    parser.add_argument("--output", type=Path, help="also write the markdown section to this file")
    args = parser.parse_args()
    rounds, seconds = (1, 3) if args.quick else (3, 8)

    workdir = Path(tempfile.mkdtemp(prefix="finder-bench-editing-"))
    store = Store(f"sqlite:///{workdir / 'finder.db'}")
    upgrade(store)
    load_sample_teams(store, FORCE_NAMES)
    make_user(store, "editor@example.org", "ward_editor", name="Bench Editor", wards=[SAMPLE_WARD])
    secret = pyotp.random_base32()
    make_user(
        store, "admin@example.org", "borough_admin", name="Bench Admin", borough_code=WESTMINSTER, totp_secret=secret
    )
    store.dispose()

    env = {
        "DATABASE_URL": f"sqlite:///{workdir / 'finder.db'}",
        "FINDER_RATE_LIMIT": "off",
        "FINDER_TEAM_CACHE_SECONDS": str(CACHE_SECONDS),
    }
    server = Server("editing", ["--workers", "2"], workdir, env)
    try:
        server.start()
        base = f"http://127.0.0.1:{server.port}"
        # https is what a deployment's cookies expect (Secure); here plain http on 127.0.0.1
        health = write_lua(workdir, "health", ["/api/v1/health"])
        lookup = write_lua(workdir, "lookup", [f"/api/v1/postcodes/{pc}" for pc in live_postcodes(2000)])
        editor = Staff(base, "editor@example.org")
        rate(server, health, 2), rate(server, lookup, 2)  # warm up

        ratios: dict[str, list[float]] = {"quiet": [], "editing": []}
        save_ms: list[float] = []
        statuses: list[int] = []
        for r in range(rounds):
            for mode in ("quiet", "editing") if r % 2 == 0 else ("editing", "quiet"):
                stop = threading.Event()

                def edit(stop: threading.Event = stop) -> None:
                    n = 0
                    while not stop.is_set():
                        started = time.perf_counter()
                        statuses.append(editor.save_phone(f"020 7946 {n % 10000:04d}"))
                        save_ms.append((time.perf_counter() - started) * 1000)
                        n += 1
                        stop.wait(max(0.0, 1 / SAVES_PER_SECOND - (time.perf_counter() - started)))

                thread = threading.Thread(target=edit, daemon=True)
                if mode == "editing":
                    thread.start()
                pair = [rate(server, health, seconds), rate(server, lookup, seconds)]
                stop.set()
                if mode == "editing":
                    thread.join(timeout=10)
                ratios[mode].append(pair[1] / pair[0])
                log(f"round {r + 1} {mode}: lookup {pair[1]:.0f}, health {pair[0]:.0f} req/s = {pair[1] / pair[0]:.0%}")
        saved = sum(1 for s in statuses if s == 302)

        # From approval to residents: review on, the editor saves, the admin approves, residents poll.
        with store.session() as session:
            session.add(BoroughSetting(borough_code=WESTMINSTER, review_required=True, changed_at=utcnow()))
        number, e164 = "020 7946 9876", "+442079469876"
        assert editor.save_phone(number) == 302
        admin = Staff(base, "admin@example.org", secret)
        queue = admin.request("GET", "/admin/review").text
        pending = re.search(r'action="/admin/review/(\d+)"', queue).group(1)
        resident = requests.Session()
        resident.trust_env = False

        def shows() -> bool:
            team = resident.get(f"{base}/api/v1/wards/{SAMPLE_WARD}").json()["team"]
            return e164 in [r["value"] for r in team["contact_routes"]]

        for _ in range(40):  # both workers read and cache the team before the approval
            assert not shows()
        decision = {"csrf_token": admin.token("/admin/review"), "decision": "approve"}
        approved = time.perf_counter()
        admin.request("POST", f"/admin/review/{pending}", data=decision)
        first = every = None
        streak = 0
        while time.perf_counter() - approved < CACHE_SECONDS + 15:
            if shows():
                first = first if first is not None else time.perf_counter() - approved
                streak += 1
                if streak >= 40:  # 40 answers in a row, from both workers
                    every = time.perf_counter() - approved
                    break
            else:
                streak = 0
            time.sleep(0.05)
    finally:
        server.stop()
        store.dispose()

    quiet, editing = statistics.median(ratios["quiet"]), statistics.median(ratios["editing"])
    lines = [
        "## Officers' editing beside residents' lookups",
        "",
        f"gunicorn, 2 sync workers, production settings, SQLite store with the sample teams, team cache "
        f"{CACHE_SECONDS} s; wrk -c8 on 127.0.0.1; {rounds} rounds of {seconds} s, quiet and editing alternating. "
        f"The editor is a signed-in ward editor saving the team phone through the staff pages "
        f"{SAVES_PER_SECOND} times a second (each save: read the form, POST it with its version and CSRF token).",
        "",
        "| | JSON lookup ÷ health, median | rounds |",
        "|---|---|---|",
        f"| nobody editing | {quiet:.0%} | {', '.join(f'{x:.0%}' for x in ratios['quiet'])} |",
        f"| an editor saving {SAVES_PER_SECOND}/s | {editing:.0%} | "
        f"{', '.join(f'{x:.0%}' for x in ratios['editing'])} |",
        "",
        f"- Saves: {saved} of {len(statuses)} accepted (302); form read + save p50 "
        f"{statistics.median(save_ms):.0f} ms, p99 {statistics.quantiles(save_ms, n=100)[98]:.0f} ms.",
        f"- From an admin's approval to residents: first answer with the change after "
        f"{first if first is not None else float('nan'):.2f} s (the approving worker forgets its cached team at once); "
        + (
            f"every answer after {every:.1f} s (the other worker's team cache, {CACHE_SECONDS} s, expiring)."
            if every is not None
            else f"not every answer within {CACHE_SECONDS + 15} s."
        ),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.output:
        args.output.write_text(text)


if __name__ == "__main__":
    main()
