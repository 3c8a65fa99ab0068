"""JSON responses encoded with orjson: the API's answers are plain dicts, lists, strings and numbers,
and encoding them with the standard library took as long as the lookup itself."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider


class FastJSONProvider(DefaultJSONProvider):
    """Flask's provider, with orjson for responses (compact, UTF-8). Debug mode keeps indented output."""

    def response(self, *args: Any, **kwargs: Any) -> Response:
        if self._app.debug:
            return super().response(*args, **kwargs)
        body = orjson.dumps(self._prepare_response_obj(args, kwargs), default=self.default)
        return self._app.response_class(body, mimetype=self.mimetype)
