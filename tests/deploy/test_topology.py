"""Several instances behind a proxy (issue 28): deploy/run-local starts HAProxy, three finder instances,
PostgreSQL and Redis on this machine, from Debian's packages, as deploy/compose.yaml lays them out.

Marked `deploy` (about a minute, three instances' geodata in memory): `pytest -m deploy`. Load stays on
127.0.0.1, bounded in count and time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from finder.config import ROOT

pytestmark = pytest.mark.deploy
RUN_LOCAL = ROOT / "deploy" / "run-local"
PATHS = ("/api/v1/postcodes/SW1A 1AA", "/wards/E05013806", "/api/v1/wards/E05013806", "/api/v1/postcodes/E1 6AN")
API_ROUTE = "/api/v1/postcodes/<path:postcode>"
# The load comes from one address, 127.0.0.1: a limit it cannot reach (the shared count is checked apart).
UNLIMITED = {"FINDER_RATE_LIMIT": "100000/minute"}
SECRETS = ("SW1A 1AA", "SW1A1AA", "SW1A%201AA", "E1 6AN", "E16AN", "198.51.100.23")


class Topology:
    def __init__(self, folder: Path, process: subprocess.Popen) -> None:
        self.folder = folder
        self.process = process
        self.env = dict(
            line.split("=", 1) for line in (folder / "topology.env").read_text().splitlines() if "=" in line
        )
        self.proxy = f"http://127.0.0.1:{self.env['PROXY_PORT']}"

    def instance(self, i: int) -> str:
        return f"http://127.0.0.1:{self.env[f'FINDER{i}_PORT']}"

    def metrics(self, i: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        text = requests.get(f"http://127.0.0.1:{self.env[f'FINDER{i}_METRICS_PORT']}/metrics", timeout=5).text
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    def answered(self, route: str) -> float:
        """How many requests for `route` (a route pattern) the instances in rotation have answered between them."""
        up = [int(name[-1]) for name, state in self.server_states().items() if state == "UP"]
        return sum(
            value
            for i in up
            for (name, labels), value in self.metrics(i).items()
            if name == "finder_request_duration_seconds_count" and ("route", route) in labels
        )

    def server_states(self) -> dict[str, str]:
        """HAProxy's view of each instance (UP, DOWN, ...), from its stats socket."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(self.env["HAPROXY_SOCKET"])
            sock.sendall(b"show stat\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        lines = data.decode().splitlines()
        header = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
        return {r["svname"]: r["status"] for r in rows if r["pxname"] == "finder" and r["svname"].startswith("finder")}


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    folder = tmp_path_factory.mktemp("deploy")
    out = (folder / "run-local.out").open("w")
    process = subprocess.Popen(
        [str(RUN_LOCAL)],
        env={**os.environ, "FINDER_DEPLOY_DIR": str(folder), **UNLIMITED},
        stdout=subprocess.PIPE,
        stderr=out,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "ready http://…" once every instance is ready behind the proxy
        assert line.startswith("ready "), (folder / "run-local.out").read_text()[-3000:]
        yield Topology(folder, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        out.close()
        if process.stdout is not None:
            process.stdout.close()


def fetch(topology: Topology, path: str, failures: list[str]) -> None:
    """GET `path` through the proxy; anything but a 200 is added to `failures`, saying what came instead."""
    try:
        response = requests.get(topology.proxy + path, timeout=10)
        if response.status_code != 200:
            failures.append(f"{path}: {response.status_code}")
    except requests.RequestException as exc:
        failures.append(f"{path}: {exc}")


def test_killing_an_instance_mid_load_cuts_short_at_most_the_answer_it_was_writing_and_it_rejoins_once_ready(topology):
    failures: list[str] = []
    done = threading.Event()
    count = 0

    def get(n: int) -> None:
        nonlocal count
        fetch(topology, PATHS[n % len(PATHS)], failures)
        count += 1

    victim = int(topology.env["FINDER2_PID"])

    def kill_mid_load() -> None:
        while count < 150 and not done.is_set():
            time.sleep(0.01)
        os.killpg(victim, signal.SIGKILL)  # the instance's master and its workers, mid-answer

    killer = threading.Thread(target=kill_mid_load)
    killer.start()
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(get, range(600)))
    done.set()
    killer.join()
    took = time.monotonic() - started
    # The one answer the killed worker may have been writing: gunicorn sends its headers and its body in two
    # writes, and a kill between them leaves an answer HAProxy has begun to pass on, which no proxy can retry
    # (HAProxy's retries end when an answer's headers arrive: deploy/README.md, "Nothing lost when one dies").
    cut_short = [f for f in failures if "IncompleteRead" in f]
    assert failures == cut_short and len(cut_short) <= 1, failures[:5]
    assert count == 600 and took < 120
    deadline = time.monotonic() + 10
    while topology.server_states().get("finder2") == "UP":
        assert time.monotonic() < deadline, "HAProxy still sends to the killed instance"
        time.sleep(0.2)

    # Restarted, it takes traffic only once its /readyz says so.
    log = (topology.folder / "finder2-restarted.log").open("wb")
    restarted = subprocess.Popen(
        [str(RUN_LOCAL), "instance", "2", str(topology.folder)], stdout=log, stderr=log, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            state = topology.server_states()["finder2"]
            if state == "UP":
                assert requests.get(topology.instance(2) + "/readyz", timeout=5).status_code == 200
                break
            assert time.monotonic() < deadline, f"the restarted instance did not rejoin: {state}"
            time.sleep(0.2)
        served = [requests.get(topology.proxy + PATHS[0], timeout=10).status_code for _ in range(9)]
        assert served == [200] * 9
        assert any(
            value > 0
            for (name, labels), value in topology.metrics(2).items()
            if name == "finder_request_duration_seconds_count"
            and ("route", "/api/v1/postcodes/<path:postcode>") in labels
        ), "the restarted instance answered no lookup through the proxy"
    finally:
        restarted.terminate()  # SIGTERM: drains and stops
        restarted.wait(timeout=30)
        log.close()


def test_one_rate_limit_count_is_shared_by_every_instance_through_redis(topology):
    client = {"X-Forwarded-For": "198.51.100.23"}  # as HAProxy would forward one client's address
    remaining = [
        int(
            requests.get(topology.instance(i) + "/api/v1/postcodes/E1 6AN", headers=client, timeout=5).headers[
                "RateLimit-Remaining"
            ]
        )
        for i in (1, 3, 1, 3)
    ]
    first = remaining[0]
    assert remaining == [first, first - 1, first - 2, first - 3]


def test_metrics_move_and_no_log_holds_a_postcode_or_a_client_address(topology):
    before = topology.metrics(1)
    for _ in range(12):
        assert requests.get(topology.proxy + PATHS[0], timeout=10).status_code == 200
    after = topology.metrics(1)
    key = ("finder_lookups_total", (("kind", "postcode"), ("outcome", "ward")))
    assert after.get(key, 0) - before.get(key, 0) >= 3  # round robin over three: its share, at least
    release = json.loads((topology.folder / "geodata" / "manifest.json").read_text())["codepoint_version"]
    assert after[("finder_geodata_info", (("codepoint_version", release),))] == 1  # which postcode release it serves

    for log in topology.folder.glob("*.log"):
        text = log.read_text("utf-8", "replace")
        text = re.sub(r"https?://127\.0\.0\.1:\d+", "", text)  # the parts' own listening addresses
        for secret in SECRETS:
            assert secret not in text, (log.name, secret)
    proxy_log = (topology.folder / "haproxy.log").read_text()
    assert "haproxy GET 200 finder/finder" in proxy_log  # it does log requests, without path or client
    assert "/api/" not in proxy_log and "127.0.0.1" not in proxy_log


def early_in_a_second() -> None:
    """Wait for the start of a second: the proxy ends its copies when the second they expire in begins."""
    while not 0.02 < time.time() % 1 < 0.4:
        time.sleep(0.01)


def test_a_ward_page_asked_twice_within_a_second_reaches_an_instance_once_and_each_language_is_kept_apart(topology):
    ward = f"{topology.proxy}/wards/E05013806"
    english, polish = {"Accept-Language": "en-GB,en;q=0.9"}, {"Accept-Language": "pl-PL,pl;q=0.9"}
    time.sleep(1.1)  # nothing kept from an earlier test
    early_in_a_second()
    before = topology.answered("/wards/<code>")
    first = requests.get(ward, headers=english, timeout=5)
    second = requests.get(ward, headers=english, timeout=5)
    in_polish = requests.get(ward, headers=polish, timeout=5)
    in_english = requests.get(ward, headers=english, timeout=5)
    assert "X-Cache" not in first.headers and second.headers["X-Cache"] == "HIT"
    assert second.text == first.text and '<html lang="en"' in second.text
    assert "X-Cache" not in in_polish.headers and '<html lang="pl"' in in_polish.text  # not the English copy
    assert in_english.headers["X-Cache"] == "HIT" and '<html lang="en"' in in_english.text
    assert in_english.headers["Vary"] == "Accept-Encoding, Accept-Language"  # the finder's, for browsers
    assert topology.answered("/wards/<code>") - before == 2  # the first English and the Polish

    time.sleep(1.05)  # a copy lives a second at most
    assert "X-Cache" not in requests.get(ward, headers=english, timeout=5).headers


def test_a_fingerprinted_static_file_is_served_from_the_proxys_memory_long_after_a_second(topology):
    page = requests.get(f"{topology.proxy}/wards/E05013806", timeout=5).text
    styles = re.findall(r'href="(/static/[^"?]+\.[0-9a-f]{12}\.css)"', page)
    assert styles, "the ward page names no fingerprinted stylesheet"
    url = topology.proxy + styles[0]
    brotli = {"Accept-Encoding": "br"}
    for headers in ({}, brotli):  # kept from here (the compressed copy apart: Vary), if not already
        assert requests.get(url, headers=headers, timeout=5).status_code == 200
    time.sleep(1.2)  # past the one-second copies of pages
    for headers in ({}, brotli, {"Cookie": "session=a-staff-member"}):
        again = requests.get(url, headers=headers, timeout=5)
        assert again.status_code == 200 and again.headers.get("X-Cache") == "HIT", headers
        assert "immutable" in again.headers["Cache-Control"] and int(again.headers["Age"]) >= 1
    assert requests.get(url, headers=brotli, timeout=5).headers["Content-Encoding"] == "br"
    plain = requests.get(topology.proxy + "/static/favicon.ico", timeout=5)  # not fingerprinted: a second at most
    assert plain.status_code == 200 and "immutable" not in plain.headers.get("Cache-Control", "")


def test_the_proxy_keeps_no_postcode_or_point_answer_no_search_no_staff_page_and_nothing_asked_with_a_cookie(
    topology,
):
    asked = {
        "/api/v1/postcodes/SW1A 1AA": {},
        "/api/v1/locate?lat=51.5014&lon=-0.1419": {},
        "/search?postcode=SW1A 1AA": {},
        "/wards/E05013806?from=location": {},
        "/wards/E05013806": {"Cookie": "session=a-staff-member"},
        "/admin/sign-in": {},
    }
    early_in_a_second()
    before = topology.answered("/api/v1/postcodes/<path:postcode>")
    for path, headers in asked.items():
        for _ in range(2):
            response = requests.get(topology.proxy + path, headers=headers, allow_redirects=False, timeout=5)
            assert response.status_code in (200, 303), (path, response.status_code)
            assert "X-Cache" not in response.headers and "Age" not in response.headers, path
    assert topology.answered("/api/v1/postcodes/<path:postcode>") - before == 2


class Browser:
    """A staff member's browser at one instance, as if through the proxy over https (FINDER_PROXIES=1 trusts the
    forwarded scheme): the Secure session cookie is carried by hand, as requests keeps it for https only."""

    def __init__(self, base: str, address: str = "198.51.100.23") -> None:
        self.base = base
        self.address = address
        self.cookie = ""

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": self.address, "Host": "127.0.0.1"}
        headers["Referer"] = f"https://127.0.0.1{path}"  # Flask-WTF's same-origin check on https
        if self.cookie:
            headers["Cookie"] = self.cookie
        response = requests.request(
            method, self.base + path, headers=headers, allow_redirects=False, timeout=10, **kwargs
        )
        if set_cookie := response.headers.get("Set-Cookie"):
            self.cookie = set_cookie.split(";", 1)[0]
        return response

    def csrf(self, path: str) -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', self.request("GET", path).text)
        assert found, path
        return found.group(1)


def test_wrong_passwords_sent_to_two_instances_count_once_so_the_sixth_is_refused(topology):
    from finder.store import Store
    from tests.support.staff import PASSWORD, make_user

    store = Store(topology.env["DATABASE_URL"])
    try:
        make_user(store, "guessed@met.police.uk", "ward_editor")
    finally:
        store.dispose()
    browsers = [Browser(topology.instance(i), address="198.51.100.77") for i in (1, 3)]

    def sign_in(browser: Browser, password: str) -> requests.Response:
        form = {"email": "guessed@met.police.uk", "password": password, "csrf_token": browser.csrf("/admin/sign-in")}
        return browser.request("POST", "/admin/sign-in", data=form)

    for n in range(5):  # the limit for one client and one account: 5 in 15 minutes, split 3 and 2
        refused = sign_in(browsers[n % 2], "not the password")
        assert refused.status_code != 302 and "Too many failed attempts" not in refused.text, n
    throttled = sign_in(browsers[1], PASSWORD)  # even the right password, from this client, for now
    assert throttled.status_code != 302 and "Too many failed attempts to sign in" in throttled.text


def signed_in_editor(topology: Topology, email: str) -> Browser:
    """A ward editor of the sample ward, signed in through instance 1, once every instance has read the sample
    teams (FINDER_TEAM_CACHE_SECONDS in run-local: 0.5)."""
    from finder.store import Store
    from finder.teams.samples import load_sample_teams
    from tests.store.teamdata import FORCE_NAMES, SAMPLE_WARD
    from tests.support.staff import PASSWORD, make_user

    store = Store(topology.env["DATABASE_URL"])
    try:
        load_sample_teams(store, FORCE_NAMES)
        make_user(store, email, "ward_editor", wards=[SAMPLE_WARD])
    finally:
        store.dispose()
    time.sleep(1.5)
    editor = Browser(topology.instance(1))
    form = {"email": email, "password": PASSWORD, "csrf_token": editor.csrf("/admin/sign-in")}
    signed_in = editor.request("POST", "/admin/sign-in", data=form)
    assert signed_in.status_code == 302, signed_in.text[:500]
    return editor


def test_an_edit_made_through_one_instance_is_served_by_another_within_a_second(topology):
    from tests.store.teamdata import SAMPLE_WARD

    editor = signed_in_editor(topology, "editor@met.police.uk")
    reader = topology.instance(3)
    assert requests.get(f"{reader}/api/v1/wards/{SAMPLE_WARD}", timeout=5).json()["team_status"] == "loaded"

    new_email = "st.jamess.edit@met.police.uk"
    saved = editor.request(
        "POST",
        f"/admin/wards/{SAMPLE_WARD}/route/new",
        data={
            "kind": "email",
            "label": "Team email",
            "value": new_email,
            "display_order": "5",
            "csrf_token": editor.csrf(f"/admin/wards/{SAMPLE_WARD}"),
        },
    )
    assert saved.status_code == 302, saved.text[:500]
    made = time.monotonic()
    while new_email not in requests.get(f"{reader}/api/v1/wards/{SAMPLE_WARD}", timeout=5).text:
        assert time.monotonic() - made < 1.0, "instance 3 still serves the team as it was, a second after the edit"
        time.sleep(0.05)
    assert new_email in requests.get(f"{reader}/wards/{SAMPLE_WARD}", timeout=5).text  # the page too


def test_an_edit_shows_through_the_proxys_kept_ward_page_within_a_second(topology):
    from tests.store.teamdata import SAMPLE_WARD

    editor = signed_in_editor(topology, "editor2@met.police.uk")
    page = f"{topology.proxy}/wards/{SAMPLE_WARD}"
    new_email = "st.jamess.proxy@met.police.uk"
    form = {"kind": "email", "label": "Team email", "value": new_email, "display_order": "6"}
    form["csrf_token"] = editor.csrf(f"/admin/wards/{SAMPLE_WARD}")
    deadline = time.monotonic() + 3
    while requests.get(page, timeout=5).headers.get("X-Cache") != "HIT":  # the proxy holds a copy
        assert time.monotonic() < deadline, "the proxy keeps no copy of the ward page"
        time.sleep(0.05)
    saved = editor.request("POST", f"/admin/wards/{SAMPLE_WARD}/route/new", data=form)
    assert saved.status_code == 302, saved.text[:500]
    made = time.monotonic()
    # Every instance hears of the edit at once (Redis); the copy made just before lives to the end of its second.
    while new_email not in (kept := requests.get(page, timeout=5)).text:
        assert time.monotonic() - made < 1.0, "the proxy still serves the page as it was, a second after the edit"
        time.sleep(0.05)
    assert kept.status_code == 200


def test_sigterm_drains_an_instance_mid_load_without_a_failed_request(topology):
    failures: list[str] = []
    answered = threading.Semaphore(0)

    def get(n: int) -> None:
        fetch(topology, PATHS[n % len(PATHS)], failures)
        answered.release()

    instance = int(topology.env["FINDER1_PID"])

    def stop_mid_load() -> None:
        for _ in range(100):
            answered.acquire()
        os.kill(instance, signal.SIGTERM)  # gunicorn's graceful stop: finish what is in hand, take nothing new

    stopper = threading.Thread(target=stop_mid_load)
    stopper.start()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(get, range(400)))
    stopper.join()
    assert failures == [], failures[:5]
    deadline = time.monotonic() + 15  # gunicorn's graceful_timeout (10 s) and a little
    while Path(f"/proc/{instance}").exists() and "zombie" not in Path(f"/proc/{instance}/status").read_text():
        assert time.monotonic() < deadline, "the instance did not stop after SIGTERM"
        time.sleep(0.2)


def test_a_new_geodata_release_is_switched_to_under_load_without_a_failed_request_and_the_old_one_is_kept(
    topology, tmp_path
):
    release = tmp_path / "geodata-next"
    shutil.copytree(ROOT / "geodata", release)  # as `finder build-geodata` beside the live one would leave it
    live = Path(os.path.realpath(topology.folder / "geodata"))
    failures: list[str] = []
    stop = threading.Event()

    def load() -> None:
        n = 0
        while not stop.is_set() and n < 2000:  # bounded, whatever happens
            fetch(topology, PATHS[n % len(PATHS)], failures)
            n += 1
            time.sleep(0.02)

    with ThreadPoolExecutor(2) as pool:
        loads = [pool.submit(load) for _ in range(2)]
        try:
            refreshed = subprocess.run(
                [str(ROOT / "deploy" / "refresh-geodata"), str(topology.folder), str(release)],
                env={**os.environ, **UNLIMITED},  # as the instances were started
                capture_output=True,
                text=True,
                timeout=300,
            )
        finally:
            stop.set()
        for done in loads:
            done.result()
    assert refreshed.returncode == 0, refreshed.stderr[-3000:]
    assert failures == [], failures[:5]
    assert Path(os.path.realpath(topology.folder / "geodata")) == release
    assert (live / "postcodes.npy").exists()  # the old release is kept until the new one is proven
    env = dict(line.split("=", 1) for line in (topology.folder / "topology.env").read_text().splitlines())
    for i in (1, 2, 3):  # each instance, restarted, has the new release's postcodes mapped, none of the old
        maps = Path(f"/proc/{env[f'FINDER{i}_PID']}/maps").read_text()
        assert str(release / "postcodes.npy") in maps and str(live) not in maps, i
