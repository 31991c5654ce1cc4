"""Server settings. Each can be overridden by ``create_app(config)`` or by an environment variable
``FACE_API_<NAME>`` (JSON-parsed when possible, so ``FACE_API_MAX_CONTENT_LENGTH=5242880`` is an int).
"""

from __future__ import annotations

from face_api.detection import DetectionOptions
from face_api.images import DEFAULT_MAX_PIXELS

_DETECTION_DEFAULTS = DetectionOptions()


class DefaultConfig:
    """Defaults for a server facing untrusted clients."""

    # Largest request body in bytes; larger requests get 413 payload_too_large. Base64 adds a third,
    # so a JSON request carries an image of at most about 7.5 MB at this setting.
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024
    # Werkzeug keeps non-file multipart fields in memory up to this size (a base64 image sent as a text field).
    MAX_FORM_MEMORY_SIZE = 10 * 1024 * 1024
    # Decompression-bomb guard: images with more pixels are rejected before decoding.
    MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS
    # Pixels a detector may process after downscaling and upsampling (see DetectionOptions).
    HOG_MAX_PIXELS = _DETECTION_DEFAULTS.hog_max_pixels
    CNN_MAX_PIXELS = _DETECTION_DEFAULTS.cnn_max_pixels
    CNN_MAX_SIDE = _DETECTION_DEFAULTS.cnn_max_side
    # Load the models in create_app, so each gunicorn worker pays the load once, before its first request.
    PRELOAD_MODELS = True
    # Explicit model files; None searches $FACE_API_<KEY>_PATH, face_recognition_models, then the asset cache.
    LANDMARKS_68_PATH = None
    LANDMARKS_5_PATH = None
    DESCRIPTOR_PATH = None
    CNN_DETECTOR_PATH = None
