"""Face state from 68 landmarks: eye aspect ratio, mouth aspect ratio and a geometric expression label.

The eye aspect ratio (EAR) comes from Soukupová and Čech, "Real-Time Eye Blink Detection using Facial
Landmarks" (Computer Vision Winter Workshop 2016): for eye points p1..p6 (corner, two upper lid points,
corner, two lower lid points), EAR = (|p2 - p6| + |p3 - p5|) / (2 |p1 - p4|). It is about 0.25 to 0.4
for an open eye and falls towards 0 as the lids close. The paper uses 0.2 as a fixed threshold.
The mouth aspect ratio (MAR) applies the same idea to the inner lip contour.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from face_api.errors import InvalidOptionError
from face_api.landmarks import Landmarks

EXPRESSIONS = ("neutral", "smile", "surprise", "mouth_open")


@dataclass(frozen=True)
class StateThresholds:
    """Decision thresholds; each ratio is returned too, so callers can apply their own.

    NOTE: ``mouth_open_mar``, ``smile_mouth_width`` and ``surprise_brow_raise`` come from the 32 faces
    that HOG finds in the 27 sample photos of ageitgey/face_recognition. There, neutral mouths measured
    width 0.33 to 0.44 and smiles 0.47 to 0.54. Teeth in a smile gave MAR up to 0.24, speech 0.41 to 0.44.
    No photo shows closed eyes or surprise, so those two rules are tested only on synthetic landmarks.
    Laughing squints measured EAR 0.14 to 0.18, below the 0.2 threshold, because a single photo cannot
    tell a squint from a blink.
    """

    eye_closed_ear: float = 0.2
    mouth_open_mar: float = 0.3
    smile_mouth_width: float = 0.45
    surprise_brow_raise: float = 0.30


@dataclass(frozen=True)
class FaceState:
    """Measured ratios of one face and the labels derived from them.

    ``mouth_width`` is the mouth corner distance over the jaw width (points 0 to 16).
    ``brow_raise`` is the mean height of the eyebrows above the line through the eye centres, over the
    distance between the eye centres.
    """

    left_eye_ear: float
    right_eye_ear: float
    left_eye_open: bool
    right_eye_open: bool
    eyes_closed: bool
    mouth_aspect_ratio: float
    mouth_open: bool
    mouth_width: float
    brow_raise: float
    expression: str

    def to_dict(self) -> dict[str, Any]:
        return {key: round(value, 4) if isinstance(value, float) else value for key, value in asdict(self).items()}


def eye_aspect_ratio(eye: np.ndarray) -> float:
    """Return the EAR of six eye points in dlib order (outer corner first, clockwise in the image)."""
    eye = np.asarray(eye, dtype=np.float64)
    vertical = np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])
    horizontal = np.linalg.norm(eye[0] - eye[3])
    return float(vertical / (2.0 * horizontal)) if horizontal > 0 else 0.0


def mouth_aspect_ratio(inner_lips: np.ndarray) -> float:
    """Return the MAR of the eight inner-lip points (60 to 67): mean lip gap over mouth width."""
    lips = np.asarray(inner_lips, dtype=np.float64)
    gaps = [np.linalg.norm(lips[1] - lips[7]), np.linalg.norm(lips[2] - lips[6]), np.linalg.norm(lips[3] - lips[5])]
    width = np.linalg.norm(lips[0] - lips[4])
    return float(np.mean(gaps) / width) if width > 0 else 0.0


def face_state(landmarks: Landmarks, thresholds: StateThresholds | None = None) -> FaceState:
    """Measure eyes, mouth and eyebrows of a 68-point face and label its expression."""
    if landmarks.model != "68":
        raise InvalidOptionError("face state needs the 68-point landmarks, got the 5-point model")
    thresholds = thresholds or StateThresholds()
    points = landmarks.points.astype(np.float64)

    left_ear = eye_aspect_ratio(landmarks.region("left_eye"))
    right_ear = eye_aspect_ratio(landmarks.region("right_eye"))
    mar = mouth_aspect_ratio(landmarks.region("inner_lips"))
    jaw_width = np.linalg.norm(points[16] - points[0])
    mouth_width = float(np.linalg.norm(points[54] - points[48]) / jaw_width) if jaw_width > 0 else 0.0
    brow_raise = _brow_raise(points)

    mouth_open = mar >= thresholds.mouth_open_mar
    return FaceState(
        left_eye_ear=left_ear,
        right_eye_ear=right_ear,
        left_eye_open=left_ear >= thresholds.eye_closed_ear,
        right_eye_open=right_ear >= thresholds.eye_closed_ear,
        eyes_closed=(left_ear + right_ear) / 2 < thresholds.eye_closed_ear,
        mouth_aspect_ratio=mar,
        mouth_open=mouth_open,
        mouth_width=mouth_width,
        brow_raise=brow_raise,
        expression=classify_expression(mouth_open, mouth_width, brow_raise, thresholds),
    )


def classify_expression(mouth_open: bool, mouth_width: float, brow_raise: float,
                        thresholds: StateThresholds) -> str:
    """Return one of ``EXPRESSIONS`` from the geometric ratios (a rule of thumb, not a trained classifier)."""
    if mouth_open and brow_raise >= thresholds.surprise_brow_raise:
        return "surprise"
    if mouth_width >= thresholds.smile_mouth_width:
        return "smile"
    if mouth_open:
        return "mouth_open"
    return "neutral"


def _brow_raise(points: np.ndarray) -> float:
    """Return the eyebrows' mean height above the eye line over the eye distance; unaffected by head roll."""
    right_eye, left_eye = points[36:42].mean(axis=0), points[42:48].mean(axis=0)
    eye_axis = left_eye - right_eye
    eye_distance = np.linalg.norm(eye_axis)
    if eye_distance == 0:
        return 0.0
    # The unit normal that points from the eyes towards the forehead (image y grows downwards).
    normal = np.array([eye_axis[1], -eye_axis[0]]) / eye_distance
    heights = (points[17:27] - (right_eye + left_eye) / 2) @ normal
    return float(heights.mean() / eye_distance)
