"""Rate limits, all on one Flask-Limiter (`limiter`), counted per client address in the storage
FINDER_LIMITER_STORAGE_URI names: memory:// (each worker counts on its own) or redis://... (one count
across workers and instances).

- The API (RATE_LIMIT): one count per client over every /api/v1 request but the health check and
  preflights, unknown paths included; finder/web/security.py writes the RateLimit-* headers.
- The costly pages (`@limited`): /search and a ward's poster.pdf (about 0.24 s of CPU each,
  BENCHMARKS.md "Ward posters"), each with its own setting; a client over one gets a 429 page.
- Residents' no-team reports (NO_TEAM_RATE_LIMIT), in finder/coverage/nudges.py.
- Staff sign-in failures (finder/staff/accounts.py's Throttle) count on the same storage with the
  moving-window strategy (`sign_in_limiter`).

Windows are fixed and open with a client's first request (limits' fixed-window strategy). A setting
"off" (or empty) sets no limit; one that is no rate limit stops the app with a clear message.

`limiter` is one per process, like Flask-WTF's `csrf` (its decorators are applied at import): each app's
init_app points it at that app's storage, which holds while a process serves one app, as it does.
With memory:// a client's count is forgotten a window after its last request, with no bound on how many
clients are held (100,000 take about 33 MB; limits' expiry thread walks them all, 62 ms a pass, measured).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar, cast

from flask import Flask, current_app, jsonify, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.strategies import MovingWindowRateLimiter

from finder.errors import FinderError
from finder.i18n import tr

API_PREFIX = "/api/v1/"
NOT_LIMITED = {"api.health"}  # load balancers poll it; it does no work worth protecting
PAGE_SETTINGS = ("SEARCH_RATE_LIMIT", "POSTER_RATE_LIMIT")
F = TypeVar("F", bound=Callable[..., Any])


class RateLimited(FinderError):
    """A client has used up its API requests for this window (429)."""

    status = 429
    code = "rate_limited"


class PageRateLimited(FinderError):
    """A client has asked for a limited page (or report) more often than its setting allows (429)."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: Any, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Window(NamedTuple):
    """Where one client stands against one limit after this request."""

    limit: RateLimitItem
    remaining: int
    reset_after: int  # whole seconds until the window resets


def parse_limits(text: str) -> list[RateLimitItem]:
    """Limits separated by ';' or ','; "off" or nothing for none. Raises ValueError for anything else."""
    if text.strip().lower() in ("", "off"):
        return []
    items = parse_many(text)
    # limits reads "5/0 minutes" as per minute, and "0/minute" would refuse every request.
    if any(item.amount < 1 for item in items) or re.search(r"(/|per)\s*0+\s*[a-z]", text, re.IGNORECASE):
        raise ValueError(f"{text!r} allows no request at all")
    return items


def rate_limit_policy(app: Flask) -> str:
    """The API's limits as the RateLimit-Policy header gives them: "120;w=60, 1000;w=86400"."""
    check_setting(app, "RATE_LIMIT", "120/minute")
    return ", ".join(f"{item.amount};w={item.get_expiry()}" for item in parse_limits(app.config["RATE_LIMIT"]))


def _setting(name: str) -> Callable[[], str]:
    """The limit text of config setting `name` for this request's app ("" when it is off)."""

    def text() -> str:
        value: str = current_app.config[name]
        return "" if value.strip().lower() == "off" else value

    return text


def _not_an_api_request() -> bool:
    return not request.path.startswith(API_PREFIX) or request.method == "OPTIONS" or request.endpoint in NOT_LIMITED


limiter = Limiter(
    get_remote_address,  # the client's address (behind proxies, FINDER_PROXIES makes it the forwarded one)
    application_limits=[_setting("RATE_LIMIT")],
    application_limits_exempt_when=_not_an_api_request,
    strategy="fixed-window",
    fail_on_first_breach=False,  # every limit counts every request, as the RateLimit-* headers say
    # An unknown /api/v1 path counts too: Flask-Limiter skips requests it cannot name, and the endpoint is None.
    request_identifier=lambda: request.endpoint or request.path,
)


def _too_many_requests() -> str:
    # How long exactly goes in Retry-After; one sentence needs no plural in any language.
    return tr("Too many requests from your connection. Please wait a little, then try again.")


def limited(setting: str, message: Callable[[], str] = _too_many_requests) -> Callable[[F], F]:
    """Count each request of the view against config `setting` for the client's address; `message` refuses."""
    route_limit = limiter.limit(_setting(setting), error_message=message)

    def decorate(view: F) -> F:
        counted = route_limit(view)
        counted.rate_limited = True  # type: ignore[attr-defined]
        return cast(F, counted)

    return decorate


@limiter.request_filter
def _no_limit_applies() -> bool:
    """Most requests (pages, files) meet no limit: saying so first saves 60 us of Flask-Limiter's hooks (measured)."""
    if not _not_an_api_request():
        return False
    return not getattr(current_app.view_functions.get(request.endpoint or ""), "rate_limited", False)


def sign_in_limiter() -> MovingWindowRateLimiter:
    """The moving-window counter of staff sign-in failures, on the limiter's storage (memory or Redis)."""
    return MovingWindowRateLimiter(limiter.storage)


def windows() -> list[Window]:
    """Where the client stands against each limit this request counted (none if none did)."""
    now = time.time()
    return [
        Window(
            counted.limit,
            counted.remaining,
            max(1, min(counted.limit.get_expiry(), math.ceil(counted.reset_at - now))),
        )
        for counted in limiter.current_limits
    ]


def retry_after(counted: list[Window]) -> int:
    """Seconds until every used-up window has reset."""
    return max((w.reset_after for w in counted if w.remaining == 0), default=1)


def _refused(error: RateLimitExceeded) -> Any:
    """429: JSON for the API, naming the tightest limit used up; the error page with Retry-After elsewhere."""
    counted = windows()
    wait = retry_after(counted)
    if request.path.startswith(API_PREFIX):
        tightest = min((w.limit for w in counted if w.remaining == 0), key=RateLimitItem.get_expiry)
        unit = tightest.GRANULARITY.name
        per = unit if tightest.multiples == 1 else f"{tightest.multiples} {unit}s"
        refusal = RateLimited(
            f"Too many requests: this API allows {tightest.amount} per {per} from each client. "
            f"Try again in {wait} second{'' if wait == 1 else 's'}."
        )
        return jsonify(refusal.to_dict()), refusal.status
    page = render_template("error.html", error=PageRateLimited(error.description, wait))
    return page, 429, {"Retry-After": str(wait), "Cache-Control": "no-store"}


def check_setting(app: Flask, name: str, example: str) -> None:
    """Stop the app, naming the setting, when config `name` is no rate limit."""
    try:
        parse_limits(app.config[name])
    except ValueError:
        raise ValueError(
            f"FINDER_{name} {app.config[name]!r} is not a rate limit: use a form like {example}, "
            "several separated by ';', or off"
        ) from None


def init_app(app: Flask) -> None:
    """Check the settings, then count on the storage FINDER_LIMITER_STORAGE_URI names."""
    check_setting(app, "RATE_LIMIT", "120/minute")
    for name in PAGE_SETTINGS:
        check_setting(app, name, "60/minute")
    app.config["RATELIMIT_STORAGE_URI"] = app.config["LIMITER_STORAGE_URI"]
    limiter.init_app(app)
    sign_in_limiter()  # a storage without moving windows (memcached) stops the app here, not at a sign-in
    app.register_error_handler(RateLimitExceeded, _refused)
