"""Cold start (issue 12): a fresh server process loads only what answering needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from finder.config import ROOT

FRESH_SERVER = """
import gc, json, sys
import finder.wsgi
from finder.web import services
frozen = gc.get_freeze_count()
engine = services(finder.wsgi.app).store.engine
pooled, compiled = engine.pool.checkedin(), len(engine._compiled_cache)
response = finder.wsgi.app.test_client().get("/api/v1/postcodes/SW1A%201AA")
warmed = {"pooled": pooled, "compiled_by_first_lookup": len(engine._compiled_cache) - compiled}
print(json.dumps({"status": response.status_code, "ward": response.get_json()["ward"]["code"],
                  "loaded": sorted({m.split(".")[0] for m in sys.modules} & {"alembic", "mako", "psycopg", "segno",
                                                                             "requests", "email_validator"}),
                  "frozen": frozen, "warmed": warmed}))
"""


def fresh_server(tmp_path, **env: str) -> dict:
    """What a new gunicorn master (finder.wsgi, production settings) has loaded once it answers a lookup."""
    settings = {
        "FINDER_ENV": "production",
        "SECRET_KEY": "test only",
        "FINDER_PUBLIC_URL": "http://localhost",
        "FINDER_GEOCODER_URL": "",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'finder.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-c", FRESH_SERVER],
        cwd=ROOT,
        env={**os.environ, **settings, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_server_on_a_current_sqlite_store_answers_without_loading_alembic_psycopg_segno_or_requests(tmp_path):
    # requests only calls out to a geocoder, which is off here; email_validator only checks staff's edits.
    first = fresh_server(tmp_path)  # creates and migrates the store (Alembic is needed once)
    assert first["status"] == 200 and first["loaded"] == ["alembic", "mako"]
    again = fresh_server(tmp_path)
    assert {k: again[k] for k in ("status", "ward", "loaded")} == {"status": 200, "ward": first["ward"], "loaded": []}


def test_what_the_master_loaded_is_frozen_before_the_workers_fork_so_their_collections_leave_it_shared(tmp_path):
    # gc.freeze(): a worker's collections neither walk the master's objects nor write to their pages.
    assert fresh_server(tmp_path)["frozen"] > 100_000


def test_the_master_answers_one_ward_before_the_workers_fork_and_keeps_no_connection_across_it(tmp_path):
    warmed = fresh_server(tmp_path)["warmed"]
    assert warmed == {"pooled": 0, "compiled_by_first_lookup": 0}  # compiled once, for every worker


def test_a_configured_geocoder_loads_requests_in_the_master_so_the_workers_share_it(tmp_path):
    loaded = fresh_server(tmp_path, FINDER_GEOCODER_URL="http://127.0.0.1:9")["loaded"]
    assert "requests" in loaded and "email_validator" not in loaded


def test_the_code_frozen_before_the_app_loads_holds_next_to_no_garbage():
    # finder.wsgi freezes what its imports made, so that loading the app's data does not walk it again; a
    # cycle left unreachable by the imports would stay frozen, so there must be next to none (0 today).
    probe = """
import gc
from finder import create_app
from finder.web import services
print(gc.collect())
"""
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert int(done.stdout.split()[-1]) < 1_000  # all the imports' cycles together: 542 objects, 0.1 MB
