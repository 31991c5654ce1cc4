"""Annotation drawing, PNG encoding and atomic writes."""

from __future__ import annotations

import stat

import cv2
import numpy as np

from face_api import annotate_image, encode_png, write_png
from face_api.figures import eye_figure, mouth_figure


def test_annotation_draws_on_faces(photos, analysed):
    image = photos["obama.jpg"]
    drawn = annotate_image(image, analysed["obama.jpg"])
    box = analysed["obama.jpg"][0].box
    face_region = (slice(box.top, box.bottom), slice(box.left, box.right))
    assert drawn.shape == image.shape
    assert not np.array_equal(drawn[face_region], image[face_region])


def test_annotation_keeps_background(photos, analysed):
    image = photos["obama.jpg"]
    drawn = annotate_image(image, analysed["obama.jpg"])
    assert np.array_equal(drawn[:40, :40], image[:40, :40])


def test_annotation_leaves_input(photos, analysed):
    image = photos["obama.jpg"]
    before = image.copy()
    annotate_image(image, analysed["obama.jpg"])
    assert np.array_equal(image, before)


def test_annotation_max_side(photos, analysed):
    drawn = annotate_image(photos["obama.jpg"], analysed["obama.jpg"], max_side=300)
    assert max(drawn.shape[:2]) == 300


def test_png_round_trip(photos):
    image = photos["obama_small.jpg"]
    decoded = cv2.cvtColor(cv2.imdecode(np.frombuffer(encode_png(image), np.uint8), cv2.IMREAD_COLOR),
                           cv2.COLOR_BGR2RGB)
    assert np.array_equal(decoded, image)


def test_write_png_atomic(tmp_path, photos):
    target = write_png(photos["obama_small.jpg"], tmp_path / "out" / "face.png")
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [path.name for path in target.parent.iterdir()] == ["face.png"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_eye_figure_size(photos, analysed):
    figure = eye_figure(photos["obama.jpg"], analysed["obama.jpg"][0].landmarks, width=400)
    assert figure.shape[1] == 400
    assert figure.dtype == np.uint8


def test_mouth_figure_size(photos, analysed):
    figure = mouth_figure(photos["obama2.jpg"], analysed["obama2.jpg"][0].landmarks)
    assert figure.shape[1] == 480
