"""Detection, cropping, prewhitening and distances on the real identity photos."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from face_login.detection import make_detector
from face_login.errors import ImageError
from face_login.gallery import Gallery
from face_login.images import list_class_folders, load_image
from face_login.preprocessing import crop_face, prewhiten


def test_prewhiten_zero_mean_unit_std():
    image = np.random.default_rng(0).integers(0, 255, (160, 160, 3)).astype(np.uint8)
    whitened = prewhiten(image)
    assert abs(float(whitened.mean())) < 1e-4
    assert abs(float(whitened.std()) - 1.0) < 1e-4


def test_prewhiten_flat_image_finite():
    whitened = prewhiten(np.full((2, 160, 160, 3), 7, np.uint8))
    assert np.all(np.isfinite(whitened))
    assert np.all(whitened == 0)


def test_crop_face_clips_to_image():
    image = np.zeros((100, 80, 3), np.uint8)
    crop = crop_face(image, (-10, 60, 50, 60), margin=0.2, size=160)
    assert crop.shape == (160, 160, 3)


def test_crop_face_outside_raises():
    with pytest.raises(ValueError, match="outside"):
        crop_face(np.zeros((50, 50, 3), np.uint8), (100, 100, 10, 10), margin=0.2, size=160)


def test_load_image_rejects_garbage(tmp_path):
    path = tmp_path / "fake.jpg"
    path.write_bytes(b"not an image at all")
    with pytest.raises(ImageError, match="not a readable image"):
        load_image(path)


def test_load_image_pixel_limit(faces_dir):
    with pytest.raises(ImageError, match="more than the limit"):
        load_image(faces_dir / "obama-1080p.jpg", max_pixels=1_000_000)


def test_load_image_rgba_to_rgb(faces_dir):
    assert load_image(faces_dir / "32bit.png").shape[2] == 3


def test_gallery_nearest_and_exclude():
    embeddings = np.eye(3, 128, dtype=np.float32)
    gallery = Gallery(embeddings, ["a", "b", "c"])
    assert gallery.nearest(embeddings[1]).name == "b"
    assert gallery.nearest(embeddings[1]).distance == pytest.approx(0.0, abs=1e-6)
    assert gallery.nearest(embeddings[1], exclude="b").distance == pytest.approx(np.sqrt(2), rel=1e-6)
    assert gallery.distance_to(embeddings[0], "c") == pytest.approx(np.sqrt(2), rel=1e-6)
    assert gallery.distance_to(embeddings[0], "zed") is None
    assert Gallery().nearest(embeddings[0]) is None


@pytest.mark.slow
@pytest.mark.parametrize("detector", ["mtcnn", "hog"])
def test_detectors_find_one_face(faces_dir, detector):
    image = load_image(faces_dir / "obama.jpg")
    assert len(make_detector(detector).detect(image)) == 1
    assert len(make_detector(detector).detect(load_image(faces_dir / "two_people.jpg"))) == 2


@pytest.mark.slow
def test_same_person_closer_than_others(embedder, identities):
    """Every same-person pair of the real identity photos is closer than every different-person pair."""
    classes = list_class_folders(identities)
    embedded = {name: [embedder.embed_file(path).embedding for path in paths] for name, paths in classes.items()}
    genuine = [np.linalg.norm(a - b) for vectors in embedded.values() for a, b in itertools.combinations(vectors, 2)]
    impostor = [np.linalg.norm(a - b) for (_, first), (_, second) in itertools.combinations(embedded.items(), 2)
                for a in first for b in second]
    assert len(genuine) == 4
    assert max(genuine) < min(impostor)
    assert max(genuine) < 1.0
