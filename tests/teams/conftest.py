"""The staff-page tests' fixtures (a store on each backend with the sample teams, and an app over it)."""

from tests.store.backends import migrated_store, store  # noqa: F401  (fixtures)
from tests.web.test_admin_wards import app, teams  # noqa: F401  (fixtures)
