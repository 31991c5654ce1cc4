"""Blink liveness check: the eye aspect ratio (EAR) must drop and recover within a short burst of frames.

EAR (Soukupova and Cech, "Real-Time Eye Blink Detection using Facial Landmarks", 2016) is
``(|p2 - p6| + |p3 - p5|) / (2 |p1 - p4|)`` over the six landmarks of one eye: about 0.25-0.35 when
open and under 0.2 when closed.

NOTE: this stops a printed photo or a still image held to the camera. It does not stop a replayed video
of the user blinking, a screen showing a live deepfake, or a mask with cut-out eyes.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import numpy as np

LEFT_EYE = slice(36, 42)  # indices in dlib's 68-point layout
RIGHT_EYE = slice(42, 48)


def eye_aspect_ratio(eye: np.ndarray) -> float:
    """EAR of one eye from its six (x, y) landmarks, ordered as in the 68-point layout."""
    eye = np.asarray(eye, dtype=np.float64)
    vertical = np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])
    horizontal = np.linalg.norm(eye[0] - eye[3])
    return float(vertical / (2.0 * horizontal)) if horizontal > 0 else 0.0


def face_eye_aspect_ratio(landmarks: np.ndarray) -> float:
    """Mean EAR of both eyes from 68 (x, y) landmarks."""
    return (eye_aspect_ratio(landmarks[LEFT_EYE]) + eye_aspect_ratio(landmarks[RIGHT_EYE])) / 2.0


@dataclass(frozen=True)
class BlinkRule:
    open_threshold: float = 0.24  # EAR at or above this counts as open
    closed_threshold: float = 0.20  # EAR at or below this counts as closed
    min_drop: float = 0.06  # the closed EAR must be this far below the open EAR before it
    max_closed_frames: int = 8  # a longer closure is not a blink


@dataclass(frozen=True)
class BlinkResult:
    blinked: bool
    reason: str  # why the rule passed or failed, in English, for logs and API messages
    open_ear: float | None = None
    closed_ear: float | None = None


def detect_blink(ears, rule: BlinkRule | None = None) -> BlinkResult:
    """Decide whether ``ears`` (EAR per frame, NaN where no face was measured) contains open -> closed -> open.

    Frames with NaN are skipped. The closed phase must last at most ``rule.max_closed_frames`` frames and
    be at least ``rule.min_drop`` below the highest open EAR seen before it.
    """
    rule = rule or BlinkRule()
    values = [float(value) for value in ears if value is not None and np.isfinite(value)]
    if len(values) < 3:
        return BlinkResult(False, f"only {len(values)} frames had a measurable face; at least 3 are needed")

    open_ear = None  # highest open EAR before the current closure
    closed_ear = None  # lowest EAR of the current closure
    closed_frames = 0
    long_closure = False
    for value in values:
        if closed_ear is None:
            if value >= rule.open_threshold:
                open_ear = value if open_ear is None else max(open_ear, value)
            elif value <= rule.closed_threshold and open_ear is not None and open_ear - value >= rule.min_drop:
                closed_ear, closed_frames = value, 1
            continue
        if value >= rule.open_threshold:
            if closed_frames <= rule.max_closed_frames:
                return BlinkResult(True, "eyes opened, closed and opened again", open_ear, closed_ear)
            closed_ear, closed_frames, open_ear, long_closure = None, 0, value, True
        elif value <= rule.closed_threshold:
            closed_ear, closed_frames = min(closed_ear, value), closed_frames + 1
        else:
            closed_frames += 1  # half-open frames in the middle of a blink still count as the closure
    if open_ear is None:
        return BlinkResult(False, "the eyes never looked open; face the camera with eyes open, then blink")
    if closed_ear is None and long_closure:
        return BlinkResult(False, f"the eyes stayed closed for more than {rule.max_closed_frames} frames; "
                                  "blink normally", open_ear=open_ear)
    if closed_ear is None:
        return BlinkResult(False, "no blink seen: the eye aspect ratio never dropped", open_ear=open_ear)
    return BlinkResult(False, "the eyes closed but did not open again before the burst ended", open_ear, closed_ear)


class LandmarkModel:
    """dlib's 68-point shape predictor, loaded on first use from a configurable path."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = path
        self._predictor = None
        self._lock = threading.Lock()

    def load(self):
        with self._lock:
            if self._predictor is None:
                import dlib

                from face_login.assets import shape_predictor_path

                self._predictor = dlib.shape_predictor(str(shape_predictor_path(self.path)))
        return self._predictor

    def landmarks(self, image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """Return the (68, 2) landmarks of the face in ``box`` (x, y, width, height) of an RGB image."""
        import dlib

        x, y, width, height = box
        shape = self.load()(np.ascontiguousarray(image), dlib.rectangle(x, y, x + width, y + height))
        return np.array([(shape.part(i).x, shape.part(i).y) for i in range(68)], dtype=np.float64)
