"""Read images, fields and query options from a request, in JSON (base64) or multipart form.

JSON: ``{"image": "<base64 or data URL>", ...}`` with ``Content-Type: application/json``.
Multipart: file parts named like the JSON fields; a base64 string or a JSON list in a text part works too.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, request

from face_api.analysis import AnalysisOptions, parse_analyses
from face_api.detection import DetectionOptions
from face_api.errors import InvalidOptionError
from face_api.images import load_image
from face_api.server.errors import ApiError

DATA_URL_PREFIX = re.compile(r"^data:[\w.+-]+/[\w.+-]+(;[\w.+-]+=[\w.+-]+)*;base64,", re.IGNORECASE)


@dataclass
class Payload:
    """The decoded request: image bytes by field name, and the other JSON fields."""

    images: dict[str, bytes] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)

    def load(self, name: str):
        """Decode the image in field ``name`` under the server's pixel limit."""
        return load_image(self.images[name], max_pixels=current_app.config["MAX_IMAGE_PIXELS"])


def read_payload(image_fields: tuple[str, ...], value_fields: tuple[str, ...] = ()) -> Payload:
    """Read the request body; raise :class:`ApiError` for an empty, malformed or unsupported body."""
    if request.content_length == 0:
        raise ApiError("empty_body", "the request body is empty; send JSON with a base64 image or a multipart upload")
    if request.is_json:
        return _read_json(image_fields, value_fields)
    if request.mimetype == "multipart/form-data":
        return _read_multipart(image_fields, value_fields)
    received = request.mimetype or "none"
    raise ApiError("unsupported_media_type",
                   f"Content-Type {received} is not supported; use application/json or multipart/form-data")


def require(payload: Payload, name: str) -> None:
    if name not in payload.images and name not in payload.fields:
        raise ApiError("missing_field", f"the request has no {name!r} field; send the image as {name!r}")


def decode_base64(text: object, name: str) -> bytes:
    """Decode a base64 string or a ``data:<type>;base64,`` URL from field ``name``."""
    if not isinstance(text, str):
        raise ApiError("invalid_base64", f"field {name!r} must be a base64 string, got {type(text).__name__}")
    text = text.strip()
    if text.lower().startswith("data:"):
        prefix = DATA_URL_PREFIX.match(text)
        if prefix is None:
            raise ApiError("invalid_base64", f"field {name!r} is a data URL without ';base64,'; "
                                             f"use data:image/jpeg;base64,<data>")
        text = text[prefix.end():]
    compact = "".join(text.split())
    if not compact:
        raise ApiError("invalid_image", f"field {name!r} is empty; send a base64-encoded image")
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ApiError("invalid_base64", f"field {name!r} is not valid base64: {error}") from error


def _read_json(image_fields: tuple[str, ...], value_fields: tuple[str, ...]) -> Payload:
    if not request.get_data(cache=True):
        raise ApiError("empty_body", "the request body is empty; send JSON with a base64 image")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError("invalid_json", 'the body must be a JSON object such as {"image": "<base64>"}')
    _reject_unknown(body, image_fields + value_fields)
    payload = Payload()
    for name, value in body.items():
        if name in image_fields:
            payload.images[name] = decode_base64(value, name)
        else:
            payload.fields[name] = value
    return payload


def _read_multipart(image_fields: tuple[str, ...], value_fields: tuple[str, ...]) -> Payload:
    files, form = request.files, request.form
    if not files and not form:
        raise ApiError("empty_body", "the multipart body has no parts; upload the image as the 'image' part")
    _reject_unknown(list(files) + list(form), image_fields + value_fields)
    payload = Payload()
    for name in files:
        if name not in image_fields:
            raise ApiError("unknown_field", f"part {name!r} is a file, but only {', '.join(image_fields)} take files")
        data = files[name].read()
        if not data:
            raise ApiError("invalid_image", f"the uploaded file {name!r} is empty")
        payload.images[name] = data
    for name, value in form.items():
        if name in image_fields:
            payload.images[name] = decode_base64(value, name)
        else:
            payload.fields[name] = _parse_json_text(value, name)
    return payload


def _parse_json_text(value: str, name: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError as error:
        raise ApiError("invalid_json", f"part {name!r} must hold JSON (for example a list of numbers): {error}") \
            from error


def _reject_unknown(names, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(names) - set(allowed))
    if unknown:
        raise ApiError("unknown_field", f"unknown field {', '.join(map(repr, unknown))}; "
                                        f"this endpoint accepts {', '.join(allowed)}")


# ---------------------------------------------------------------- query options

@dataclass(frozen=True)
class QueryOption:
    """One query parameter: its parser and its help text."""

    parse: Callable[[str], Any]
    help: str


def _parse_int(text: str) -> int:
    return int(text)


def _parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise ValueError("expected true or false")


# Query options that every analysis endpoint accepts.
DETECTION_QUERY = ("detector", "upsample", "max_side")

QUERY_OPTIONS: dict[str, QueryOption] = {
    "detector": QueryOption(str, "hog (default) or cnn"),
    "upsample": QueryOption(_parse_int, "0 to 3, default 1: times to double the image size to find small faces"),
    "max_side": QueryOption(_parse_int, "downscale so the longer side is at most this many pixels before detecting"),
    "analyses": QueryOption(parse_analyses, "comma-separated subset of landmarks,state,pose,descriptor"),
    "num_jitters": QueryOption(_parse_int, "0 to 100, default 0: jittered copies averaged per descriptor"),
    "tolerance": QueryOption(float, "maximum Euclidean distance for a match, default 0.6"),
    "numbers": QueryOption(_parse_bool, "true (default) or false: draw landmark numbers"),
}


def read_query(allowed: tuple[str, ...]) -> dict[str, Any]:
    """Parse the query string; unknown names and bad values raise :class:`ApiError`."""
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        accepted = ", ".join(allowed) or "none"
        raise ApiError("unknown_option", f"unknown query option {', '.join(map(repr, unknown))}; "
                                         f"this endpoint accepts {accepted}")
    values: dict[str, Any] = {}
    for name in allowed:
        given = request.args.getlist(name)
        if not given:
            continue
        if len(given) > 1:
            raise ApiError("invalid_option", f"query option {name!r} is given {len(given)} times; give it once")
        try:
            values[name] = QUERY_OPTIONS[name].parse(given[0])
        except InvalidOptionError as error:
            raise ApiError("invalid_option", error.message) from error
        except ValueError as error:
            raise ApiError("invalid_option", f"query option {name}={given[0]!r} is invalid: "
                                             f"{QUERY_OPTIONS[name].help}") from error
    return values


def analysis_options(query: dict[str, Any], default_analyses: frozenset[str]) -> AnalysisOptions:
    """Build the analysis options from parsed query values and the app's detector budgets."""
    config = current_app.config
    detection = DetectionOptions(
        detector=query.get("detector", "hog"),
        upsample=query.get("upsample", 1),
        max_side=query.get("max_side"),
        cnn_max_side=config["CNN_MAX_SIDE"],
        hog_max_pixels=config["HOG_MAX_PIXELS"],
        cnn_max_pixels=config["CNN_MAX_PIXELS"],
    )
    detection.validate()
    num_jitters = query.get("num_jitters", 0)
    if not 0 <= num_jitters <= 100:
        raise ApiError("invalid_option", f"num_jitters must be from 0 to 100, got {num_jitters}")
    return AnalysisOptions(detection=detection, analyses=query.get("analyses", default_analyses),
                           num_jitters=num_jitters)
