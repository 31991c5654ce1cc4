"""Face detection with dlib's HOG + linear SVM detector (default) or its CNN (MMOD) detector."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import cv2
import dlib
import numpy as np

from face_api.errors import DetectionBudgetError, InvalidOptionError
from face_api.images import check_image_array
from face_api.models import FaceModels, default_models

DETECTORS = ("hog", "cnn")
MAX_UPSAMPLE = 3


@dataclass(frozen=True)
class FaceBox:
    """A detected face: dlib rectangle corners in pixels of the input image, clipped to the image.

    ``confidence`` is dlib's detection score, not a probability: the SVM margin for HOG (above 0 means
    detected, about 1 to 2 for clear frontal faces) and the MMOD score for the CNN.
    ``unclipped`` keeps the detector's rectangle, which may extend past the image for a partial face;
    the shape predictors need it to fit the whole face.
    """

    left: int
    top: int
    right: int
    bottom: int
    confidence: float | None = None
    unclipped: tuple[int, int, int, int] | None = field(default=None, repr=False, compare=False)

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def to_rect(self) -> dlib.rectangle:
        """Return the detector's rectangle (unclipped when known) as a ``dlib.rectangle``."""
        left, top, right, bottom = self.unclipped or (self.left, self.top, self.right, self.bottom)
        return dlib.rectangle(left, top, right, bottom)

    def to_dict(self) -> dict[str, Any]:
        confidence = None if self.confidence is None else round(self.confidence, 4)
        return {"left": self.left, "top": self.top, "right": self.right, "bottom": self.bottom,
                "width": self.width, "height": self.height, "confidence": confidence}


@dataclass(frozen=True)
class DetectionOptions:
    """How to run the detector.

    ``upsample`` doubles width and height that many times before detecting, so faces smaller than the
    detector's window (80x80 px for HOG) are found, at 4x the work per step.
    ``max_side`` downscales the image first so its longer side is at most that many pixels (None: keep
    the size for HOG). The CNN always downscales to ``cnn_max_side`` or less, because at full size it
    needs minutes and gigabytes per photo.
    ``hog_max_pixels`` and ``cnn_max_pixels`` cap the pixels each detector processes after downscaling
    and upsampling; larger requests raise :class:`DetectionBudgetError` instead of exhausting memory.
    """

    detector: str = "hog"
    upsample: int = 1
    max_side: int | None = None
    cnn_max_side: int = 640
    hog_max_pixels: int = 36_000_000
    # NOTE: dlib 20.0.1 used about 1 GB of peak RSS per million pixels processed by the CNN detector
    # (measured with getrusage on copies of two_people.jpg shrunk to 376x640 and 528x900). A budget of
    # 1.7 million admits a 640x640 image at upsample 1.
    cnn_max_pixels: int = 1_700_000

    def validate(self) -> None:
        """Raise :class:`InvalidOptionError` for a value outside its allowed set or range."""
        if self.detector not in DETECTORS:
            raise InvalidOptionError(f"detector must be one of {', '.join(DETECTORS)}, got {self.detector!r}")
        if not isinstance(self.upsample, int) or not 0 <= self.upsample <= MAX_UPSAMPLE:
            raise InvalidOptionError(f"upsample must be an integer from 0 to {MAX_UPSAMPLE}, got {self.upsample!r}")
        if self.max_side is not None and (not isinstance(self.max_side, int) or self.max_side < 32):
            raise InvalidOptionError(f"max_side must be an integer of at least 32 pixels, got {self.max_side!r}")

    def target_side(self) -> int | None:
        """Return the longest side the image is downscaled to before detection, if any."""
        if self.detector == "cnn":
            return min(self.max_side or self.cnn_max_side, self.cnn_max_side)
        return self.max_side


def detect_faces(image: np.ndarray, options: DetectionOptions | None = None,
                 models: FaceModels | None = None) -> list[FaceBox]:
    """Find faces in an RGB image and return their boxes, highest confidence first.

    Raises:
        InvalidOptionError: an option is out of range.
        DetectionBudgetError: the work exceeds ``hog_max_pixels`` or ``cnn_max_pixels``.
    """
    options = options or DetectionOptions()
    options.validate()
    models = models or default_models()
    image = check_image_array(image)
    height, width = image.shape[:2]

    scale = downscale_factor(width, height, options.target_side())
    small = image if scale == 1.0 else resize(image, scale)
    check_budget(small.shape[1], small.shape[0], options)

    if options.detector == "hog":
        rects, scores, _ = models.hog_detector.run(small, options.upsample, 0.0)
        found = list(zip(rects, scores, strict=True))
    else:
        with models.dnn_lock:
            detections = models.cnn_detector(small, options.upsample)
        found = [(detection.rect, detection.confidence) for detection in detections]

    boxes = [_to_face_box(rect, score, scale, width, height) for rect, score in found]
    boxes.sort(key=lambda box: box.confidence, reverse=True)
    return [box for box in boxes if box.width > 0 and box.height > 0]


def downscale_factor(width: int, height: int, target_side: int | None) -> float:
    """Return the factor (at most 1.0) that brings the longer side down to ``target_side``."""
    if target_side is None or max(width, height) <= target_side:
        return 1.0
    return target_side / max(width, height)


def resize(image: np.ndarray, scale: float) -> np.ndarray:
    """Resize by ``scale`` with area interpolation (the right filter for shrinking)."""
    height, width = image.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.ascontiguousarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA))


def check_budget(width: int, height: int, options: DetectionOptions) -> None:
    """Raise :class:`DetectionBudgetError` when the detector would process too many pixels."""
    processed = width * height * 4 ** options.upsample
    budget = options.cnn_max_pixels if options.detector == "cnn" else options.hog_max_pixels
    if processed > budget:
        raise DetectionBudgetError(
            f"the {options.detector} detector would process {width}x{height} x 4^{options.upsample} = "
            f"{processed:,} pixels, over its budget of {budget:,}; lower upsample or set max_side "
            f"(at most {math.isqrt(budget // 4 ** options.upsample)} px for a square image at this upsample)")


def _to_face_box(rect: dlib.rectangle, score: float, scale: float, width: int, height: int) -> FaceBox:
    left, top = round(rect.left() / scale), round(rect.top() / scale)
    right, bottom = round(rect.right() / scale), round(rect.bottom() / scale)
    return FaceBox(
        left=min(max(left, 0), width - 1),
        top=min(max(top, 0), height - 1),
        right=min(max(right, 0), width - 1),
        bottom=min(max(bottom, 0), height - 1),
        confidence=float(score),
        unclipped=(left, top, right, bottom),
    )
