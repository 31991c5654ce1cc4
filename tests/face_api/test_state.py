"""Face state (EAR, MAR, expression) on landmark fixtures, and head pose on synthetic and real faces."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from face_api import (
    AnalysisOptions,
    InvalidOptionError,
    Landmarks,
    analyze_image,
    eye_aspect_ratio,
    face_state,
    mouth_aspect_ratio,
)
from face_api.pose import MODEL_POINTS_3D, camera_matrix, estimate_head_pose, rotation_matrix

EYES = (range(36, 42), range(42, 48))


def close_eyes(points: np.ndarray) -> np.ndarray:
    """Move each eyelid point 85% of the way to the line between the eye corners (a closed eye)."""
    closed = points.copy()
    for eye in EYES:
        corner_a, corner_b = points[eye.start], points[eye.start + 3]
        direction = (corner_b - corner_a) / np.linalg.norm(corner_b - corner_a)
        for index in (eye.start + 1, eye.start + 2, eye.start + 4, eye.start + 5):
            on_line = corner_a + direction * np.dot(points[index] - corner_a, direction)
            closed[index] = on_line + 0.15 * (points[index] - on_line)
    return closed


def surprise(points: np.ndarray) -> np.ndarray:
    """Raise the eyebrows by 15% of the eye distance and drop the lower lip to open the mouth wide."""
    changed = points.copy()
    eye_distance = np.linalg.norm(points[36:42].mean(axis=0) - points[42:48].mean(axis=0))
    changed[17:27, 1] -= 0.15 * eye_distance
    mouth_width = np.linalg.norm(points[64] - points[60])
    changed[65:68, 1] += 0.6 * mouth_width
    changed[55:60, 1] += 0.6 * mouth_width
    return changed


def rotate_and_scale(points: np.ndarray, degrees: float, scale: float) -> np.ndarray:
    angle = math.radians(degrees)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    return (points - points.mean(axis=0)) @ rotation.T * scale + 500


def test_ear_known_hexagon():
    # Width 4, lid gaps 1 and 1: EAR = (1 + 1) / (2 * 4) = 0.25.
    eye = np.array([[0, 0], [1, -0.5], [3, -0.5], [4, 0], [3, 0.5], [1, 0.5]])
    assert eye_aspect_ratio(eye) == pytest.approx(0.25)


def test_mar_closed_mouth():
    lips = np.array([[0, 0], [1, 0], [2, 0], [3, 0], [4, 0], [3, 0], [2, 0], [1, 0]])
    assert mouth_aspect_ratio(lips) == 0.0


def test_open_eyes(landmark_fixtures):
    state = face_state(Landmarks(landmark_fixtures["neutral"]))
    assert state.left_eye_ear > 0.25
    assert state.right_eye_ear > 0.25
    assert not state.eyes_closed


def test_closed_eyes(landmark_fixtures):
    state = face_state(Landmarks(close_eyes(landmark_fixtures["neutral"])))
    assert state.left_eye_ear < 0.1
    assert state.right_eye_ear < 0.1
    assert state.eyes_closed
    assert not state.left_eye_open


@pytest.mark.parametrize(("fixture", "expression"), [("neutral", "neutral"), ("smile", "smile"),
                                                     ("mouth_open", "mouth_open")])
def test_expression_real_faces(landmark_fixtures, fixture, expression):
    assert face_state(Landmarks(landmark_fixtures[fixture])).expression == expression


def test_expression_surprise(landmark_fixtures):
    state = face_state(Landmarks(surprise(landmark_fixtures["neutral"])))
    assert state.mouth_open
    assert state.brow_raise > 0.3
    assert state.expression == "surprise"


def test_mouth_open_flag(landmark_fixtures):
    assert face_state(Landmarks(landmark_fixtures["mouth_open"])).mouth_open
    assert not face_state(Landmarks(landmark_fixtures["neutral"])).mouth_open


def test_ratios_ignore_roll_and_scale(landmark_fixtures):
    original = face_state(Landmarks(landmark_fixtures["smile"]))
    turned = face_state(Landmarks(rotate_and_scale(landmark_fixtures["smile"], 25, 0.5)))
    for name in ("left_eye_ear", "right_eye_ear", "mouth_aspect_ratio", "mouth_width", "brow_raise"):
        assert getattr(turned, name) == pytest.approx(getattr(original, name), rel=1e-6), name


def test_state_needs_68_points():
    with pytest.raises(InvalidOptionError, match="68-point"):
        face_state(Landmarks(np.zeros((5, 2))))


def test_state_of_real_photos(analysed):
    assert analysed["obama.jpg"][0].state.expression == "smile"
    assert analysed["obama2.jpg"][0].state.mouth_open


@pytest.mark.parametrize("angles", [(20, 0, 0), (0, 15, 0), (0, 0, -10), (-25, 10, 5)])
def test_pose_recovers_projection(angles):
    # Project the 3D head model with a known rotation, then solve for it.
    object_points = np.array(list(MODEL_POINTS_3D.values()))
    rotation_vector, _ = cv2.Rodrigues(rotation_matrix(*angles))
    projected, _ = cv2.projectPoints(object_points, rotation_vector, np.array([0.0, 0.0, 1500.0]),
                                     camera_matrix(640, 480), np.zeros(4))
    points = np.zeros((68, 2))
    points[list(MODEL_POINTS_3D)] = projected.reshape(-1, 2)
    pose = estimate_head_pose(Landmarks(points), (640, 480))
    assert (pose.yaw, pose.pitch, pose.roll) == pytest.approx(angles, abs=0.5)


def test_pose_yaw_sign():
    # yaw > 0 turns the face towards the image's left: the nose tip moves left of the eye midpoint.
    object_points = np.array(list(MODEL_POINTS_3D.values()))
    rotation_vector, _ = cv2.Rodrigues(rotation_matrix(20, 0, 0))
    projected, _ = cv2.projectPoints(object_points, rotation_vector, np.array([0.0, 0.0, 1500.0]),
                                     camera_matrix(640, 480), np.zeros(4))
    nose, eye_a, eye_b = projected[0, 0], projected[2, 0], projected[3, 0]
    assert nose[0] < (eye_a[0] + eye_b[0]) / 2


def test_pose_frontal_photo(analysed):
    pose = analysed["obama_small.jpg"][0].pose
    assert abs(pose.yaw) < 15
    assert abs(pose.roll) < 10


def test_pose_roll_follows_rotation(photos, models):
    # Rotating the photo clockwise by 15 degrees in the image plane adds about +15 degrees of roll.
    image = photos["obama_small.jpg"]
    height, width = image.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), -15, 1.0)
    rotated = np.ascontiguousarray(cv2.warpAffine(image, turn, (width, height), borderMode=cv2.BORDER_REPLICATE))
    options = AnalysisOptions(analyses=frozenset({"pose"}))
    before = analyze_image(image, options, models)[0].pose.roll
    after = analyze_image(rotated, options, models)[0].pose.roll
    assert after - before == pytest.approx(15, abs=4)
