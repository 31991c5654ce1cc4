"""68- and 5-point landmarks on real faces, named regions and aligned face chips."""

from __future__ import annotations

import numpy as np
import pytest

from face_api import REGIONS_68, FaceBox, InvalidOptionError, face_chips, face_landmarks


def inside(points: np.ndarray, box: FaceBox, margin: float) -> bool:
    """Return True when every point lies in ``box`` grown by ``margin`` of its size on each side."""
    dx, dy = margin * box.width, margin * box.height
    return bool(np.all((points[:, 0] >= box.left - dx) & (points[:, 0] <= box.right + dx)
                       & (points[:, 1] >= box.top - dy) & (points[:, 1] <= box.bottom + dy)))


def test_68_points_every_face(analysed):
    counts = {len(face.landmarks.points) for faces in analysed.values() for face in faces}
    assert counts == {68}


@pytest.mark.parametrize("name", ["obama.jpg", "biden.jpg", "alex-lacamoire.png", "two_people.jpg", "obama3.jpg"])
def test_landmarks_inside_box(analysed, name):
    # dlib's HOG box spans the eyebrows to the chin, so eyes, brows, nose and lips lie inside it (10% slack).
    # The jaw contour (points 0-16) runs along the ears and under the chin, past the box edges.
    for face in analysed[name]:
        assert inside(face.landmarks.points[17:], face.box, 0.10)
        assert inside(face.landmarks.points[:17], face.box, 0.35)


def test_region_sizes(analysed):
    regions = analysed["obama.jpg"][0].landmarks.regions()
    sizes = {name: len(points) for name, points in regions.items()}
    assert sizes == {name: len(indices) for name, indices in REGIONS_68.items()}
    assert sum(sizes.values()) == 68


def test_region_sides_subject_view(analysed):
    # The subject's right eye appears on the left of the image.
    landmarks = analysed["obama.jpg"][0].landmarks
    assert landmarks.region("right_eye")[:, 0].mean() < landmarks.region("left_eye")[:, 0].mean()


def test_region_order_top_to_bottom(analysed):
    landmarks = analysed["obama.jpg"][0].landmarks
    heights = [landmarks.region(name)[:, 1].mean() for name in ("right_eyebrow", "right_eye", "nose_tip", "outer_lips")]
    assert heights == sorted(heights)


def test_five_point_model(photos, analysed, models):
    box = analysed["obama.jpg"][0].box
    five = face_landmarks(photos["obama.jpg"], [box], "5", models)[0]
    assert five.points.shape == (5, 2)
    assert five.region("left_eye")[:, 0].min() > five.region("right_eye")[:, 0].max()


def test_five_point_near_68(photos, analysed, models):
    face = analysed["obama.jpg"][0]
    five = face_landmarks(photos["obama.jpg"], [face.box], "5", models)[0]
    # The 5-point model's outer eye corners are the 68-point model's points 36 and 45.
    tolerance = 0.08 * face.box.width
    assert np.linalg.norm(five.points[2] - face.landmarks.points[36]) < tolerance
    assert np.linalg.norm(five.points[0] - face.landmarks.points[45]) < tolerance


def test_chips_shape(photos, analysed):
    chips = face_chips(photos["two_people.jpg"], [face.landmarks for face in analysed["two_people.jpg"]], size=120)
    assert [chip.shape for chip in chips] == [(120, 120, 3), (120, 120, 3)]
    assert chips[0].dtype == np.uint8


def test_chips_eyes_level(photos, analysed, models):
    # Alignment rotates the head upright: in the chip, both eyes sit at the same height.
    chip = face_chips(photos["two_people.jpg"], [analysed["two_people.jpg"][1].landmarks], size=200)[0]
    box = FaceBox(0, 0, 199, 199)
    points = face_landmarks(chip, [box], "68", models)[0]
    eye_heights = points.region("right_eye")[:, 1].mean(), points.region("left_eye")[:, 1].mean()
    assert abs(eye_heights[0] - eye_heights[1]) < 6


def test_unknown_landmark_model(photos, models):
    with pytest.raises(InvalidOptionError, match="'68' or '5'"):
        face_landmarks(photos["obama.jpg"], [], "81", models)
