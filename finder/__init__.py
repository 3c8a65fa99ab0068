"""finder: from a London postcode to the neighbourhood policing team and how to reach it."""

from __future__ import annotations

from functools import partial
from importlib import resources
from typing import Any

from flask import Flask, Response, request
from flask_compress import Compress

from finder import commands
from finder.config import config_for
from finder.coverage import admin as staff_coverage
from finder.coverage import nudges
from finder.coverage import views as coverage
from finder.embed.views import bp as embed_bp
from finder.lookup.api import bp as api_bp
from finder.lookup.pages import bp as public_bp
from finder.lookup.service import Lookup
from finder.mail import Mailer
from finder.ops.views import bp as ops_bp
from finder.posters import admin as staff_posters
from finder.posters.views import bp as posters_bp
from finder.staff import views as admin
from finder.staff.views import auth as staff_auth
from finder.staff.views import navigation as staff_navigation
from finder.staff.views import update as staff_update
from finder.staff.views import wards as staff_wards
from finder.teams.views import bp as teams_bp
from finder.web import EXTENSION, Services, StoreIdConverter, assets, errors, limits, security
from finder.web import template_globals as web_template_globals
from finder.web.jsonprovider import FastJSONProvider
from finder.web.languages import init_app as init_i18n
from finder.web.logs import init_app as init_logs
from finder.web.logs import route

# imported for their views (and the navigation's counts) on admin.bp
STAFF_VIEWS = (staff_auth, staff_wards, staff_update, staff_navigation, staff_coverage, staff_posters)

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
    "COMPRESS_REGISTER": False,  # its after_request runs from `compress_when_asked`
}


def compress_when_asked(compress: Compress, response: Response) -> Response:
    """Flask-Compress's own `after_request` when the client accepts an encoding or the answer already varies.
    For the rest (API clients, health checks, load tests) it would only add `Vary: Accept-Encoding`, which is
    added here without its header scans and Accept-Encoding parsing (its hook took 14-18 µs of a 245 µs API
    answer in process on the loaded 2-core machine, measured by leaving it out)."""
    if "HTTP_ACCEPT_ENCODING" in request.environ or "Vary" in response.headers:
        return compress.after_request(response)
    response.headers.add("Vary", "Accept-Encoding")
    return response


class Finder(Flask):
    """Flask, except that an unhandled error is logged with its route's pattern, never the path (a path
    can hold a resident's postcode, /api/v1/postcodes/<postcode>; see finder/web/logs.py).

    `log_exception` is Flask's documented place to change how such an error is logged.
    """

    def log_exception(self, exc_info) -> None:
        self.logger.error("Exception on %s [%s]", route(), request.method, exc_info=exc_info)


def create_app(config: dict[str, Any] | None = None, *, lookup: Lookup | None = None) -> Flask:
    """Build the app: config from FINDER_ENV (overridden by `config`), blueprints, CLI, and its `Services`.

    `lookup`: a lookup already built (tests and benchmarks: their own geodata and store), used instead
    of the one the Services would build from the config on first use."""
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

    # Registered first so it runs last, after the ETag and headers: pages and JSON over
    # COMPRESS_MIN_SIZE go out as brotli or gzip (static files are compressed ahead, finder/web/assets.py).
    for key, value in COMPRESSION.items():
        app.config.setdefault(key, value)
    app.after_request(partial(compress_when_asked, Compress(app)))
    init_logs(app)
    init_i18n(app)  # residents' pages in their language (Flask-Babel); the API stays English

    app.url_map.converters["int"] = StoreIdConverter  # before any route is registered
    app.register_blueprint(public_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(embed_bp)
    app.register_blueprint(teams_bp)
    app.register_blueprint(posters_bp)
    app.register_blueprint(ops_bp)  # /livez and /readyz for the proxy's health checks
    coverage.init_app(app)  # /coverage, its downloads and the API's /coverage; lookups counted per ward
    security_settings = security.init_app(app)
    limits.init_app(app)  # /search and poster.pdf, limited per client like the API
    admin.init_app(app)  # staff sessions, CSRF on every form but the API's, and /admin
    nudges.init_app(app)  # residents' "no published team" reports (rate limited, no CSRF: no session)
    # Static files skip Flask's hooks, so they get its security headers from WhiteNoise.
    headers = [*security_settings.everywhere, ("Cross-Origin-Resource-Policy", "cross-origin")]
    assets_map = assets.init_app(app, headers)
    errors.init_app(app)
    app.context_processor(web_template_globals)
    commands.init_app(app)

    smtp_url = app.config["SMTP_URL"]
    app.extensions[EXTENSION] = Services(
        config=app.config,
        instance_path=app.instance_path,
        security=security_settings,
        assets=assets_map,
        mailer=Mailer(smtp_url, app.config["MAIL_FROM"]) if smtp_url else None,
        given_lookup=lookup,
    )
    return app
