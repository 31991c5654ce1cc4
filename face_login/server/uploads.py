"""Read and validate the multipart fields of a request: user names, photos and liveness frames."""

from __future__ import annotations

import re

import numpy as np
from flask import current_app, request

from face_login.errors import ImageError
from face_login.images import load_image
from face_login.server.errors import ApiError

# Letters of any script (so Chinese names work), digits, '_', '-', '.', and inner spaces.
_NAME_PATTERN = re.compile(r"^[\w][\w .\-]*$")


def check_fields(form: tuple[str, ...] = (), files: tuple[str, ...] = ()) -> None:
    """Reject form and file fields that the endpoint does not read, so that a misspelt field is not ignored."""
    allowed_files = set(files) | {f"{name}[]" for name in files}
    unknown = sorted((set(request.form) - set(form)) | (set(request.files) - allowed_files))
    if unknown:
        expected = ", ".join(f"'{name}'" for name in (*form, *files))
        raise ApiError(400, "unknown_field",
                       f"unknown field(s) {', '.join(repr(name) for name in unknown)}; this endpoint reads {expected}")


def read_name(field: str = "name") -> str:
    raw = request.form.get(field)
    if raw is None:
        raise ApiError(400, "missing_field", f"the form field '{field}' is missing; send the user's name")
    name = raw.strip()
    max_length = current_app.config["MAX_NAME_LENGTH"]
    if not name or len(name) > max_length or not _NAME_PATTERN.match(name):
        raise ApiError(400, "invalid_name",
                       f"invalid name {raw[:40]!r}: use 1 to {max_length} letters, digits, spaces, '_', '-' or '.'")
    return name


def validate_name(name: str) -> str:
    """Check a name taken from the URL with the same rule as the form field."""
    if not name or len(name) > current_app.config["MAX_NAME_LENGTH"] or not _NAME_PATTERN.match(name):
        raise ApiError(400, "invalid_name", f"invalid name {name[:40]!r}")
    return name


def read_files(field: str, min_count: int, max_count: int, kind: str) -> list[bytes]:
    """Return the raw bytes of the uploaded files named ``field`` (``field[]`` is accepted too)."""
    files = request.files.getlist(field) + request.files.getlist(f"{field}[]")
    if len(files) < min_count:
        raise ApiError(400, "missing_field",
                       f"the file field '{field}' is missing or has fewer than {min_count} {kind}")
    if len(files) > max_count:
        raise ApiError(400, "too_many_files", f"{len(files)} {kind} sent; the maximum is {max_count}")
    payloads = [file.read() for file in files]
    for index, payload in enumerate(payloads):
        if not payload:
            raise ApiError(400, "invalid_image", f"{kind} {index + 1} is empty", index=index)
    return payloads


def decode(payload: bytes, index: int, kind: str) -> np.ndarray:
    try:
        return load_image(payload, current_app.config["MAX_IMAGE_PIXELS"])
    except ImageError as error:
        too_large = "pixels, more than the limit" in str(error)
        code, status = ("image_too_large", 413) if too_large else ("invalid_image", 400)
        message = str(error).replace("uploaded image", f"{kind} {index + 1}")
        raise ApiError(status, code, message, index=index) from error
