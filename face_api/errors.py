"""Error types of the face API. Each carries a stable ``code`` and an HTTP status for API clients."""

from __future__ import annotations


class FaceApiError(Exception):
    """Base class for failures caused by the input, the options or the model files.

    The message names the value and the fix. The CLI prints it, and the server returns it as JSON.
    """

    code = "face_api_error"
    http_status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidImageError(FaceApiError):
    """Raised when the data is not a readable JPEG, PNG, WebP or BMP image."""

    code = "invalid_image"
    http_status = 400


class TooManyPixelsError(FaceApiError):
    """Raised before decoding when width x height exceeds the configured limit (decompression-bomb guard)."""

    code = "too_many_pixels"
    http_status = 413


class DetectionBudgetError(FaceApiError):
    """Raised when a detector would process more pixels than its configured budget allows."""

    code = "detection_budget_exceeded"
    http_status = 422


class InvalidOptionError(FaceApiError):
    """Raised when an option has a value outside its allowed set or range."""

    code = "invalid_option"
    http_status = 400


class InvalidDescriptorError(FaceApiError):
    """Raised when a face descriptor is not 128 finite numbers."""

    code = "invalid_descriptor"
    http_status = 400


class NoFaceFoundError(FaceApiError):
    """Raised when an operation needs a face and the image has none."""

    code = "no_face_found"
    http_status = 422


class ModelUnavailableError(FaceApiError):
    """Raised when a dlib model file cannot be found, fetched or loaded."""

    code = "model_unavailable"
    http_status = 503


class DataNotFoundError(FaceApiError):
    """Raised when the demo finds no folder of sample photos."""

    code = "data_not_found"
    http_status = 404
