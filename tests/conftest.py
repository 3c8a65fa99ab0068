"""Shared fixtures: one app over the real built geodata (./scripts/test builds it first)."""

from __future__ import annotations

import pytest

from finder import create_app
from finder.config import ROOT
from finder.geo.geodata import GeoData
from finder.lookup.service import Lookup, load_forces


@pytest.fixture(scope="session")
def geodata() -> GeoData:
    """The real London geodata; a missing build fails the run loudly rather than skipping."""
    return GeoData(ROOT / "geodata")


@pytest.fixture(scope="session")
def finder_lookup(geodata: GeoData) -> Lookup:
    return Lookup(geodata, load_forces())


@pytest.fixture()
def app(finder_lookup: Lookup):
    app = create_app({"ENV_NAME": "testing", "TESTING": True}, lookup=finder_lookup)
    return app


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def runner(app):
    return app.test_cli_runner()
