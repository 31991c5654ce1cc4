"""Service endpoints: ``/healthz``, ``/openapi.json`` and the human-readable ``/docs`` page."""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, url_for
from markupsafe import Markup, escape

from face_api.server.errors import ERROR_CODES
from face_api.server.openapi import VERSION, build_spec

meta = Blueprint("meta", __name__)

CODE_SPAN = re.compile(r"`([^`]+)`")


@meta.app_template_filter("code_spans")
def code_spans(text: str) -> Markup:
    """Render the Markdown code spans of an OpenAPI description as HTML ``<code>``, escaping the rest."""
    return Markup(CODE_SPAN.sub(r"<code>\1</code>", str(escape(text))))


@meta.get("/healthz")
def healthz() -> Response:
    models = current_app.extensions["face_api.models"]
    return jsonify({"status": "ok", "version": VERSION, "models_loaded": models.loaded()})


@meta.get("/openapi.json")
def openapi() -> Response:
    return jsonify(build_spec())


@meta.get("/docs")
def docs() -> str:
    spec = build_spec()
    body_limit = current_app.config["MAX_CONTENT_LENGTH"]
    return render_template("docs.html", spec=spec, error_codes=ERROR_CODES,
                           max_content_length="no limit" if body_limit is None else f"{body_limit:,} bytes",
                           max_image_pixels=f"{current_app.config['MAX_IMAGE_PIXELS']:,}")


@meta.get("/")
def index() -> Response:
    return redirect(url_for("meta.docs"))
