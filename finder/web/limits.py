"""Rate limits on the public pages that cost the most: /search (a lookup and a map per answer) and a
ward's poster.pdf (about 0.24 s of CPU each, BENCHMARKS.md "Ward posters").

They count like the API's (finder/web/security.py's ApiRateLimiter: fixed windows per client address in
each worker's memory), each with its own setting; a client over one gets a 429 page with Retry-After.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app, render_template, request

from finder.errors import FinderError
from finder.i18n import tr
from finder.web.security import ApiRateLimiter

F = TypeVar("F", bound=Callable[..., Any])
SETTINGS = ("SEARCH_RATE_LIMIT", "POSTER_RATE_LIMIT")


class PageRateLimited(FinderError):
    """A client has asked for a costly page more often than its setting allows (429)."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: Any, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def limited(setting: str) -> Callable[[F], F]:
    """Count each request of the view against `setting` (one of SETTINGS) for the client's address."""

    def decorate(view: F) -> F:
        @wraps(view)
        def counted(*args: Any, **kwargs: Any) -> Any:
            limiter: ApiRateLimiter = current_app.extensions["finder.page_limits"][setting]
            if limiter.limits:
                allowed, windows = limiter.hit(request.remote_addr or "unknown")
                if not allowed:
                    wait = max(w.reset_after for w in windows if w.remaining == 0)
                    # How long exactly goes in Retry-After; one sentence needs no plural in any language.
                    message = tr("Too many requests from your connection. Please wait a little, then try again.")
                    raise PageRateLimited(message, wait)
            return view(*args, **kwargs)

        return counted  # type: ignore[return-value]

    return decorate


def _refused(error: PageRateLimited) -> Any:
    page = render_template("error.html", error=error)
    return page, error.status, {"Retry-After": str(error.retry_after), "Cache-Control": "no-store"}


def init_app(app: Flask) -> None:
    """One limiter per setting; a setting that is no rate limit stops the app with a clear message."""
    limiters = {}
    for setting in SETTINGS:
        try:
            limiters[setting] = ApiRateLimiter(app.config[setting])
        except ValueError:
            raise ValueError(
                f"FINDER_{setting} {app.config[setting]!r} is not a rate limit: use a form like 60/minute, or off"
            ) from None
    app.extensions["finder.page_limits"] = limiters
    app.register_error_handler(PageRateLimited, _refused)
