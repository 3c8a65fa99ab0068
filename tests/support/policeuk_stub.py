"""A local stand-in for data.police.uk: a real HTTP server on 127.0.0.1 for tests, benchmarks and demos.

It answers the endpoints the sync reads, in the real API's shapes (../shared/data-raw/SOURCES.md §4):

    GET /api/{force}/neighbourhoods                   [{id, name}]
    GET /api/{force}/{id}                             details, with contact_details, centre, locations
    GET /api/{force}/{id}/people|events|priorities    lists
    GET /api/{force}/{id}/boundary                    [{latitude, longitude}] (strings), when given
    GET /api/forces/{force}                           the force, with engagement_methods, when given

and behaves like the real service where it matters to a client: a leaky-bucket rate limit (15 a
second, bursts of 30) answered with 429 and Retry-After, scripted failures (a 429 or a 500 before
success, or a neighbourhood that keeps failing), 404 for what it does not know, and a log of
every request. `fake_force` generates neighbourhoods in those shapes, with the real data's mess
(string coordinates, HTML bios, nulls, missing keys, hyphenated priority keys, "N"-suffixed ids).
Everything it generates is fictional.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit


@dataclass
class Fault:
    """A scripted answer: an HTTP status, its headers, and an optional body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


@dataclass
class StubRequest:
    """One request the stub answered."""

    at: float
    path: str
    status: int


class LeakyBucket:
    """The API's limit as the server sees it: each request adds 1, the bucket drains at `rate` a second."""

    def __init__(self, rate: float = 15.0, burst: float = 30.0) -> None:
        self.rate, self.burst = rate, burst
        self.level, self.updated = 0.0, time.monotonic()
        self.lock = threading.Lock()

    def admit(self) -> bool:
        """Take one request, or refuse it (the bucket is full)."""
        with self.lock:
            now = time.monotonic()
            self.level = max(0.0, self.level - (now - self.updated) * self.rate)
            self.updated = now
            if self.level + 1 > self.burst + 1e-9:
                return False
            self.level += 1
            return True


@dataclass
class StubData:
    """What the stub serves, per force: the list, and each neighbourhood's four responses."""

    neighbourhoods: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    details: dict[tuple[str, str], Any] = field(default_factory=dict)
    people: dict[tuple[str, str], Any] = field(default_factory=dict)
    events: dict[tuple[str, str], Any] = field(default_factory=dict)
    priorities: dict[tuple[str, str], Any] = field(default_factory=dict)
    boundaries: dict[tuple[str, str], Any] = field(default_factory=dict)
    forces: dict[str, Any] = field(default_factory=dict)

    def add(
        self,
        force: str,
        details: dict[str, Any],
        people: Any = (),
        events: Any = (),
        priorities: Any = (),
        *,
        listed_name: str | None = None,
    ) -> None:
        """Serve one neighbourhood (listed under `listed_name`, default its details' name)."""
        nid = details["id"]
        self.neighbourhoods.setdefault(force, []).append({"id": nid, "name": listed_name or details.get("name")})
        key = (force, nid)
        self.details[key] = details
        self.people[key] = list(people) if isinstance(people, tuple) else people
        self.events[key] = list(events) if isinstance(events, tuple) else events
        self.priorities[key] = list(priorities) if isinstance(priorities, tuple) else priorities


class PoliceUKStub:
    """The server. Use as a context manager; `url` is the API base, like http://127.0.0.1:PORT/api."""

    def __init__(self, data: StubData, *, rate: float = 15.0, burst: float = 30.0, latency: float = 0.0) -> None:
        self.data = data
        self.bucket = LeakyBucket(rate, burst)
        self.latency = latency
        self.faults: dict[str, deque[Fault]] = {}
        self.broken: set[str] = set()  # paths that answer 500 until removed
        self.log: list[StubRequest] = []
        self.on_request: Callable[[str], None] | None = None
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            """Hands each GET to the stub."""

            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # the name http.server calls
                stub._handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                """Quiet: the stub keeps its own log."""
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="policeuk-stub", daemon=True)

    @property
    def url(self) -> str:
        """The API base URL, like http://127.0.0.1:PORT/api."""
        return f"http://127.0.0.1:{self.server.server_port}/api"

    def __enter__(self) -> PoliceUKStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def fail(self, path: str, *faults: Fault) -> None:
        """Answer the next requests for `path` (like "/api/metropolitan/E05013806N/people") with `faults`."""
        self.faults.setdefault(path, deque()).extend(faults)

    def paths(self, status: int | None = None) -> list[str]:
        """The paths requested so far (those answered with `status`, if given)."""
        with self.lock:
            return [r.path for r in self.log if status is None or r.status == status]

    def count(self, status: int) -> int:
        """How many requests were answered with `status`."""
        return len(self.paths(status))

    def _answer(self, path: str) -> tuple[int, dict[str, str], str]:
        if not self.bucket.admit():
            return 429, {"Retry-After": "1"}, "Too Many Requests"
        queued = self.faults.get(path)
        if queued:
            fault = queued.popleft()
            return fault.status, fault.headers, fault.body
        if path in self.broken:
            return 500, {}, "Internal Server Error"
        parts = [unquote(p) for p in path.split("/") if p]
        if len(parts) < 3 or parts[0] != "api":
            return 404, {}, ""
        force, rest = parts[1], parts[2:]
        if force == "forces" and len(rest) == 1:
            found = self.data.forces.get(rest[0])
            return (200, {}, json.dumps(found)) if found is not None else (404, {}, "")
        if rest == ["neighbourhoods"]:
            found = self.data.neighbourhoods.get(force)
            return (200, {}, json.dumps(found)) if found is not None else (404, {}, "")
        key = (force, rest[0])
        if key not in self.data.details:
            return 404, {}, ""
        if len(rest) == 1:
            return 200, {}, json.dumps(self.data.details[key])
        table = {"people": self.data.people, "events": self.data.events, "priorities": self.data.priorities}
        if len(rest) == 2 and rest[1] in table:
            return 200, {}, json.dumps(table[rest[1]].get(key, []))
        if rest[1:] == ["boundary"] and key in self.data.boundaries:
            return 200, {}, json.dumps(self.data.boundaries[key])
        return 404, {}, ""

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        path = urlsplit(handler.path).path
        if self.on_request is not None:
            self.on_request(path)
        if self.latency:
            time.sleep(self.latency)
        status, headers, body = self._answer(path)
        with self.lock:
            self.log.append(StubRequest(time.monotonic(), path, status))
        data = body.encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json" if status == 200 else "text/plain")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)


