"""How the finder answers an error: a page in the resident's language, or JSON under /api/."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template
from gunicorn.http.errors import NoMoreData, ParseException
from werkzeug.exceptions import BadHost, HTTPException, RequestEntityTooLarge, SecurityError

from finder.errors import FinderError, InvalidInput
from finder.web import wants_json
from finder.web.security import BodyTooLarge, UnknownHost


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(FinderError)
    def finder_error(error: FinderError):
        if wants_json():
            return jsonify(error.to_dict()), error.status
        return render_template("error.html", error=error), error.status

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # Keep the error's own headers (Allow on a 405, as HTTP requires), not its content type.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        if wants_json():
            body = {"error": {"code": error.name.lower().replace(" ", "_"), "message": error.description}}
            return jsonify(body), error.code, headers
        return render_template("error.html", error=error, status=error.code), error.code, headers

    @app.errorhandler(RequestEntityTooLarge)
    def body_too_large(error: RequestEntityTooLarge):
        return finder_error(
            BodyTooLarge(
                f"The request body is larger than the {app.config['MAX_CONTENT_LENGTH']:,} bytes this finder "
                f"accepts. Send at most {app.config['MAX_BATCH']} postcodes at once."
            )
        )

    def unreadable_body(error: Exception):
        return finder_error(
            InvalidInput(
                "The request body could not be read: it was cut off, or its chunked encoding is malformed.",
                code="malformed_body",
            )
        )

    # gunicorn reads a body only when the app does, so a malformed one raises in the view.
    app.register_error_handler(ParseException, unreadable_body)  # a bad chunk size, extension or terminator
    app.register_error_handler(NoMoreData, unreadable_body)  # a body that ends before it said it would

    @app.errorhandler(SecurityError)  # a Host header that is not a trusted name
    @app.errorhandler(BadHost)  # a Host header that is no host name at all
    def unknown_host(error: HTTPException):
        """No page for another host: Flask can build no URL for it, and a cache must keep nothing."""
        refusal = UnknownHost(
            "This finder does not answer to the host name this request was sent to. Use the finder's own address."
        )
        if wants_json():
            return jsonify(refusal.to_dict()), refusal.status
        return Response(refusal.message + "\n", refusal.status, {"Cache-Control": "no-store"}, mimetype="text/plain")
