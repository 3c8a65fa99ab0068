"""Rendered ward pages, kept by each worker and validated by ETag, so a CDN or browser can keep them too.

A ward page is a function of its answer (ward, force, team, upcoming meetings, front counters: frozen
values), the language, `?from=location`, the host it names and the day ("checked 4 months ago");
rendering it again for every view of a ward cost more than the whole lookup behind it. So each
worker keeps the rendered bytes keyed by all of those: a page is never staler than the team cache
it was made from (TEAM_CACHE_SECONDS; 0 keeps no page), because a changed team is a new key. The
cache is bounded (least recently used first out), never grown by requests: nothing a resident typed
is part of a key, and pages that carry a resident's postcode or point (/search) are never kept. A
page whose team could not be read is neither kept nor cacheable (no-store): the team is back soon.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import brotli
from cachetools import LRUCache
from flask import Response, current_app, request
from werkzeug.http import parse_accept_header, quote_etag

from finder.headers import conditional, per_header_value
from finder.lookup.service import WardAnswer
from finder.web.languages import carried_lang, select_language

MAX_PAGES = 1024  # every ward in English (704), and the most viewed in ?from=location or other languages
PAGE_MAX_AGE = 60  # seconds a browser or CDN may reuse a page without asking
# A kept page is compressed once, so harder than answers compressed on the fly (finder.COMPRESSION):
# brotli 6 makes a ward page about 7% smaller than 4 and 19% smaller than 1, for 0.2 ms once.
KEPT_BR_QUALITY, KEPT_GZIP_LEVEL = 6, 6


@dataclass
class Page:
    """A rendered page, and its compressed forms as browsers ask for them (made once, then kept too).

    The body is bytes, or a str the process already holds (a ward's built map script, read before gunicorn
    forks and so shared by the workers): sent as UTF-8, it is not copied into each worker.
    """

    etag: str
    body: bytes | str
    encoded: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def of(cls, body: bytes | str) -> Page:
        return cls(hashlib.sha1(body.encode() if isinstance(body, str) else body).hexdigest(), body)

    def encode(self, encoding: str) -> bytes:
        if encoding not in self.encoded:
            body = self.body.encode() if isinstance(self.body, str) else self.body
            if encoding == "br":
                self.encoded[encoding] = brotli.compress(body, quality=KEPT_BR_QUALITY)
            else:
                self.encoded[encoding] = gzip.compress(body, compresslevel=KEPT_GZIP_LEVEL)
        return self.encoded[encoding]


class PageCache:
    """A bounded LRU of pages (cachetools', under a lock: a worker's threads share it); with `keep` false it
    keeps nothing and only makes ETags."""

    def __init__(self, keep: bool, maxsize: int = MAX_PAGES) -> None:
        self.keep = keep
        self.pages: LRUCache[Hashable, Page] = LRUCache(maxsize)
        self._lock = threading.Lock()

    def get(self, key: Hashable, render: Callable[[], str]) -> Page:
        """The page: kept, or rendered now (outside the lock) and kept."""
        with self._lock:
            kept = self.pages.get(key)
        if kept is not None:
            return kept
        kept = Page.of(render().encode())
        if self.keep:
            with self._lock:
                self.pages[key] = kept
        return kept

    def __len__(self) -> int:
        return len(self.pages)


def _language() -> tuple[str, bool]:
    """The negotiated language, and whether ?lang= chose it (its links then carry ?lang=); ("", False) before Babel."""
    if "babel" not in current_app.extensions:
        return "", False
    lang = select_language()  # the language Flask-Babel renders in: it asks the same function
    return lang, carried_lang() == lang  # ?lang=PL is ?lang=pl: its links carry lang=pl


@per_header_value(maxsize=256)
def _encoding(accept_encoding: str, algorithms: tuple[str, ...]) -> str | None:
    """The compression to send for an Accept-Encoding header."""
    encoding = parse_accept_header(accept_encoding).best_match(algorithms)
    return encoding if encoding in ("br", "gzip") else None


def page(cache: PageCache, result: WardAnswer, render: Callable[[], str], *varies: Hashable) -> Response:
    """The rendered page for `result`, kept in `cache`, with a strong ETag (304 on If-None-Match) and public
    caching. `varies` are what else changes the page (the language is added here); `render` runs only on a miss.
    """
    if result.team_status == "unavailable":
        response = Response(render(), mimetype="text/html")
        response.cache_control.no_store = True
        return response
    key = (result, _language(), request.host, datetime.now(UTC).date(), *varies)
    vary = "Accept-Encoding, Accept-Language" if "babel" in current_app.extensions else "Accept-Encoding"
    return send(cache.get(key, render), "text/html", f"public, max-age={PAGE_MAX_AGE}", vary)


def send(kept: Page, mimetype: str, cache_control: str, vary: str) -> Response:
    """A kept body, compressed as the request accepts, with its strong ETag (304 on If-None-Match).

    Kept bodies (ward pages, map scripts) are most of what the finder sends, so their headers are
    written as plainly as they can be: werkzeug's header objects (Vary, Cache-Control, ETag) cost more
    than the rest of the answer. Compressed here, once per body, rather than by Flask-Compress on every
    view (it leaves a response with a Content-Encoding alone), with its "<etag>:<encoding>" validators.
    """
    algorithms = tuple(current_app.config["COMPRESS_ALGORITHM"])
    encoding = _encoding(request.environ.get("HTTP_ACCEPT_ENCODING", ""), algorithms)
    response = Response(kept.encode(encoding) if encoding else kept.body, mimetype=mimetype)
    headers = response.headers
    if encoding:
        headers["Content-Encoding"] = encoding
    headers["Vary"] = vary
    headers["Cache-Control"] = cache_control
    headers["ETag"] = quote_etag(f"{kept.etag}:{encoding}" if encoding else kept.etag)
    return conditional(response, request.environ)
