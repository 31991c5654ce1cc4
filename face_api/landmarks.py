"""Facial landmarks from dlib's shape predictors (68-point and 5-point) and aligned face chips.

Region names follow the iBUG 300-W annotation used to train the 68-point model, from the subject's
point of view: ``right_eye`` is the subject's right eye, which appears on the left of the image.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import dlib
import numpy as np

from face_api.detection import FaceBox
from face_api.errors import InvalidOptionError
from face_api.images import check_image_array
from face_api.models import FaceModels, default_models

REGIONS_68: dict[str, range] = {
    "jaw": range(0, 17),
    "right_eyebrow": range(17, 22),
    "left_eyebrow": range(22, 27),
    "nose_bridge": range(27, 31),
    "nose_tip": range(31, 36),
    "right_eye": range(36, 42),
    "left_eye": range(42, 48),
    "outer_lips": range(48, 60),
    "inner_lips": range(60, 68),
}

# dlib's 5-point model: two corners of each eye and the base of the nose.
REGIONS_5: dict[str, range] = {
    "left_eye": range(0, 2),
    "right_eye": range(2, 4),
    "nose_base": range(4, 5),
}

LANDMARK_MODELS = ("68", "5")


@dataclass(frozen=True)
class Landmarks:
    """The landmark points of one face, shape (68, 2) or (5, 2), as integer (x, y) pixel coordinates."""

    points: np.ndarray
    shape: Any = field(default=None, repr=False, compare=False)  # dlib.full_object_detection, for alignment

    @property
    def model(self) -> str:
        return str(len(self.points))

    @property
    def region_ranges(self) -> dict[str, range]:
        return REGIONS_68 if len(self.points) == 68 else REGIONS_5

    def region(self, name: str) -> np.ndarray:
        """Return the points of one named region, shape (n, 2)."""
        return self.points[self.region_ranges[name].start:self.region_ranges[name].stop]

    def regions(self) -> dict[str, np.ndarray]:
        return {name: self.region(name) for name in self.region_ranges}

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "points": self.points.tolist(),
            "regions": {name: points.tolist() for name, points in self.regions().items()},
        }


def face_landmarks(image: np.ndarray, boxes: Sequence[FaceBox], model: str = "68",
                   models: FaceModels | None = None) -> list[Landmarks]:
    """Predict the landmarks of each face box with the 68-point or the 5-point shape predictor."""
    if model not in LANDMARK_MODELS:
        raise InvalidOptionError(f"landmark model must be '68' or '5', got {model!r}")
    models = models or default_models()
    image = check_image_array(image)
    predictor = models.landmarks_68 if model == "68" else models.landmarks_5

    result = []
    for box in boxes:
        shape = predictor(image, box.to_rect())
        points = np.array([(part.x, part.y) for part in shape.parts()], dtype=np.int64)
        result.append(Landmarks(points=points, shape=shape))
    return result


def face_chips(image: np.ndarray, landmarks: Sequence[Landmarks], size: int = 150,
               padding: float = 0.25) -> list[np.ndarray]:
    """Return each face rotated, scaled and cropped to a ``size`` x ``size`` RGB chip.

    This is the alignment dlib's ResNet encoder uses: eyes level and at fixed positions. ``padding`` is
    the margin around the face as a fraction of its size (0.25 is the encoder's default).
    """
    if not landmarks:
        return []
    if size < 16 or not 0.0 <= padding <= 1.0:
        raise InvalidOptionError(f"chip size must be at least 16 px and padding within 0..1, got {size}, {padding}")
    image = check_image_array(image)
    shapes = dlib.full_object_detections()
    for item in landmarks:
        shapes.append(item.shape)
    return [np.asarray(chip) for chip in dlib.get_face_chips(image, shapes, size=size, padding=padding)]
