"""Rendered ward pages, kept by each worker and validated by ETag, so a CDN or browser can keep them too.

A ward page is a function of its `Result` (ward, force, team, upcoming meetings, front counters: frozen
values), the language, `?from=location`, the host it names and the day ("checked 4 months ago");
rendering it again for every view of a ward cost more than the whole lookup behind it. So each
worker keeps the rendered bytes keyed by all of those: a page is never staler than the team cache
it was made from (TEAM_CACHE_SECONDS; 0 keeps no page), because a changed team is a new key. The
cache is bounded (least recently used first out), never grown by requests: nothing a resident typed
is part of a key, and pages that carry a resident's postcode or point (/search) are never kept. A
page whose team could not be read is neither kept nor cacheable (no-store): the team is back soon.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import UTC, datetime

from flask import Flask, Response, current_app, request

from finder.services.lookup import Result

MAX_PAGES = 1024  # every ward in English (704), and the most viewed in ?from=location or other languages
PAGE_MAX_AGE = 60  # seconds a browser or CDN may reuse a page without asking


class PageCache:
    """A bounded LRU of (ETag, body); with `keep` false it keeps nothing and only makes ETags."""

    def __init__(self, keep: bool, maxsize: int = MAX_PAGES) -> None:
        self.keep = keep
        self.maxsize = maxsize
        self._pages: OrderedDict[Hashable, tuple[str, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, render: Callable[[], str]) -> tuple[str, bytes]:
        """The page's (ETag, body): kept, or rendered now (and kept)."""
        with self._lock:
            entry = self._pages.get(key)
            if entry is not None:
                self._pages.move_to_end(key)
                return entry
        body = render().encode()
        entry = (hashlib.sha1(body).hexdigest(), body)
        if self.keep:
            with self._lock:
                self._pages[key] = entry
                while len(self._pages) > self.maxsize:
                    self._pages.popitem(last=False)
        return entry

    def __len__(self) -> int:
        return len(self._pages)


def _language() -> tuple[str, bool]:
    """The negotiated language, and whether ?lang= chose it (its links then carry ?lang=); ("", False) before Babel."""
    if "babel" not in current_app.extensions:
        return "", False
    from flask_babel import get_locale

    locale = str(get_locale())
    return locale, request.args.get("lang") == locale


def page(result: Result, render: Callable[[], str], *varies: Hashable) -> Response:
    """The rendered page for `result`, with a strong ETag (304 on If-None-Match) and public caching.

    `varies` are what else changes the page (the language is added here); `render` runs only on a miss.
    """
    if result.team_status == "unavailable":
        response = Response(render(), mimetype="text/html")
        response.cache_control.no_store = True
        return response
    cache: PageCache = current_app.extensions["finder.pages"]
    key = (result, _language(), request.host, datetime.now(UTC).date(), *varies)
    etag, body = cache.get(key, render)
    response = Response(body, mimetype="text/html")
    response.cache_control.public = True
    response.cache_control.max_age = PAGE_MAX_AGE
    if "babel" in current_app.extensions:
        response.vary.add("Accept-Language")
    # Flask-Compress sends a compressed page as "<etag>:br" (or :gzip); either names these bytes.
    for tag in (etag, f"{etag}:br", f"{etag}:gzip"):
        if request.if_none_match.contains(tag):
            response.set_etag(tag)
            return response.make_conditional(request)
    response.set_etag(etag)
    return response


def init_app(app: Flask) -> None:
    """Each worker's pages, kept when its teams are (TEAM_CACHE_SECONDS > 0)."""
    app.extensions["finder.pages"] = PageCache(app.config["TEAM_CACHE_SECONDS"] > 0)
