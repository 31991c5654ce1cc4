"""Loading the official batches and class-folder data sets, from folders and archives, with their errors."""

from __future__ import annotations

import io
import logging
import os
import pickle
import tarfile

import numpy as np
import pytest
import tensorflow as tf
from cifar10_fixtures import class_color, make_tar_gz, make_zip, write_class_folders, write_official_archive
from PIL import Image

from cifar10.datasets import _locate, load_dataset
from cifar10.errors import DatasetError, ImageReadError
from cifar10.images import decode_image, read_image
from cifar10.sources import CLASS_NAMES
from practicekit import cache_dir


def dominant_labels(images: np.ndarray) -> np.ndarray:
    """Map each solid-colour image back to the class whose colour is nearest."""
    colors = np.asarray([class_color(label) for label in range(10)], np.float32)
    means = images.reshape(len(images), -1, 3).mean(axis=1)
    return np.argmin(((means[:, None, :] - colors[None]) ** 2).sum(axis=-1), axis=1)


# ---------------------------------------------------------------- official format

def test_official_archive_shapes(tmp_path):
    dataset = load_dataset(str(write_official_archive(tmp_path / "cifar-10-python.tar.gz")))
    assert dataset.x_train.shape == (20, 32, 32, 3)
    assert dataset.x_test.shape == (4, 32, 32, 3)
    assert dataset.x_train.dtype == np.uint8


def test_official_archive_labels_match_pixels(tmp_path):
    dataset = load_dataset(str(write_official_archive(tmp_path / "cifar-10-python.tar.gz")))
    assert (dominant_labels(dataset.x_train) == dataset.y_train).all()
    assert (dominant_labels(dataset.x_test) == dataset.y_test).all()


def test_official_archive_channels_last(tmp_path):
    dataset = load_dataset(str(write_official_archive(tmp_path / "cifar-10-python.tar.gz")))
    assert dataset.x_train[0, 0, 1, 0] == 7
    assert tuple(dataset.x_train[0, 5, 5]) == class_color(int(dataset.y_train[0]))


def test_official_archive_class_names(tmp_path):
    dataset = load_dataset(str(write_official_archive(tmp_path / "cifar-10-python.tar.gz")))
    assert dataset.class_names == CLASS_NAMES


def test_official_extracted_folder(tmp_path):
    archive = write_official_archive(tmp_path / "cifar-10-python.tar.gz")
    with tarfile.open(archive) as bundle:
        bundle.extractall(tmp_path / "extracted", filter="data")
    dataset = load_dataset(str(tmp_path / "extracted"))
    assert len(dataset.x_train) == 20


def test_official_missing_batch(tmp_path):
    archive = write_official_archive(tmp_path / "partial.tar.gz", batches=("data_batch_1", "test_batch"))
    with pytest.raises(DatasetError, match="missing data_batch_2"):
        load_dataset(str(archive))


def test_official_rejects_pickle_code(tmp_path):
    payload = pickle.dumps({b"data": os.getcwd}, protocol=4)  # a global the loader must reject
    target = tmp_path / "evil.tar.gz"
    with tarfile.open(target, "w:gz") as bundle:
        for name in ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"):
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            bundle.addfile(info, io.BytesIO(payload))
    with pytest.raises(DatasetError, match="not a valid CIFAR-10 batch"):
        load_dataset(str(target))


# ---------------------------------------------------------------- class folders

def test_folders_class_order(class_folders):
    assert load_dataset(str(class_folders)).class_names == CLASS_NAMES


def test_folders_labels_match_pixels(class_folders):
    dataset = load_dataset(str(class_folders))
    assert (dominant_labels(dataset.x_train) == dataset.y_train).all()
    assert (dominant_labels(dataset.x_test) == dataset.y_test).all()


def test_folders_split_sizes(class_folders):
    dataset = load_dataset(str(class_folders))
    assert len(dataset.x_train) == 30
    assert len(dataset.x_test) == 20


def test_folders_tar_gz_matches_folder(class_folders, tmp_path):
    archive = make_tar_gz(class_folders, tmp_path / "images.tar.gz", prefix="cifar/")
    from_folder, from_archive = load_dataset(str(class_folders)), load_dataset(str(archive))
    assert np.array_equal(np.sort(from_folder.y_train), np.sort(from_archive.y_train))
    assert np.array_equal(dominant_labels(from_archive.x_train), from_archive.y_train)


