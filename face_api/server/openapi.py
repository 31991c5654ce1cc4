"""OpenAPI 3.1 description of the face API, served at ``/openapi.json`` and rendered at ``/docs``."""

from __future__ import annotations

from typing import Any

from face_api.server.errors import ERROR_CODES
from face_api.server.inputs import DETECTION_QUERY, QUERY_OPTIONS

VERSION = "1.0.0"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _query_parameter(name: str) -> dict[str, Any]:
    types = {"detector": {"type": "string", "enum": ["hog", "cnn"], "default": "hog"},
             "upsample": {"type": "integer", "minimum": 0, "maximum": 3, "default": 1},
             "max_side": {"type": "integer", "minimum": 32},
             "analyses": {"type": "string", "example": "landmarks,state,pose"},
             "num_jitters": {"type": "integer", "minimum": 0, "maximum": 100, "default": 0},
             "tolerance": {"type": "number", "exclusiveMinimum": 0, "maximum": 2, "default": 0.6},
             "numbers": {"type": "boolean", "default": True}}
    return {"name": name, "in": "query", "required": False, "description": QUERY_OPTIONS[name].help,
            "schema": types[name]}


def _image_body(extra_json: dict[str, Any] | None = None, extra_required: list[str] | None = None,
                file_fields: tuple[str, ...] = ("image",)) -> dict[str, Any]:
    json_properties = {"image": {"type": "string", "description": "base64 image or data URL (JPEG, PNG, WebP, BMP)"}}
    json_properties.update(extra_json or {})
    multipart_properties = {name: {"type": "string", "format": "binary"} for name in file_fields}
    if extra_json and "known_descriptor" in extra_json:
        multipart_properties["known_descriptor"] = {"type": "string", "description": "JSON list of 128 numbers"}
    return {"required": True, "content": {
        "application/json": {"schema": {"type": "object", "properties": json_properties,
                                        "required": ["image", *(extra_required or [])],
                                        "additionalProperties": False}},
        "multipart/form-data": {"schema": {"type": "object", "properties": multipart_properties,
                                           "required": ["image"]}},
    }}


def _errors(*codes: str) -> dict[str, Any]:
    statuses: dict[str, list[str]] = {}
    for code in codes:
        statuses.setdefault(str(ERROR_CODES[code][0]), []).append(code)
    return {status: {"description": "error codes: " + ", ".join(names),
                     "content": {"application/json": {"schema": _ref("Error")}}}
            for status, names in sorted(statuses.items())}


REQUEST_ERRORS = ("empty_body", "invalid_json", "missing_field", "unknown_field", "invalid_base64", "invalid_image",
                  "unknown_option", "invalid_option", "payload_too_large", "too_many_pixels",
                  "unsupported_media_type", "detection_budget_exceeded", "internal_error", "model_unavailable")


def _operation(summary: str, description: str, query: tuple[str, ...], body: dict[str, Any],
               ok: dict[str, Any], extra_errors: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"post": {
        "summary": summary, "description": description,
        "parameters": [_query_parameter(name) for name in query],
        "requestBody": body,
        "responses": {"200": ok, **_errors(*REQUEST_ERRORS, *extra_errors)},
    }}


def _json_ok(schema: str) -> dict[str, Any]:
    return {"description": "OK", "content": {"application/json": {"schema": _ref(schema)}}}


