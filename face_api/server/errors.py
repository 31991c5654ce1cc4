"""JSON error responses with a stable ``code``, for every failure a client can cause or meet."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, g, jsonify
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from face_api.errors import FaceApiError

logger = logging.getLogger(__name__)

# code -> (HTTP status, meaning); the docs page and the OpenAPI description list this table.
ERROR_CODES: dict[str, tuple[int, str]] = {
    "bad_request": (400, "a malformed request, for example a broken multipart body"),
    "empty_body": (400, "the request has no body"),
    "invalid_json": (400, "the body is not a JSON object"),
    "missing_field": (400, "a required field (image, known_image or known_descriptor) is missing"),
    "unknown_field": (400, "the body has a field this endpoint does not accept"),
    "conflicting_fields": (400, "compare got both known_image and known_descriptor"),
    "invalid_base64": (400, "an image field is not valid base64 or a base64 data URL"),
    "invalid_image": (400, "the data is not a readable JPEG, PNG, WebP or BMP image"),
    "invalid_descriptor": (400, "known_descriptor is not a list of 128 finite numbers"),
    "unknown_option": (400, "a query parameter this endpoint does not accept"),
    "invalid_option": (400, "a query parameter has a value outside its range"),
    "not_found": (404, "no such endpoint"),
    "method_not_allowed": (405, "the endpoint does not accept this HTTP method"),
    "payload_too_large": (413, "the body is larger than MAX_CONTENT_LENGTH"),
    "too_many_pixels": (413, "the image has more pixels than MAX_IMAGE_PIXELS"),
    "unsupported_media_type": (415, "the Content-Type is neither application/json nor multipart/form-data"),
    "detection_budget_exceeded": (422, "the detector would process more pixels than its budget"),
    "no_face_found": (422, "compare found no face in image or known_image (detect returns 200 with zero faces)"),
    "internal_error": (500, "an unexpected server error; the log has the details under the request id"),
    "model_unavailable": (503, "a dlib model file could not be found or loaded"),
}


class ApiError(FaceApiError):
    """A request error raised by the HTTP layer, with its code chosen from ``ERROR_CODES``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = ERROR_CODES[code][0]


def error_response(code: str, message: str, status: int) -> tuple[Response, int]:
    body = {"error": {"code": code, "message": message}, "request_id": g.get("request_id")}
    return jsonify(body), status


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(FaceApiError, _handle_face_api_error)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(Exception, _handle_unexpected)


def _handle_face_api_error(error: FaceApiError) -> tuple[Response, int]:
    level = logging.ERROR if error.http_status >= 500 else logging.INFO
    logger.log(level, "request %s failed: %s: %s", g.get("request_id"), error.code, error.message)
    return error_response(error.code, error.message, error.http_status)


def _handle_http_exception(error: HTTPException) -> tuple[Response, int]:
    status = error.code or 500
    if isinstance(error, RequestEntityTooLarge):
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        message = f"the request body is larger than the limit of {limit:,} bytes; send a smaller image"
        code = "payload_too_large"
    else:
        fallback = "bad_request" if status < 500 else "internal_error"
        code = {404: "not_found", 405: "method_not_allowed", 415: "unsupported_media_type"}.get(status, fallback)
        message = error.description or error.name
    logger.info("request %s failed: %s (%d)", g.get("request_id"), code, status)
    return error_response(code, message, status)


def _handle_unexpected(error: Exception) -> tuple[Response, int]:
    logger.exception("request %s: unexpected %s", g.get("request_id"), type(error).__name__)
    return error_response("internal_error", f"internal server error; quote request id {g.get('request_id')}", 500)
