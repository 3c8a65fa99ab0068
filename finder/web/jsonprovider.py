"""JSON through orjson. Responses: the API's answers are plain dicts, lists, strings and numbers, with
the parts fixed per force or team read encoded ahead (orjson Fragments, finder.teams.directory.encoded),
and encoding them with the standard library took as long as the lookup itself. Requests: orjson refuses
what the standard library lets through to crash later (a lone surrogate, which no answer can
encode, and nesting deep enough for a RecursionError) with a ValueError, which is a 400."""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider
from werkzeug.sansio.response import Response


class FastJSONProvider(DefaultJSONProvider):
    """Flask's provider, with orjson for responses (compact, UTF-8; debug mode keeps indented output)
    and for reading request bodies (UTF-8 only, as JSON must be; at most 1,024 levels deep)."""

    @staticmethod
    def default(o: Any) -> Any:
        """Debug mode's standard-library encoder reads a part encoded ahead back as data."""
        if isinstance(o, orjson.Fragment):
            return orjson.loads(orjson.dumps(o))
        return DefaultJSONProvider.default(o)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s) if not kwargs else super().loads(s, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        if self._app.debug:
            return super().response(*args, **kwargs)
        body = orjson.dumps(self._prepare_response_obj(args, kwargs), default=self.default)
        # a Flask app's response_class is the WSGI Response, which takes a body (App types it as the sans-IO one)
        return self._app.response_class(body, mimetype=self.mimetype)  # type: ignore[arg-type]
