"""The start-up schema check (issue 12, cold start): one query when the store is current, Alembic only to change it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic.script import ScriptDirectory

from finder.store.migrate import StoreNotReady, alembic_config, current, downgrade, ensure_ready, head, upgrade
from tests.store.backends import BACKENDS, fresh_store
from tests.support.stores import discard


@pytest.fixture(params=BACKENDS)
def behind(request, tmp_path):
    """A store one revision behind the code's schema."""
    store = fresh_store(request.param, tmp_path)
    downgrade(store, "0004")
    yield store
    discard(store)


def test_the_newest_revision_file_is_alembics_head():
    assert head() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_a_store_at_the_current_schema_is_checked_without_loading_alembic(store):
    check = (
        "import sys; from finder.store import Store; from finder.store.migrate import ensure_ready; "
        "ensure_ready(Store(sys.argv[1])); print(sorted({m.split('.')[0] for m in sys.modules} & {'alembic', 'mako'}))"
    )
    fresh = subprocess.run([sys.executable, "-c", check, store.url], capture_output=True, text=True, check=True)
    assert fresh.stdout.strip() == "[]"


def test_an_embedded_store_behind_the_schema_is_upgraded_and_a_shared_one_is_refused(behind):
    if behind.embedded:
        ensure_ready(behind)
        assert current(behind) == head()
    else:
        with pytest.raises(StoreNotReady, match="finder init-db"):
            ensure_ready(behind, outage_ok=True)
        assert current(behind) == "0004"


def test_an_empty_database_reads_as_no_revision(behind):
    downgrade(behind, "base")
    assert current(behind) is None
    upgrade(behind)
    assert current(behind) == head()
