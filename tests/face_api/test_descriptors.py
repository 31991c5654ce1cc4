"""Descriptors: same person closer than 0.6, different people farther, comparison and 1:N matching."""

from __future__ import annotations

import numpy as np
import pytest

from face_api import (
    AnalysisOptions,
    InvalidDescriptorError,
    InvalidOptionError,
    KnownFaces,
    analyze_image,
    check_descriptor,
    compare_faces,
    face_distance,
    load_image,
)
from face_api.compare import compare_image, known_face_descriptor, largest_face
from face_api.detection import downscale_factor, resize
from face_api.errors import NoFaceFoundError

SAME_PERSON = [("obama.jpg", "obama2.jpg"), ("obama.jpg", "obama-240p.jpg"), ("obama2.jpg", "obama3.jpg"),
               ("obama-1080p.jpg", "obama_small.jpg")]
DIFFERENT_PEOPLE = [("obama.jpg", "biden.jpg"), ("obama2.jpg", "alex-lacamoire.png"),
                    ("lin-manuel-miranda.png", "alex-lacamoire.png"), ("biden.jpg", "lin-manuel-miranda.png")]


def shrink(image: np.ndarray, side: int = 800) -> np.ndarray:
    scale = downscale_factor(image.shape[1], image.shape[0], side)
    return image if scale == 1.0 else resize(image, scale)


def descriptor_of(analysed, name: str) -> np.ndarray:
    return largest_face(analysed[name]).descriptor


def test_descriptor_shape(analysed):
    descriptor = descriptor_of(analysed, "obama.jpg")
    assert descriptor.shape == (128,)
    assert np.all(np.isfinite(descriptor))


@pytest.mark.parametrize(("a", "b"), SAME_PERSON)
def test_same_person_close(analysed, a, b):
    assert face_distance(descriptor_of(analysed, a), descriptor_of(analysed, b))[0] < 0.6


@pytest.mark.parametrize(("a", "b"), DIFFERENT_PEOPLE)
def test_different_people_far(analysed, a, b):
    assert face_distance(descriptor_of(analysed, a), descriptor_of(analysed, b))[0] > 0.6


def test_rgba_copy_matches_jpeg(analysed):
    # 32bit.png is obama2.jpg stored as RGBA: nearly the same pixels, nearly the same descriptor.
    assert face_distance(descriptor_of(analysed, "32bit.png"), descriptor_of(analysed, "obama2.jpg"))[0] < 0.1


def test_two_people_distinct(analysed):
    first, second = (face.descriptor for face in analysed["two_people.jpg"])
    assert face_distance(first, second)[0] > 0.6


def test_compare_faces_tolerance(analysed):
    known = np.stack([descriptor_of(analysed, "biden.jpg"), descriptor_of(analysed, "obama2.jpg")])
    matches = compare_faces(known, descriptor_of(analysed, "obama.jpg"))
    assert matches.tolist() == [False, True]


def test_compare_faces_strict_tolerance(analysed):
    known = descriptor_of(analysed, "obama2.jpg")
    assert compare_faces(known, descriptor_of(analysed, "obama.jpg"), tolerance=0.05).tolist() == [False]


def test_face_distance_empty():
    assert face_distance(np.zeros((0, 128)), np.zeros(128)).shape == (0,)


def test_identify_probes(faces_dir, models):
    """1:N: enrol identities/<name>/*.jpg, then each single-person probe matches its person."""
    options = AnalysisOptions(analyses=frozenset({"descriptor"}))
    gallery = KnownFaces()
    for person in sorted(path for path in (faces_dir / "identities").iterdir() if path.is_dir()):
        for photo in sorted(person.glob("*.jp*g")):
            faces = analyze_image(shrink(load_image(photo)), options, models)
            gallery.add(person.name, largest_face(faces).descriptor)

    expected = {"alex_lacamoire1.jpg": "alex_lacamoire", "johnsnow_test1.jpg": "kit_harington",
                "obama1.jpg": "obama"}
    for probe, person in expected.items():
        faces = analyze_image(shrink(load_image(faces_dir / "probes" / probe)), options, models)
        match = gallery.match(largest_face(faces).descriptor)
        assert (probe, match.name, match.is_match) == (probe, person, True)


def test_known_faces_unknown_person(analysed):
    gallery = KnownFaces()
    gallery.add("biden", descriptor_of(analysed, "biden.jpg"))
    match = gallery.match(descriptor_of(analysed, "alex-lacamoire.png"))
    assert match.name == "biden"
    assert not match.is_match


def test_known_faces_empty():
    assert KnownFaces().match(np.zeros(128)) is None


@pytest.mark.parametrize("value", [[0.1] * 127, [[0.1] * 128], ["a"] * 128, [float("nan")] + [0.0] * 127, None])
def test_invalid_descriptor(value):
    with pytest.raises(InvalidDescriptorError):
        check_descriptor(value)


@pytest.mark.parametrize("tolerance", [0.0, -0.5, 3.0])
def test_invalid_tolerance(tolerance):
    with pytest.raises(InvalidOptionError, match="tolerance"):
        compare_faces(np.zeros((1, 128)), np.zeros(128), tolerance)


def test_compare_image_every_face(photos, analysed, models):
    known = descriptor_of(analysed, "biden.jpg")
    faces = compare_image(known, photos["two_people.jpg"], models=models)
    assert sorted(face.is_match for face in faces) == [False, True]


def test_known_image_without_face(models):
    with pytest.raises(NoFaceFoundError, match="no face found in the known image"):
        known_face_descriptor(np.full((100, 100, 3), 200, np.uint8), models=models)