def boundary_of(rings: Iterable[Iterable[tuple[float, float]]]) -> list[dict[str, str]]:
    """(lon, lat) rings as police.uk gives a boundary: one list of string lat/lng points, rings one after another."""
    return [{"latitude": f"{lat:.6f}", "longitude": f"{lon:.6f}"} for ring in rings for lon, lat in ring]


FIRST = ["Alex", "Sam", "Jo", "Chris", "Priya", "Tomasz", "Amara", "Dean", "Ruth", "Colm", "Hana", "Ife", "Wen"]
LAST = ["Example", "Sampleton", "Fictive", "Placeholder", "Madeup", "Notreal", "Testwood", "Mockford"]
RANKS = ["Sgt", "Sergeant", "PC", "Police Constable", "PCSO", "Police Community Support Officer", "SC", None]


def fake_force(
    force: str,
    wards: Iterable[tuple[str, str]],
    *,
    data: StubData | None = None,
    seed: int = 1,
    extra: int = 0,
    today: datetime | None = None,
) -> StubData:
    """Fictional neighbourhoods for `wards` ((code, name) pairs) in the real API's shapes, plus `extra` unmatched."""
    rng = random.Random(seed)
    data = data or StubData()
    today = (today or datetime.now()).replace(hour=0, minute=0, second=0, microsecond=0)
    items = [(code, name) for code, name in wards]
    items += [(f"X{force[:3].upper()}{i:03d}", f"Transport hub {i} (fictional)") for i in range(extra)]
    for n, (code, name) in enumerate(items):
        nid = code + ("N" if code.startswith("E05") and n % 3 == 0 else "")
        slug = "".join(c for c in name.lower() if c.isalnum())
        details: dict[str, Any] = {
            "id": nid,
            "name": name,
            "description": f"<p>The {name} team (<b>fictional</b>).</p><p>We listen &amp; act.</p>",
            "url_force": f"https://example.org/{force}/{slug}",
            "population": str(rng.randint(8000, 16000)),
            "centre": {
                "latitude": f"{51.3 + rng.random() * 0.4:.6f}",
                "longitude": f"{-0.45 + rng.random() * 0.6:.6f}",
            },
            "links": [{"url": "https://example.org/council", "title": "Council", "description": None}],
            "contact_details": {
                "email": f"{slug}.snt@example.org",
                "telephone": f"020 7946 0{n % 1000:03d}",
                "twitter": f"https://x.example.com/{slug}",
            },
            "locations": [
                {
                    "name": f"Example station {n % 97} (fictional)",
                    "type": "station",
                    "address": f"{n % 97} Example Road\n, London",
                    "postcode": None,
                    "latitude": f"{51.3 + (n % 97) / 250:.5f}",
                    "longitude": f"{-0.45 + (n % 89) / 150:.5f}",
                    "description": "<p>Front counter: Monday to Friday 9am to 5pm</p>",
                }
            ],
        }
        if n % 7 == 0:
            del details["contact_details"]["twitter"]
            details["contact_details"]["facebook"] = None
        if n % 11 == 0:
            details["locations"][0]["latitude"] = None  # a station with no coordinates
        people = [
            {
                "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "rank": rank,
                "bio": rng.choice([None, "<p>Joined in 2015.</p>", "<script>alert(1)</script>Bio <i>text</i>"]),
                "contact_details": {},
            }
            for rank in rng.sample(RANKS, k=rng.randint(2, 5))
        ]
        events = [
            {
                "title": rng.choice(["Ward panel", "Street surgery", "Cuppa with a copper", "Crime prevention stall"]),
                "description": "<p>All welcome.</p>" if rng.random() < 0.5 else None,
                "address": f"{rng.randint(1, 200)} Example Street",
                "type": rng.choice(["meeting", None, "other"]),
                "start_date": (today + timedelta(days=rng.randint(1, 60), hours=18)).strftime("%Y-%m-%dT%H:%M:%S"),
                "end_date": None,
                "contact_details": {},
            }
            for _ in range(rng.randint(0, 3))
        ]
        priorities = [
            {
                "issue": f"<p>Priority {k + 1} for {name}: antisocial behaviour.</p>",
                "issue-date": (today - timedelta(days=rng.randint(10, 200))).strftime("%Y-%m-%dT00:00:00"),
                "action": rng.choice([None, "<p>Patrols increased.</p>"]),
                "action-date": None,
            }
            for k in range(rng.randint(0, 2))
        ]
        data.add(force, details, people, events, priorities)
    return data
