"""Every store test runs against SQLite and against a real PostgreSQL server (see backends.py)."""

from tests.store import backends

migrated_store = backends.migrated_store
store = backends.store
