"""128-d face descriptors from dlib's ResNet, Euclidean distance, 1:1 comparison and 1:N matching.

dlib's examples state that two descriptors closer than 0.6 (Euclidean) are in general the same person
(python_examples/face_recognition.py) and that the model scores 99.38% on the LFW benchmark
(examples/dnn_face_recognition_ex.cpp).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dlib
import numpy as np

from face_api.errors import InvalidDescriptorError, InvalidOptionError
from face_api.images import check_image_array
from face_api.landmarks import Landmarks
from face_api.models import FaceModels, default_models

DESCRIPTOR_SIZE = 128
DEFAULT_TOLERANCE = 0.6


def face_descriptors(image: np.ndarray, landmarks: Sequence[Landmarks], num_jitters: int = 0,
                     models: FaceModels | None = None) -> np.ndarray:
    """Return one descriptor per face, shape (n_faces, 128), float64.

    Works with 68-point or 5-point landmarks, which dlib uses to align each face chip.
    ``num_jitters`` > 1 averages the descriptors of that many randomly jittered copies of each chip
    (slower, a little more stable); 0 and 1 both mean one plain pass.
    """
    if not 0 <= num_jitters <= 100:
        raise InvalidOptionError(f"num_jitters must be from 0 to 100, got {num_jitters!r}")
    if not landmarks:
        return np.zeros((0, DESCRIPTOR_SIZE))
    models = models or default_models()
    image = check_image_array(image)

    shapes = dlib.full_object_detections()
    for item in landmarks:
        shapes.append(item.shape)
    encoder = models.descriptor
    with models.dnn_lock:
        vectors = encoder.compute_face_descriptor(image, shapes, num_jitters)
    return np.array([np.asarray(vector) for vector in vectors], dtype=np.float64)


def check_descriptor(values: object, name: str = "descriptor") -> np.ndarray:
    """Return ``values`` as a (128,) float64 array, or raise :class:`InvalidDescriptorError` naming ``name``."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InvalidDescriptorError(f"{name} must be a list of {DESCRIPTOR_SIZE} numbers: {error}") from error
    if array.shape != (DESCRIPTOR_SIZE,):
        raise InvalidDescriptorError(f"{name} must have shape ({DESCRIPTOR_SIZE},), got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise InvalidDescriptorError(f"{name} contains NaN or infinity")
    return array


def face_distance(known: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    """Return the Euclidean distance from ``candidate`` (128,) to each row of ``known`` (n, 128) -> (n,)."""
    known = np.atleast_2d(np.asarray(known, dtype=np.float64))
    if known.size == 0:
        return np.zeros(0)
    return np.linalg.norm(known - np.asarray(candidate, dtype=np.float64), axis=1)


def compare_faces(known: np.ndarray, candidate: np.ndarray, tolerance: float = DEFAULT_TOLERANCE) -> np.ndarray:
    """Return, for each row of ``known``, whether ``candidate`` is within ``tolerance`` of it (bool array)."""
    check_tolerance(tolerance)
    return face_distance(known, candidate) <= tolerance


def check_tolerance(tolerance: float) -> None:
    if not 0.0 < tolerance <= 2.0:
        raise InvalidOptionError(f"tolerance must be within (0, 2], got {tolerance!r}")


@dataclass(frozen=True)
class Match:
    """The nearest known face: its index and name, the distance, and whether it is within the tolerance."""

    index: int
    name: str
    distance: float
    is_match: bool

    def to_dict(self) -> dict:
        return {"name": self.name, "index": self.index, "distance": round(self.distance, 4), "match": self.is_match}


class KnownFaces:
    """A gallery of named descriptors for 1:N identification by nearest neighbour.

    Several descriptors may share a name (more photos of one person); the nearest one decides.
    """

    def __init__(self) -> None:
        self.names: list[str] = []
        self._descriptors: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self.names)

    @property
    def descriptors(self) -> np.ndarray:
        """All descriptors, shape (n, 128)."""
        return np.array(self._descriptors).reshape(-1, DESCRIPTOR_SIZE)

    def add(self, name: str, descriptor: np.ndarray) -> None:
        self.names.append(name)
        self._descriptors.append(check_descriptor(descriptor))

    def match(self, candidate: np.ndarray, tolerance: float = DEFAULT_TOLERANCE) -> Match | None:
        """Return the nearest known face to ``candidate``, or None when the gallery is empty."""
        check_tolerance(tolerance)
        if not self.names:
            return None
        distances = face_distance(self.descriptors, check_descriptor(candidate))
        best = int(np.argmin(distances))
        distance = float(distances[best])
        return Match(index=best, name=self.names[best], distance=distance, is_match=distance <= tolerance)
