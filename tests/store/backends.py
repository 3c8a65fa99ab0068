"""Store fixtures for both backends: every test that takes `store` runs on SQLite and on PostgreSQL.

PostgreSQL comes from scripts/pg-test-server (./scripts/test starts one), or is started here when
pytest runs alone. If it cannot start, the PostgreSQL tests FAIL with the reason; never skipped.
Import the fixtures into a test module with `from tests.store.backends import migrated_store, store`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from finder.store import Store
from tests.support.stores import PostgresUnavailable, discard, new_store, postgres_server_url, wipe

BACKENDS = ["sqlite", "postgresql"]


def require_postgres() -> str:
    """The test server's URL, or a loud failure that says why there is none."""
    try:
        return postgres_server_url()
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL is needed for this test and could not be had:\n{exc}", pytrace=False)


def fresh_store(backend: str, folder) -> Store:
    """A new, empty, migrated store on one backend."""
    if backend == "postgresql":
        require_postgres()
    return new_store(backend, folder)


@pytest.fixture(scope="module", params=BACKENDS)
def migrated_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """One migrated database per backend and test module."""
    store = fresh_store(request.param, tmp_path_factory.mktemp(f"store-{request.param}"))
    yield store
    discard(store)


@pytest.fixture()
def store(migrated_store: Store) -> Store:
    """The module's store, emptied for this test."""
    wipe(migrated_store)
    return migrated_store
