"""Static files: fingerprinted, compressed and cached for a year, served by WhiteNoise.

Every file under static/ (shipped in the package) and under FINDER_VENDOR (front-end packages from npm, a
build output that is not shipped, served as static/vendor/) is served at its plain address
(/static/finder.css, cached briefly: councils' pages load /static/embed.js by that name) and at a
fingerprinted one (/static/finder.3f2a9c1d0b7e.css, cached for a year as immutable), which `url_for('static', …)`
gives the templates, so a changed file is a new address and a phone never waits to revalidate.
Text files get gzip and brotli copies beside them, written at start-up when missing or stale,
which WhiteNoise sends to browsers that accept them. Pages and JSON are compressed by
Flask-Compress (see `finder.create_app`).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import brotli
from flask import Flask
from whitenoise import WhiteNoise

COMPRESSIBLE = {".css", ".js", ".svg", ".json", ".ico", ".txt", ".html"}
COMPRESSED = {".gz", ".br"}
SHORT_MAX_AGE = 300  # plain addresses (embed.js on councils' pages) pick up a release within minutes
ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    ".gz": lambda data: gzip.compress(data, 9, mtime=0),
    ".br": lambda data: brotli.compress(data, quality=11),
}


def fingerprinted(name: str, data: bytes) -> str:
    """`vendor/leaflet/leaflet.js` becomes `vendor/leaflet/leaflet.<12 hex digits of its SHA-256>.js`."""
    digest = hashlib.sha256(data).hexdigest()[:12]
    folder, _, filename = name.rpartition("/")
    stem, dot, ext = filename.rpartition(".")
    hashed = f"{stem}.{digest}.{ext}" if dot and stem else f"{filename}.{digest}"
    return f"{folder}/{hashed}" if folder else hashed


def compress_beside(path: Path) -> None:
    """Write path.gz and path.br unless they are already newer than path (atomically: workers share them).

    A read-only tree is no error: the file is then served uncompressed.
    """
    source_mtime = path.stat().st_mtime
    data: bytes | None = None
    for suffix, encode in ENCODERS.items():
        target = path.with_name(path.name + suffix)
        if target.exists() and target.stat().st_mtime >= source_mtime:
            continue
        data = path.read_bytes() if data is None else data
        try:
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            with os.fdopen(fd, "wb") as out:
                out.write(encode(data))
            os.replace(temporary, target)
        except OSError:
            return


def static_files(static: Path) -> dict[str, Path]:
    """Every servable file under a folder, by its name relative to it (compressed copies left out)."""
    if not static.is_dir():
        return {}
    return {
        path.relative_to(static).as_posix(): path
        for path in sorted(static.rglob("*"))
        if path.is_file() and path.suffix not in COMPRESSED and not path.name.startswith(".")
    }


def init_app(app: Flask, extra_headers: list[tuple[str, str]]) -> dict[str, str]:
    """Serve static/ through WhiteNoise in front of the app; url_for('static') names fingerprinted files.

    `extra_headers` go on every file (the security headers Flask's own responses carry). Returns
    the map from plain to fingerprinted names.
    """
    static = Path(app.static_folder or "static")
    files = {name: path for name, path in static_files(static).items() if not name.startswith("vendor/")}
    vendor = Path(app.config["VENDOR_DIR"])
    files |= {f"vendor/{name}": path for name, path in static_files(vendor).items()}
    names: dict[str, str] = {}
    for name, path in files.items():
        if path.suffix in COMPRESSIBLE:
            compress_beside(path)
        names[name] = fingerprinted(name, path.read_bytes())
    immutable = {f"/static/{hashed}" for hashed in names.values()}

    def add_headers(headers: Any, path: str, url: str) -> None:
        for key, value in extra_headers:
            headers[key] = value

    served = WhiteNoise(
        app.wsgi_app,
        max_age=SHORT_MAX_AGE,
        immutable_file_test=lambda path, url: url in immutable,
        add_headers_function=add_headers,
    )
    for name, path in files.items():
        served.add_file_to_dictionary(f"/static/{name}", str(path))
        served.add_file_to_dictionary(f"/static/{names[name]}", str(path))
    if "favicon.ico" in files:  # browsers ask for it at the root, whatever the page says
        served.add_file_to_dictionary("/favicon.ico", str(files["favicon.ico"]))
    app.wsgi_app = served  # type: ignore[method-assign]

    @app.url_defaults
    def fingerprint_static(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = names.get(values["filename"], values["filename"])

    return names