def test_folders_zip_matches_folder(class_folders, tmp_path):
    archive = make_zip(class_folders, tmp_path / "images.zip")
    dataset = load_dataset(str(archive))
    assert dataset.class_names == CLASS_NAMES
    assert np.array_equal(dominant_labels(dataset.x_test), dataset.y_test)


def test_folders_jpeg_and_resize(tmp_path):
    root = write_class_folders(tmp_path / "big", classes=("cat", "dog"), size=48, suffix=".jpg")
    dataset = load_dataset(str(root), image_size=32)
    assert dataset.x_train.shape == (6, 32, 32, 3)
    assert dataset.class_names == ("cat", "dog")


def test_folders_without_splits(tmp_path):
    root = write_class_folders(tmp_path / "flat", classes=("cat", "dog", "frog"), train_per_class=10, splits=False)
    dataset = load_dataset(str(root), test_fraction=0.2)
    assert np.bincount(dataset.y_test).tolist() == [2, 2, 2]
    assert len(dataset.x_train) == 24


def test_folders_skip_unreadable_image(class_folders, caplog):
    (class_folders / "train" / "cat" / "broken.jpg").write_bytes(b"not a jpeg")
    with caplog.at_level(logging.WARNING):
        dataset = load_dataset(str(class_folders))
    assert len(dataset.x_train) == 30
    assert "skipped 1 unreadable" in caplog.text


def test_archive_decoded_once_into_cache(class_folders, tmp_path):
    archive = make_tar_gz(class_folders, tmp_path / "images.tar.gz")
    first = load_dataset(str(archive))
    cached = list((cache_dir() / "cifar10").glob("images.tar.gz.*.npz"))
    second = load_dataset(str(archive))
    assert len(cached) == 1
    assert np.array_equal(first.x_train, second.x_train)


# ---------------------------------------------------------------- errors

def test_error_missing_path(tmp_path):
    with pytest.raises(DatasetError, match="data set not found"):
        load_dataset(str(tmp_path / "nowhere"))


def test_error_not_an_archive(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(DatasetError, match="neither a folder nor"):
        load_dataset(str(path))


def test_error_no_images(tmp_path):
    (tmp_path / "empty" / "train" / "cat").mkdir(parents=True)
    with pytest.raises(DatasetError, match="no images found"):
        load_dataset(str(tmp_path / "empty"))


def test_error_one_class(tmp_path):
    root = write_class_folders(tmp_path / "one", classes=("cat",))
    with pytest.raises(DatasetError, match="at least 2"):
        load_dataset(str(root))


def test_error_test_class_unknown(class_folders):
    extra = class_folders / "test" / "zebra"
    extra.mkdir()
    (extra / "0.png").write_bytes((class_folders / "test" / "cat" / "0000.png").read_bytes())
    with pytest.raises(DatasetError, match="zebra"):
        load_dataset(str(class_folders))


@pytest.mark.parametrize("kept", [0.25, 0.5, 0.9, 0.98])
def test_error_truncated_archive(class_folders, tmp_path, kept):
    archive = make_tar_gz(class_folders, tmp_path / "images.tar.gz")
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: int(archive.stat().st_size * kept)])
    with pytest.raises(DatasetError, match="corrupt or truncated"):
        load_dataset(str(truncated))


def test_error_unreadable_image(tmp_path):
    path = tmp_path / "bad.png"
    path.write_bytes(b"\x89PNG broken")
    with pytest.raises(ImageReadError, match="cannot decode"):
        read_image(path, (32, 32))


# ---------------------------------------------------------------- real data

def test_real_jpeg_tf_matches_pillow(real_jpeg):
    data = real_jpeg.read_bytes()
    pillow = decode_image(data, (32, 32))
    accurate = tf.io.decode_jpeg(data, channels=3, dct_method="INTEGER_ACCURATE").numpy()
    assert np.array_equal(pillow, accurate)


def test_real_jpeg_rgba_converted(tmp_path, real_jpeg):
    rgba = tmp_path / "rgba.png"
    Image.open(real_jpeg).convert("RGBA").resize((50, 40)).save(rgba)
    assert read_image(rgba, (32, 32)).shape == (32, 32, 3)


def test_auto_uses_local_images_archive(cifar10_images_archive, monkeypatch):
    """With only the JPEG archive in $AI_PRACTICE_DATA, auto picks it and never tries a download."""
    monkeypatch.setenv("AI_PRACTICE_DATA", str(cifar10_images_archive.parent))
    monkeypatch.setattr("practicekit.assets._fetch_into_cache", lambda *args: pytest.fail("tried a download"))
    assert _locate("auto") == cifar10_images_archive