SCHEMAS: dict[str, Any] = {
    "Box": {"type": "object", "description": "pixel corners in the (EXIF-rotated) image, clipped to it",
            "properties": {key: {"type": "integer"} for key in ("left", "top", "right", "bottom", "width", "height")}
            | {"confidence": {"type": ["number", "null"], "description": "dlib detection score, not a probability"}}},
    "Landmarks": {"type": "object", "properties": {
        "model": {"type": "string", "enum": ["68", "5"]},
        "points": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
        "regions": {"type": "object",
                    "description": "jaw, right_eyebrow, left_eyebrow, nose_bridge, nose_tip, right_eye, left_eye, "
                                   "outer_lips, inner_lips (left and right from the subject's view)"}}},
    "FaceState": {"type": "object", "properties": {
        "left_eye_ear": {"type": "number"}, "right_eye_ear": {"type": "number"},
        "left_eye_open": {"type": "boolean"}, "right_eye_open": {"type": "boolean"},
        "eyes_closed": {"type": "boolean", "description": "mean EAR below 0.2"},
        "mouth_aspect_ratio": {"type": "number"}, "mouth_open": {"type": "boolean"},
        "mouth_width": {"type": "number"}, "brow_raise": {"type": "number"},
        "expression": {"type": "string", "enum": ["neutral", "smile", "surprise", "mouth_open"]}}},
    "HeadPose": {"type": ["object", "null"], "properties": {
        "yaw": {"type": "number"}, "pitch": {"type": "number"}, "roll": {"type": "number"},
        "rotation_vector": {"type": "array", "items": {"type": "number"}},
        "translation_mm": {"type": "array", "items": {"type": "number"}}}},
    "Face": {"type": "object", "properties": {
        "box": _ref("Box"), "landmarks": _ref("Landmarks"), "state": _ref("FaceState"), "pose": _ref("HeadPose"),
        "descriptor": {"type": "array", "items": {"type": "number"}, "minItems": 128, "maxItems": 128}}},
    "AnalysisResponse": {"type": "object", "properties": {
        "image": {"type": "object", "properties": {"width": {"type": "integer"}, "height": {"type": "integer"}}},
        "options": {"type": "object"}, "face_count": {"type": "integer"},
        "faces": {"type": "array", "items": _ref("Face")}, "elapsed_ms": {"type": "number"}}},
    "CompareResponse": {"type": "object", "properties": {
        "known": {"type": "object"}, "tolerance": {"type": "number"}, "match": {"type": "boolean"},
        "face_count": {"type": "integer"},
        "faces": {"type": "array", "items": {"type": "object", "properties": {
            "box": _ref("Box"), "distance": {"type": "number"}, "match": {"type": "boolean"}}}}}},
    "Error": {"type": "object", "properties": {
        "error": {"type": "object", "properties": {"code": {"type": "string", "enum": sorted(ERROR_CODES)},
                                                   "message": {"type": "string"}}},
        "request_id": {"type": "string"}}},
}


def build_spec() -> dict[str, Any]:
    """Return the OpenAPI document as a dict."""
    descriptor = {"type": "array", "items": {"type": "number"}, "minItems": 128, "maxItems": 128}
    return {
        "openapi": "3.1.0",
        "info": {"title": "face_api", "version": VERSION,
                 "description": "Face detection, 68 landmarks, eye/mouth state, head pose and 128-d descriptors "
                                "on dlib. Send an image as base64 JSON or as a multipart upload."},
        "paths": {
            "/api/detect": _operation(
                "Detect faces and analyse them",
                "Boxes plus the analyses chosen with `analyses` (default landmarks,state,pose). "
                "An image without faces returns 200 with face_count 0.",
                DETECTION_QUERY + ("analyses",), _image_body(), _json_ok("AnalysisResponse")),
            "/api/encode": _operation(
                "Compute 128-d face descriptors", "Box and descriptor of every face.",
                DETECTION_QUERY + ("num_jitters",), _image_body(), _json_ok("AnalysisResponse")),
            "/api/compare": _operation(
                "Compare faces with a known face",
                "Every face of `image` against the largest face of `known_image`, or against `known_descriptor`. "
                "Euclidean distance at most `tolerance` is a match.",
                DETECTION_QUERY + ("tolerance",),
                _image_body({"known_image": {"type": "string", "description": "base64 image of the known person"},
                             "known_descriptor": descriptor}, file_fields=("image", "known_image")),
                _json_ok("CompareResponse"), ("no_face_found", "invalid_descriptor", "conflicting_fields")),
            "/api/annotate": _operation(
                "Draw boxes, numbered landmarks and labels",
                "Returns a PNG (longer side at most 1600 px); the X-Face-Count header has the number of faces.",
                DETECTION_QUERY + ("analyses", "numbers"), _image_body(),
                {"description": "annotated PNG", "content": {"image/png": {"schema": {"type": "string",
                                                                                       "format": "binary"}}}}),
            "/healthz": {"get": {"summary": "Liveness and loaded models", "responses": {"200": {"description": "OK"}}}},
        },
        "components": {"schemas": SCHEMAS},
    }

