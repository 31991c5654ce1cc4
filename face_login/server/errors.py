"""JSON errors with stable codes: every failure returns ``{"ok": false, "error": {"code", "message"}}``."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An error returned to the client; ``code`` is stable and safe to branch on, ``message`` is English."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None, **details):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.details = details


def error_response(status: int, code: str, message: str, headers: dict | None = None, **details):
    body = {"ok": False, "error": {"code": code, "message": message, **details}}
    return jsonify(body), status, headers or {}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError):
        return error_response(error.status, error.code, error.message, error.headers, **error.details)

    @app.errorhandler(RequestEntityTooLarge)
    def handle_too_large(error):
        limit = app.config["MAX_CONTENT_LENGTH"]
        return error_response(413, "request_too_large",
                              f"the request body is larger than {limit} bytes; send smaller or fewer photos")

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        code = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}.get(error.code, "http_error")
        return error_response(error.code or 500, code, error.description or error.name)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        logger.exception("unhandled error while serving a request")
        return error_response(500, "internal_error", "internal server error; the server logged the details")
