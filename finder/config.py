"""Configuration, picked by FINDER_ENV. Every environment variable the app reads is here.

- FINDER_ENV: development (default), production or testing.
- SECRET_KEY: signing key for sessions; random per process when unset.
- FINDER_GEODATA: folder of built geodata (default <repo>/geodata).
- FINDER_RAW_DATA: raw open-data mirror for `finder build-geodata` (default ../shared/data-raw).
- FINDER_TILES_URL: raster tile URL template; empty for boundary-only maps (default OpenStreetMap).
- FINDER_TILES_ATTRIBUTION: attribution shown on the map for those tiles.
- FINDER_GEOCODER_URL: a postcodes.io-compatible API for postcodes newer than our data; empty = off.
- FINDER_GEOCODER_TIMEOUT: seconds to wait for it (default 2).
- DATABASE_URL: SQLAlchemy URL of the store (default SQLite in the instance folder).
- HOST, PORT: where ./scripts/serve listens (default 127.0.0.1:5000).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def default_raw_data() -> Path:
    """The local mirror of official releases beside the checkout, as in CI and development."""
    return Path(os.environ.get("FINDER_RAW_DATA") or ROOT.parent / "shared" / "data-raw")


class Config:
    """Defaults shared by every environment."""

    ENV_NAME = "development"
    TESTING = False
    SECRET_KEY = os.environ.get("SECRET_KEY") or secrets.token_hex(32)
    GEODATA_DIR = os.environ.get("FINDER_GEODATA") or str(ROOT / "geodata")
    TILES_URL = os.environ.get("FINDER_TILES_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    TILES_ATTRIBUTION = os.environ.get(
        "FINDER_TILES_ATTRIBUTION",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
    )
    GEOCODER_URL = os.environ.get("FINDER_GEOCODER_URL", "")
    GEOCODER_TIMEOUT = float(os.environ.get("FINDER_GEOCODER_TIMEOUT", "2"))
    DATABASE_URL = os.environ.get("DATABASE_URL", "")
    MAX_BATCH = 100
    SEND_FILE_MAX_AGE_DEFAULT = 3600


class DevelopmentConfig(Config):
    ENV_NAME = "development"


class ProductionConfig(Config):
    ENV_NAME = "production"


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    TILES_URL = ""  # tests never reach outside 127.0.0.1
    GEOCODER_URL = ""


CONFIGS = {"development": DevelopmentConfig, "production": ProductionConfig, "testing": TestingConfig}


def config_for(name: str | None = None) -> type[Config]:
    """The config class for FINDER_ENV (or the name given)."""
    name = name or os.environ.get("FINDER_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise ValueError(f"FINDER_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from None
