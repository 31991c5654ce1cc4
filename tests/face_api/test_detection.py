"""Face detection on the real photos: counts, EXIF rotation, clipping, downscaling, CNN and budgets."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from face_api import DetectionBudgetError, DetectionOptions, InvalidOptionError, detect_faces, load_image

SINGLE_FACE_PHOTOS = (
    "32bit.png", "alex-lacamoire.png", "biden.jpg", "lin-manuel-miranda.png", "obama-1080p.jpg", "obama-240p.jpg",
    "obama.jpg", "obama2.jpg", "obama3.jpg", "obama_partial_face.jpg", "obama_partial_face2.jpg", "obama_small.jpg",
)


def overlap(a, b) -> float:
    """Return the intersection over union of two boxes."""
    width = max(0, min(a.right, b.right) - max(a.left, b.left))
    height = max(0, min(a.bottom, b.bottom) - max(a.top, b.top))
    intersection = width * height
    return intersection / (a.width * a.height + b.width * b.height - intersection)


@pytest.mark.parametrize("name", SINGLE_FACE_PHOTOS)
def test_single_face_photo(analysed, name):
    assert len(analysed[name]) == 1


def test_two_people(analysed):
    assert len(analysed["two_people.jpg"]) == 2


def test_rgba_png_face(faces_dir, models):
    assert len(detect_faces(load_image(faces_dir / "32bit.png"), models=models)) == 1


def test_hog_confidence(analysed):
    assert analysed["obama.jpg"][0].box.confidence > 0.5


def test_exif_rotated_jpeg(faces_dir, tmp_path, models):
    # Pixels stored rotated 90 degrees counter-clockwise with EXIF orientation 6 ("rotate 90 clockwise").
    upright = Image.open(faces_dir / "obama_small.jpg")
    exif = Image.Exif()
    exif[0x0112] = 6
    rotated = tmp_path / "rotated.jpg"
    upright.transpose(Image.Transpose.ROTATE_90).save(rotated, format="JPEG", quality=95, exif=exif)

    image = load_image(rotated)
    assert image.shape == (240, 320, 3)
    assert len(detect_faces(image, models=models)) == 1
    raw_pixels = np.asarray(Image.open(rotated).convert("RGB"))
    assert len(detect_faces(raw_pixels, models=models)) == 0


def test_partial_face_clipped(analysed, photos):
    box = analysed["obama_partial_face.jpg"][0].box
    assert box.left == 0
    assert box.unclipped[0] < 0
    assert box.right < photos["obama_partial_face.jpg"].shape[1]


def test_downscale_maps_boxes_back(photos, analysed, models):
    full = analysed["obama.jpg"][0].box
    small = detect_faces(photos["obama.jpg"], DetectionOptions(max_side=400), models)
    assert len(small) == 1
    assert overlap(small[0], full) > 0.7


def test_blank_image_no_faces(models):
    assert detect_faces(np.full((200, 200, 3), 128, np.uint8), models=models) == []


def test_cnn_finds_face(photos, models):
    faces = detect_faces(photos["obama_small.jpg"], DetectionOptions(detector="cnn", upsample=1), models)
    assert len(faces) == 1
    assert faces[0].confidence > 0.5


def test_cnn_downscales_large_image(models):
    # Far above the pixel budget at full size; the default cnn_max_side brings it within.
    options = DetectionOptions(detector="cnn", upsample=0, cnn_max_side=64)
    assert detect_faces(np.zeros((4000, 3000, 3), np.uint8), options, models) == []


def test_cnn_budget_rejected(models):
    options = DetectionOptions(detector="cnn", upsample=1, cnn_max_side=2000, max_side=2000)
    with pytest.raises(DetectionBudgetError, match="over its budget of 1,700,000"):
        detect_faces(np.zeros((1500, 2000, 3), np.uint8), options, models)


def test_hog_budget_rejected(models):
    options = DetectionOptions(upsample=2, hog_max_pixels=1_000_000)
    with pytest.raises(DetectionBudgetError, match="lower upsample or set max_side"):
        detect_faces(np.zeros((300, 300, 3), np.uint8), options, models)


@pytest.mark.parametrize("options", [
    DetectionOptions(detector="yolo"),
    DetectionOptions(upsample=4),
    DetectionOptions(upsample=-1),
    DetectionOptions(max_side=8),
])
def test_invalid_options(options, models):
    with pytest.raises(InvalidOptionError):
        detect_faces(np.zeros((50, 50, 3), np.uint8), options, models)


def test_webp_photo_bytes(faces_dir, models):
    buffer = io.BytesIO()
    Image.open(faces_dir / "obama_small.jpg").save(buffer, format="WEBP", quality=90)
    assert len(detect_faces(load_image(buffer.getvalue()), models=models)) == 1
