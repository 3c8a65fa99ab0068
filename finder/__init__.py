"""finder: from a London postcode to the neighbourhood policing team and how to reach it."""

from __future__ import annotations

from typing import Any

from flask import Flask

from finder.config import ROOT, config_for
from finder.web.jsonprovider import FastJSONProvider


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: config from FINDER_ENV (overridden by `config`), geodata, blueprints, CLI."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_relative_config=True,
    )
    app.config.from_object(config_for((config or {}).get("ENV_NAME")))
    app.config.update(config or {})
    app.json = FastJSONProvider(app)  # keeps the documented field order; orjson never sorts keys

    from finder.web import init_app as init_web

    init_web(app)

    from finder.cli import init_app as init_cli

    init_cli(app)
    return app
