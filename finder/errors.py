"""Errors a person can act on: an HTTP status, a stable code for machines, a message for people.

Each surface renders a FinderError its own way: an HTML page with an error summary, or the
JSON envelope {"error": {"code", "message"}}.
"""

from __future__ import annotations

from typing import Any


class FinderError(Exception):
    """A lookup or request that cannot be answered as asked."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of the error."""
        return {"error": {"code": self.code, "message": self.message, **self.details}}


class InvalidInput(FinderError):
    """Input that is not in a form we can read (400)."""

    status = 400
    code = "invalid_input"


class NotFound(FinderError):
    """Well-formed input that matches nothing we know (404)."""

    status = 404
    code = "not_found"


class OutsideArea(FinderError):
    """A real place that this finder does not cover: outside London (404)."""

    status = 404
    code = "outside_area"
