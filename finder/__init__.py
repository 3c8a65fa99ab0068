"""finder: from a London postcode to the neighbourhood policing team and how to reach it."""

from __future__ import annotations

from importlib import resources
from typing import Any

from flask import Flask, request

from finder.config import config_for
from finder.web.jsonprovider import FastJSONProvider

# Small answers (most single-postcode JSON) go out as they are: compressing them saves less than a packet.
# Answers made per request are compressed at the fastest levels: brotli 1 costs a third of Flask-Compress's
# default 4 (50 against 140 µs for a 14 KB result page) for about 12% more bytes; kept ward pages are
# compressed harder, once (finder/web/pagecache.py).
COMPRESSION = {
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_BR_LEVEL": 1,
    "COMPRESS_LEVEL": 1,
    "COMPRESS_MIMETYPES": ["text/html", "application/json", "application/geo+json", "text/javascript", "text/css"],
    "COMPRESS_MIN_SIZE": 1400,
    "COMPRESS_STREAMS": False,
}


class Finder(Flask):
    """Flask, except that an unhandled error is logged with its route's pattern, never the path (a path
    can hold a resident's postcode, /api/v1/postcodes/<postcode>; see finder/web/logs.py).

    `log_exception` is Flask's documented place to change how such an error is logged.
    """

    def log_exception(self, exc_info) -> None:
        from finder.web.logs import route

        self.logger.error("Exception on %s [%s]", route(), request.method, exc_info=exc_info)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: config from FINDER_ENV (overridden by `config`), geodata, blueprints, CLI."""
    package = resources.files(__name__)  # templates/ and static/ ship inside it (setup.cfg's package_data)
    app = Finder(
        __name__,
        template_folder=str(package / "templates"),
        static_folder=str(package / "static"),
        instance_relative_config=True,
    )
    app.config.from_object(config_for((config or {}).get("ENV_NAME")))
    app.config.update(config or {})
    app.json = FastJSONProvider(app)  # keeps the documented field order; orjson never sorts keys

    from flask_compress import Compress

    # Registered first so it runs last, after the ETag and headers: pages and JSON over
    # COMPRESS_MIN_SIZE go out as brotli or gzip (static files are compressed ahead, finder/web/assets.py).
    for key, value in COMPRESSION.items():
        app.config.setdefault(key, value)
    Compress(app)
    from finder.i18n import init_app as init_i18n
    from finder.web import init_app as init_web
    from finder.web.logs import init_app as init_logs

    init_logs(app)
    init_i18n(app)  # residents' pages in their language (Flask-Babel); the API stays English
    init_web(app)

    from finder.cli import init_app as init_cli

    init_cli(app)
    return app
