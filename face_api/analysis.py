"""One call that runs detection and the requested analyses on every face of an image."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from face_api.descriptors import face_descriptors
from face_api.detection import DetectionOptions, FaceBox, detect_faces
from face_api.errors import InvalidOptionError
from face_api.images import check_image_array
from face_api.landmarks import Landmarks, face_landmarks
from face_api.models import FaceModels, default_models
from face_api.pose import HeadPose, estimate_head_pose
from face_api.state import FaceState, StateThresholds, face_state

ANALYSES = ("landmarks", "state", "pose", "descriptor")
DEFAULT_ANALYSES = frozenset({"landmarks", "state", "pose"})


def parse_analyses(names: Iterable[str] | str) -> frozenset[str]:
    """Return the set of analyses named in ``names`` (a list or a comma-separated string)."""
    if isinstance(names, str):
        names = [name.strip() for name in names.split(",") if name.strip()]
    chosen = frozenset(names)
    unknown = sorted(chosen - set(ANALYSES))
    if unknown:
        raise InvalidOptionError(f"unknown analysis {', '.join(unknown)}; choose from {', '.join(ANALYSES)}")
    return chosen


@dataclass(frozen=True)
class AnalysisOptions:
    """Detector settings, which analyses to run, and the face-state thresholds."""

    detection: DetectionOptions = field(default_factory=DetectionOptions)
    analyses: frozenset[str] = DEFAULT_ANALYSES
    thresholds: StateThresholds = field(default_factory=StateThresholds)
    num_jitters: int = 0


@dataclass(frozen=True)
class FaceAnalysis:
    """Everything measured about one face.

    A field is None when its analysis was not requested, and ``pose`` is also None when
    ``cv2.solvePnP`` found no solution. ``to_dict`` emits a key for each requested analysis.
    """

    box: FaceBox
    landmarks: Landmarks | None = None
    state: FaceState | None = None
    pose: HeadPose | None = None
    descriptor: np.ndarray | None = None
    analyses: frozenset[str] = frozenset()

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"box": self.box.to_dict()}
        if "landmarks" in self.analyses:
            result["landmarks"] = self.landmarks.to_dict() if self.landmarks is not None else None
        if "state" in self.analyses:
            result["state"] = self.state.to_dict() if self.state is not None else None
        if "pose" in self.analyses:
            result["pose"] = self.pose.to_dict() if self.pose is not None else None
        if "descriptor" in self.analyses:
            result["descriptor"] = self.descriptor.tolist() if self.descriptor is not None else None
        return result


def analyze_image(image: np.ndarray, options: AnalysisOptions | None = None,
                  models: FaceModels | None = None) -> list[FaceAnalysis]:
    """Detect the faces of an RGB image and run ``options.analyses`` on each.

    The 68 landmarks are computed whenever state, pose or descriptor need them, and returned only
    when "landmarks" is requested.
    """
    options = options or AnalysisOptions()
    models = models or default_models()
    image = check_image_array(image)
    boxes = detect_faces(image, options.detection, models)
    requested = options.analyses

    if not boxes or not requested:
        return [FaceAnalysis(box=box) for box in boxes]

    shapes = face_landmarks(image, boxes, "68", models)
    descriptors = face_descriptors(image, shapes, options.num_jitters, models) if "descriptor" in requested else None
    image_size = (image.shape[1], image.shape[0])

    faces = []
    for index, (box, shape) in enumerate(zip(boxes, shapes, strict=True)):
        faces.append(FaceAnalysis(
            box=box,
            landmarks=shape if "landmarks" in requested else None,
            state=face_state(shape, options.thresholds) if "state" in requested else None,
            pose=estimate_head_pose(shape, image_size) if "pose" in requested else None,
            descriptor=descriptors[index] if descriptors is not None else None,
            analyses=requested,
        ))
    return faces
