"""Prometheus metrics (prometheus_client), for operators: never a postcode, a place or a client address.

Collected when FINDER_METRICS_LISTEN is set, and served there by gunicorn's master process on a port of its
own (finder/serving.py, finder/instance.py), never through the public proxy: a scrape cannot reach them from
outside, and no route of the app serves them. Under gunicorn the workers count into files in
PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode; the variable must be set before the server
starts, as prometheus_client reads it on import) and the master adds them up for each scrape.

- finder_request_duration_seconds{route, method, status}: each request the app answered, by route pattern
  (never the path) and status; its _count is the number of requests.
- finder_lookups_total{kind, outcome}: each `Lookup.resolve`, by what was asked (postcode, point, ward) and
  what came of it (ward, outcode, or the error's code, like postcode_not_found).
- finder_rate_limit_refusals_total{limit}: requests refused by a rate limit, by its setting.
- finder_store_errors_total{during}: team store reads that failed or timed out (lookup, readiness).
- finder_sync_runs{force, status} and finder_sync_last_complete_timestamp_seconds{force}: the police.uk
  syncs recorded in the store, read at each scrape, so a sync run by cron on any machine shows here
  (finder_sync_runs_readable is 0 when the store could not be read).
- finder_geodata_info{codepoint_version}: 1, labelled with the OS Code-Point Open release the loaded postcode
  and ward data was built from (geodata/manifest.json), so an operator sees which release each instance serves
  and when a refresh has reached it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from finder.store import Store
from finder.store.models import SyncRun

log = logging.getLogger(__name__)
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"

# Buckets from a kept ward page (about 0.5 ms) to a poster PDF (about 0.25 s) and a store timeout (3 s).
REQUESTS = Histogram(
    "finder_request_duration_seconds",
    "Requests the app answered, by route pattern, method and status, and how long each took.",
    ["route", "method", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
LOOKUPS = Counter("finder_lookups_total", "Lookups, by what was asked and what came of it.", ["kind", "outcome"])
RATE_LIMIT_REFUSALS = Counter(
    "finder_rate_limit_refusals_total", "Requests refused by a rate limit, by its setting.", ["limit"]
)
STORE_ERRORS = Counter(
    "finder_store_errors_total", "Team store reads that failed or timed out, by what was reading.", ["during"]
)


READABLE = "finder_sync_runs_readable"
READABLE_HELP = "1 when this scrape could read the sync runs from the store, else 0."


class SyncRuns(Collector):
    """The police.uk syncs as the store records them, read at each scrape (a connection only for its length)."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout

    def collect(self) -> Iterator[GaugeMetricFamily]:
        runs = GaugeMetricFamily(
            "finder_sync_runs", "police.uk sync runs recorded in the store.", labels=["force", "status"]
        )
        last = GaugeMetricFamily(
            "finder_sync_last_complete_timestamp_seconds",
            "When each force's last complete police.uk sync finished (Unix time): its data's age.",
            labels=["force"],
        )
        store = Store(self.url, timeout=self.timeout)
        try:
            with store.reader() as session:
                counts = session.execute(
                    select(SyncRun.force_id, SyncRun.status, func.count()).group_by(SyncRun.force_id, SyncRun.status)
                ).all()
                finished = session.execute(
                    select(SyncRun.force_id, func.max(SyncRun.finished_at))
                    .where(SyncRun.status == "complete")
                    .group_by(SyncRun.force_id)
                ).all()
        except SQLAlchemyError as exc:
            # A gauge, not STORE_ERRORS: the master counts nothing itself (its files are emptied once it has started).
            log.warning("metrics: the sync runs could not be read (%s)", getattr(exc, "orig", None) or exc)
            yield GaugeMetricFamily(READABLE, READABLE_HELP, value=0)
            return
        finally:
            store.dispose()  # no connection kept in the master, whose later forks would inherit it
        yield GaugeMetricFamily(READABLE, READABLE_HELP, value=1)
        for force, status, count in counts:
            runs.add_metric([force, status], count)
        for force, at in finished:
            if at is not None:
                last.add_metric([force], at.timestamp())
        yield runs
        yield last


class GeodataRelease(Collector):
    """The release of the postcode and ward data this process loaded, from its build's manifest."""

    def __init__(self, manifest: dict) -> None:
        self.version = str(manifest.get("codepoint_version") or "unknown")

    def collect(self) -> Iterator[GaugeMetricFamily]:
        info = GaugeMetricFamily(
            "finder_geodata_info",
            "The OS Code-Point Open release the loaded geodata was built from.",
            labels=["codepoint_version"],
        )
        info.add_metric([self.version], 1)
        yield info


def scrape_registry(
    database_url: str | None = None, timeout: float = 3.0, geodata_manifest: dict | None = None
) -> CollectorRegistry:
    """What a scrape reads: every worker's files in PROMETHEUS_MULTIPROC_DIR (else this process), the syncs and
    the geodata's release."""
    if os.environ.get(MULTIPROC_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_ThisProcess())
    if database_url:
        registry.register(SyncRuns(database_url, timeout))
    if geodata_manifest is not None:
        registry.register(GeodataRelease(geodata_manifest))
    return registry


class _ThisProcess(Collector):
    """This process's own metrics (one process, no PROMETHEUS_MULTIPROC_DIR: tests and the development server)."""

    def collect(self):
        return REGISTRY.collect()


def address(listen: str) -> tuple[str, int]:
    """FINDER_METRICS_LISTEN as (host, port): "9464" is 127.0.0.1:9464; "0.0.0.0:9464" listens everywhere."""
    host, _, port = listen.rpartition(":")
    if not port.isdigit():
        raise ValueError(f"FINDER_METRICS_LISTEN {listen!r}: write a port, like 9464, or host:port")
    return host.strip("[]") or "127.0.0.1", int(port)


def prepare(listen: str) -> None:
    """When gunicorn reads its config, before the app is loaded: check the address, insist on
    PROMETHEUS_MULTIPROC_DIR, create it, and empty it of the last run's counts."""
    address(listen)
    folder = os.environ.get(MULTIPROC_DIR)
    if not folder:
        raise SystemExit(
            f"FINDER_METRICS_LISTEN needs {MULTIPROC_DIR}: a folder the workers count into (prometheus_client's "
            "multiprocess mode), set before the server starts"
        )
    Path(folder).mkdir(parents=True, exist_ok=True)
    forget_counted()


def forget_counted() -> None:
    """Empty PROMETHEUS_MULTIPROC_DIR: before the workers start, so the master's warm-up lookup (finder/wsgi.py)
    is not counted as a resident's; the master counts nothing after it."""
    for old in Path(os.environ[MULTIPROC_DIR]).glob("*.db"):
        old.unlink()


def serve(listen: str, database_url: str, timeout: float, geodata_manifest: dict) -> None:
    """Serve /metrics on `listen` from this (the master) process, in a thread of prometheus_client's."""
    host, port = address(listen)
    start_http_server(port, addr=host, registry=scrape_registry(database_url, timeout, geodata_manifest))


def worker_exited(pid: int) -> None:
    """gunicorn's child_exit: a dead worker's live gauges go (its counters stay counted)."""
    if os.environ.get(MULTIPROC_DIR):
        multiprocess.mark_process_dead(pid)
