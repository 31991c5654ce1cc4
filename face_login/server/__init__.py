"""Flask application factory for face login: ``face_login.server:create_app()``."""

from __future__ import annotations

import logging
import os
import secrets
import time
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from face_login.embedder import EmbedderConfig, FaceEmbedder
from face_login.liveness import LandmarkModel
from face_login.server.api import api
from face_login.server.config import DefaultConfig
from face_login.server.errors import register_error_handlers
from face_login.server.recognition import RecognitionState
from face_login.server.store import UserStore
from face_login.server.web import web

logger = logging.getLogger(__name__)


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings from :class:`DefaultConfig`, then ``FACE_LOGIN_*`` variables, then ``config``."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(DefaultConfig)
    app.config.from_prefixed_env("FACE_LOGIN")
    app.config.update(config or {})
    _configure_logging(app)

    if not app.config["SECRET_KEY"]:
        key_path = Path(app.instance_path) / "secret_key"
        app.config["SECRET_KEY"] = _load_or_create_secret(key_path)
        logger.warning("FACE_LOGIN_SECRET_KEY is not set: signing session tokens with the key in %s, shared by "
                       "all workers on this machine; set the variable in production", key_path)
    if not app.config["DATABASE"]:
        app.config["DATABASE"] = str(Path(app.instance_path) / "face_login.sqlite3")
    UserStore.initialise(app.config["DATABASE"])
    logger.info("face login database: %s; match threshold %.3f; liveness %s", app.config["DATABASE"],
                app.config["MATCH_THRESHOLD"], "required" if app.config["LIVENESS_REQUIRED"] else "optional")

    embedder = app.config["EMBEDDER"] or FaceEmbedder(EmbedderConfig(
        weights_path=app.config["FACENET_WEIGHTS"], detector=app.config["DETECTOR"],
        margin=app.config["FACE_MARGIN"], max_pixels=app.config["MAX_IMAGE_PIXELS"]))
    landmarks = app.config["LANDMARK_MODEL"] or LandmarkModel(app.config["SHAPE_PREDICTOR"])
    app.extensions["face_login"] = RecognitionState(embedder, landmarks)
    if app.config["PRELOAD_MODELS"]:
        embedder.load()
        embedder.detector.load()

    if app.config["TRUST_PROXY"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)
    register_error_handlers(app)
    app.register_blueprint(api)
    app.register_blueprint(web)
    return app


def _load_or_create_secret(path: Path) -> str:
    """Return the key stored at ``path``, creating it once (mode 600) so that every worker shares it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    # A worker that lost the creation race may read before the writer has finished, so wait for the content.
    for _ in range(50):
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.01)
    raise RuntimeError(f"secret key file {path} is empty; delete it and start again")


def _configure_logging(app: Flask) -> None:
    """Under gunicorn, send this package's logs (the audit lines included) to gunicorn's error log."""
    package_logger = logging.getLogger("face_login")
    if package_logger.handlers or logging.getLogger().handlers:
        return
    gunicorn_logger = logging.getLogger("gunicorn.error")
    if gunicorn_logger.handlers:
        package_logger.handlers = gunicorn_logger.handlers
        package_logger.setLevel(gunicorn_logger.level)
    elif os.environ.get("FACE_LOGIN_LOG_LEVEL"):
        package_logger.setLevel(os.environ["FACE_LOGIN_LOG_LEVEL"])


__all__ = ["create_app", "DefaultConfig"]
