"""Head pose (yaw, pitch, roll) from six 68-point landmarks with ``cv2.solvePnP``.

The 3D points are a generic head model in millimetres, from Satya Mallick's "Head Pose Estimation
using OpenCV and Dlib" (LearnOpenCV, 2016). Their y and z axes are flipped into OpenCV's camera frame
(x right, y down, z away from the camera), so a face looking straight at the camera has zero angles.
The camera is approximated: focal length = image width in pixels, principal point at the image centre,
no lens distortion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from face_api.errors import InvalidOptionError
from face_api.landmarks import Landmarks

# 68-point landmark index -> generic 3D position (mm) in the camera frame.
MODEL_POINTS_3D: dict[int, tuple[float, float, float]] = {
    30: (0.0, 0.0, 0.0),  # nose tip
    8: (0.0, 330.0, 65.0),  # chin
    36: (-225.0, -170.0, 135.0),  # outer corner of the eye on the image's left
    45: (225.0, -170.0, 135.0),  # outer corner of the eye on the image's right
    48: (-150.0, 150.0, 125.0),  # mouth corner on the image's left
    54: (150.0, 150.0, 125.0),  # mouth corner on the image's right
}


@dataclass(frozen=True)
class HeadPose:
    """Head rotation in degrees, with R = Rz(roll) Ry(yaw) Rx(pitch) in the camera frame.

    yaw > 0: the face turns towards the image's left (the subject's right).
    pitch > 0: the face tilts down. roll > 0: the head tilts clockwise in the image.
    ``translation`` is the nose tip's position in millimetres, valid only as far as the generic head
    size and approximated focal length are.
    """

    yaw: float
    pitch: float
    roll: float
    rotation_vector: tuple[float, float, float]
    translation: tuple[float, float, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "yaw": round(self.yaw, 2), "pitch": round(self.pitch, 2), "roll": round(self.roll, 2),
            "rotation_vector": [round(value, 5) for value in self.rotation_vector],
            "translation_mm": [round(value, 1) for value in self.translation],
        }


def camera_matrix(width: int, height: int) -> np.ndarray:
    """Return the approximated pinhole camera matrix for an image of this size."""
    focal = float(width)
    return np.array([[focal, 0.0, width / 2.0], [0.0, focal, height / 2.0], [0.0, 0.0, 1.0]])


def estimate_head_pose(landmarks: Landmarks, image_size: tuple[int, int]) -> HeadPose | None:
    """Estimate the head pose of a 68-point face in an image of ``image_size`` = (width, height).

    Returns None when ``cv2.solvePnP`` finds no solution with the head in front of the camera.
    """
    if landmarks.model != "68":
        raise InvalidOptionError("head pose needs the 68-point landmarks, got the 5-point model")
    object_points = np.array(list(MODEL_POINTS_3D.values()), dtype=np.float64)
    image_points = landmarks.points[list(MODEL_POINTS_3D)].astype(np.float64)

    ok, rotation_vector, translation = cv2.solvePnP(
        object_points, image_points, camera_matrix(*image_size), np.zeros(4), flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok or translation[2, 0] <= 0:
        return None

    rotation, _ = cv2.Rodrigues(rotation_vector)
    yaw, pitch, roll = euler_angles(rotation)
    return HeadPose(yaw=yaw, pitch=pitch, roll=roll,
                    rotation_vector=tuple(float(value) for value in rotation_vector.ravel()),
                    translation=tuple(float(value) for value in translation.ravel()))


def euler_angles(rotation: np.ndarray) -> tuple[float, float, float]:
    """Decompose R = Rz(roll) Ry(yaw) Rx(pitch) into (yaw, pitch, roll) in degrees."""
    yaw = math.asin(max(-1.0, min(1.0, -rotation[2, 0])))
    pitch = math.atan2(rotation[2, 1], rotation[2, 2])
    roll = math.atan2(rotation[1, 0], rotation[0, 0])
    return math.degrees(yaw), math.degrees(pitch), math.degrees(roll)


def rotation_matrix(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Compose R = Rz(roll) Ry(yaw) Rx(pitch) from angles in degrees (the inverse of :func:`euler_angles`)."""
    y, p, r = (math.radians(angle) for angle in (yaw, pitch, roll))
    rotate_x = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    rotate_y = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rotate_z = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return rotate_z @ rotate_y @ rotate_x
