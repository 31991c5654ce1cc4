"""Flask application factory for the face API: ``gunicorn 'face_api.server:create_app()'``."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, request

from face_api.models import FaceModels, ModelPaths
from face_api.server.api import api
from face_api.server.config import DefaultConfig
from face_api.server.errors import register_error_handlers
from face_api.server.meta import meta

logger = logging.getLogger(__name__)

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the app: defaults, then ``FACE_API_*`` environment variables, then ``config``.

    With ``PRELOAD_MODELS`` (the default) the dlib models load here, so a gunicorn worker fails at boot,
    with the reason in its log, when a model file is missing, and no request waits for a model load.
    """
    app = Flask(__name__)
    app.config.from_object(DefaultConfig)
    app.config.from_prefixed_env("FACE_API")
    if config:
        app.config.update(config)

    _attach_gunicorn_logging()
    models = FaceModels(ModelPaths(
        landmarks_68=app.config["LANDMARKS_68_PATH"], landmarks_5=app.config["LANDMARKS_5_PATH"],
        descriptor=app.config["DESCRIPTOR_PATH"], cnn_detector=app.config["CNN_DETECTOR_PATH"]))
    if app.config["PRELOAD_MODELS"]:
        models.load("landmarks_68", "descriptor", "cnn_detector")
    app.extensions["face_api.models"] = models

    app.register_blueprint(api)
    app.register_blueprint(meta)
    register_error_handlers(app)
    app.before_request(_start_request)
    app.after_request(_log_request)
    logger.info("face_api app created (max body %s bytes, max image %s pixels)",
                app.config["MAX_CONTENT_LENGTH"], app.config["MAX_IMAGE_PIXELS"])
    return app


def _attach_gunicorn_logging() -> None:
    """Send this package's log records to gunicorn's error log when running under gunicorn."""
    gunicorn_logger = logging.getLogger("gunicorn.error")
    package_logger = logging.getLogger("face_api")
    if gunicorn_logger.handlers and not package_logger.handlers:
        package_logger.handlers = list(gunicorn_logger.handlers)
        package_logger.setLevel(gunicorn_logger.level)
        package_logger.propagate = False


def _start_request() -> None:
    g.request_started = time.perf_counter()
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID_PATTERN.match(given) else uuid.uuid4().hex[:16]


def _log_request(response: Response) -> Response:
    elapsed_ms = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
    response.headers["X-Request-ID"] = g.get("request_id", "")
    logger.info("%s %s %d %.1f ms %s bytes in, id=%s", request.method, request.path, response.status_code,
                elapsed_ms, request.content_length or 0, g.get("request_id"))
    return response
