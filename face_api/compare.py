"""Compare the faces of an image against a known face, given as an image or as a descriptor."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from face_api.analysis import AnalysisOptions, FaceAnalysis, analyze_image
from face_api.descriptors import DEFAULT_TOLERANCE, check_descriptor, check_tolerance, face_distance
from face_api.detection import FaceBox
from face_api.errors import NoFaceFoundError
from face_api.models import FaceModels


@dataclass(frozen=True)
class ComparedFace:
    """One face of the checked image: its box, distance to the known face, and the match decision."""

    box: FaceBox
    distance: float
    is_match: bool

    def to_dict(self) -> dict[str, Any]:
        return {"box": self.box.to_dict(), "distance": round(self.distance, 4), "match": self.is_match}


def largest_face(faces: list[FaceAnalysis]) -> FaceAnalysis:
    """Return the face with the largest box area (the usual subject of a portrait)."""
    return max(faces, key=lambda face: face.box.width * face.box.height)


def known_face_descriptor(image: np.ndarray, options: AnalysisOptions | None = None, models: FaceModels | None = None,
                          name: str = "known image") -> tuple[np.ndarray, FaceBox, int]:
    """Return the descriptor and box of the largest face in ``image``, and how many faces it has.

    Raises:
        NoFaceFoundError: the image has no face; the message names ``name``.
    """
    faces = analyze_image(image, _descriptor_options(options), models)
    if not faces:
        raise NoFaceFoundError(f"no face found in the {name}; use a photo with a visible frontal face, "
                               f"or try upsample=2 or detector=cnn")
    known = largest_face(faces)
    return known.descriptor, known.box, len(faces)


def compare_image(known: np.ndarray, image: np.ndarray, options: AnalysisOptions | None = None,
                  tolerance: float = DEFAULT_TOLERANCE, models: FaceModels | None = None) -> list[ComparedFace]:
    """Compare every face in ``image`` with the ``known`` descriptor; an empty list when there is none."""
    check_tolerance(tolerance)
    known = check_descriptor(known, "known descriptor")
    faces = analyze_image(image, _descriptor_options(options), models)
    result = []
    for face in faces:
        distance = float(face_distance(known, face.descriptor)[0])
        result.append(ComparedFace(box=face.box, distance=distance, is_match=distance <= tolerance))
    return result


def _descriptor_options(options: AnalysisOptions | None) -> AnalysisOptions:
    return replace(options or AnalysisOptions(), analyses=frozenset({"descriptor"}))
