"""The ``/api`` blueprint: detect, encode, compare and annotate."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from face_api.analysis import AnalysisOptions, analyze_image
from face_api.annotate import annotate_image, encode_png
from face_api.compare import compare_image, known_face_descriptor
from face_api.descriptors import DEFAULT_TOLERANCE, check_descriptor, check_tolerance
from face_api.errors import NoFaceFoundError
from face_api.models import FaceModels
from face_api.server.errors import ApiError
from face_api.server.inputs import DETECTION_QUERY, analysis_options, read_payload, read_query, require

api = Blueprint("api", __name__, url_prefix="/api")

DETECT_ANALYSES = frozenset({"landmarks", "state", "pose"})
# Annotated images are shrunk to this longer side, which keeps responses small and labels readable.
ANNOTATE_MAX_SIDE = 1600


def current_models() -> FaceModels:
    return current_app.extensions["face_api.models"]


@api.post("/detect")
def detect() -> Response:
    """Return the boxes, 68 landmarks, face state and head pose of every face."""
    query = read_query(DETECTION_QUERY + ("analyses",))
    payload = read_payload(("image",))
    require(payload, "image")
    options = analysis_options(query, DETECT_ANALYSES)
    return jsonify(_analyse(payload.load("image"), options))


@api.post("/encode")
def encode() -> Response:
    """Return the box and 128-d descriptor of every face."""
    query = read_query(DETECTION_QUERY + ("num_jitters",))
    payload = read_payload(("image",))
    require(payload, "image")
    options = analysis_options(query, frozenset({"descriptor"}))
    return jsonify(_analyse(payload.load("image"), options))


@api.post("/compare")
def compare() -> Response:
    """Compare every face in ``image`` with the largest face of ``known_image`` or with ``known_descriptor``."""
    query = read_query(DETECTION_QUERY + ("tolerance",))
    tolerance = query.get("tolerance", DEFAULT_TOLERANCE)
    check_tolerance(tolerance)
    payload = read_payload(("image", "known_image"), ("known_descriptor",))
    require(payload, "image")
    options = analysis_options(query, frozenset({"descriptor"}))
    started = time.perf_counter()

    known_info: dict[str, Any]
    if "known_image" in payload.images and "known_descriptor" in payload.fields:
        raise ApiError("conflicting_fields", "send either known_image or known_descriptor, not both")
    if "known_image" in payload.images:
        known, box, count = known_face_descriptor(payload.load("known_image"), options, current_models())
        known_info = {"source": "known_image", "box": box.to_dict(), "face_count": count}
    elif "known_descriptor" in payload.fields:
        known = check_descriptor(payload.fields["known_descriptor"], "known_descriptor")
        known_info = {"source": "known_descriptor"}
    else:
        raise ApiError("missing_field", "send the known face as 'known_image' or as 'known_descriptor'")

    image = payload.load("image")
    faces = compare_image(known, image, options, tolerance, current_models())
    if not faces:
        raise NoFaceFoundError("no face found in 'image'; use a photo with a visible frontal face, "
                               "or try upsample=2 or detector=cnn")
    return jsonify({
        "known": known_info,
        "image": {"width": image.shape[1], "height": image.shape[0]},
        "tolerance": tolerance,
        "match": any(face.is_match for face in faces),
        "face_count": len(faces),
        "faces": [face.to_dict() for face in faces],
        "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
    })


@api.post("/annotate")
def annotate() -> Response:
    """Return the image as PNG with boxes, numbered landmarks and labels drawn on it."""
    query = read_query(DETECTION_QUERY + ("analyses", "numbers"))
    payload = read_payload(("image",))
    require(payload, "image")
    options = analysis_options(query, DETECT_ANALYSES)
    image = payload.load("image")
    faces = analyze_image(image, options, current_models())
    drawn = annotate_image(image, faces, number_landmarks=query.get("numbers", True), max_side=ANNOTATE_MAX_SIDE)
    response = Response(encode_png(drawn), mimetype="image/png")
    response.headers["X-Face-Count"] = str(len(faces))
    return response


def _analyse(image, options: AnalysisOptions) -> dict[str, Any]:
    started = time.perf_counter()
    faces = analyze_image(image, options, current_models())
    detection = options.detection
    return {
        "image": {"width": image.shape[1], "height": image.shape[0]},
        "options": {"detector": detection.detector, "upsample": detection.upsample,
                    "max_side": detection.target_side(), "analyses": sorted(options.analyses)},
        "face_count": len(faces),
        "faces": [face.to_dict() for face in faces],
        "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
    }
