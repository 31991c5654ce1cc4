"""TFRecord round trips, augmentation and the tf.data pipelines."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from cifar10_fixtures import solid_image, write_class_folders

from cifar10.augment import AugmentConfig, augment_batch, random_crop, random_cutout, random_flip
from cifar10.datasets import ImageDataset
from cifar10.errors import DatasetError
from cifar10.figures import write_figures
from cifar10.images import decode_image
from cifar10.pipeline import ArraySource, evaluation_pipeline, load_splits, splits_from_arrays, training_pipeline
from cifar10.tfrecords import parse_example, read_metadata, write_tfrecords


def sort_by_content(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys = [image.tobytes() + bytes([label]) for image, label in zip(images, labels, strict=True)]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    return images[order], labels[order]


def random_dataset(count: int = 24, seed: int = 0) -> ImageDataset:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(count, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=count).astype(np.int32)
    return ImageDataset(images[:16], labels[:16], images[16:], labels[16:], tuple(f"c{i}" for i in range(10)), "test")


# ---------------------------------------------------------------- TFRecord

def test_tfrecord_round_trip_exact(tmp_path):
    dataset = random_dataset()
    write_tfrecords(dataset, tmp_path / "records", train_shards=3, test_shards=2)
    splits = load_splits(f"tfrecord:{tmp_path / 'records'}", val_fraction=0.0)
    train_images, train_labels = splits.train.arrays()
    expected_images, expected_labels = sort_by_content(dataset.x_train, dataset.y_train)
    got_images, got_labels = sort_by_content(train_images, train_labels)
    assert np.array_equal(got_images, expected_images)
    assert np.array_equal(got_labels, expected_labels)


def test_tfrecord_test_split_in_order(tmp_path):
    dataset = random_dataset()
    write_tfrecords(dataset, tmp_path / "records", test_shards=2)
    images, labels = load_splits(f"tfrecord:{tmp_path / 'records'}", val_fraction=0.0).test.arrays()
    assert np.array_equal(images, dataset.x_test)
    assert np.array_equal(labels, dataset.y_test)


def test_tfrecord_metadata(tmp_path):
    write_tfrecords(random_dataset(), tmp_path / "records", train_shards=3)
    metadata = read_metadata(tmp_path / "records")
    assert (metadata.num_train, metadata.num_test, metadata.train_shards) == (16, 8, 3)
    assert len(list((tmp_path / "records").glob("train-*.tfrecord"))) == 3


def test_tfrecord_validation_split(tmp_path):
    write_tfrecords(random_dataset(), tmp_path / "records")
    splits = load_splits(f"tfrecord:{tmp_path / 'records'}", val_fraction=0.25)
    assert (len(splits.train), len(splits.val)) == (12, 4)
    train_images, _ = splits.train.arrays()
    val_images, _ = splits.val.arrays()
    assert not {image.tobytes() for image in train_images} & {image.tobytes() for image in val_images}


def test_tfrecord_reads_jpeg_like_pillow(tmp_path, real_jpeg):
    """A record holding JPEG bytes decodes to Pillow's pixels, thanks to INTEGER_ACCURATE."""
    data = real_jpeg.read_bytes()
    example = tf.train.Example(features=tf.train.Features(feature={
        "image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[data])),
        "image/format": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"jpeg"])),
        "image/class/label": tf.train.Feature(int64_list=tf.train.Int64List(value=[3])),
    }))
    image, label = parse_example(tf.constant(example.SerializeToString()), (32, 32))
    assert np.array_equal(image.numpy(), decode_image(data, (32, 32)))
    assert int(label) == 3


def test_tfrecord_error_out_not_empty(tmp_path):
    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "keep.txt").write_text("x")
    with pytest.raises(DatasetError, match="Choose a new or empty --out"):
        write_tfrecords(random_dataset(), tmp_path / "records", overwrite=True)


def test_tfrecord_overwrite_own_folder(tmp_path):
    write_tfrecords(random_dataset(count=24), tmp_path / "records")
    with pytest.raises(DatasetError, match="already contains TFRecords"):
        write_tfrecords(random_dataset(count=30), tmp_path / "records")
    metadata = write_tfrecords(random_dataset(count=30), tmp_path / "records", overwrite=True)
    assert metadata.num_test == 14


def test_tfrecord_error_no_metadata(tmp_path):
    with pytest.raises(DatasetError, match="metadata.json"):
        load_splits(f"tfrecord:{tmp_path}")


# ---------------------------------------------------------------- augmentation

def test_augment_keeps_shape_and_range():
    images = tf.constant(random_dataset().x_train, tf.float32)
    config = AugmentConfig(color_jitter=True, cutout_size=8)
    augmented = augment_batch(images, config, fill=tf.constant([125.0, 123.0, 114.0]))
    assert augmented.shape == images.shape
    assert float(tf.reduce_min(augmented)) >= 0.0
    assert float(tf.reduce_max(augmented)) <= 255.0


def test_crop_is_shifted_window():
    image = np.arange(32 * 32 * 3, dtype=np.float32).reshape(1, 32, 32, 3)
    cropped = random_crop(tf.constant(image), padding=4).numpy()[0]
    padded = np.pad(image[0], ((4, 4), (4, 4), (0, 0)), mode="reflect")
    windows = [padded[r:r + 32, c:c + 32] for r in range(9) for c in range(9)]
    assert any(np.array_equal(cropped, window) for window in windows)


def test_flip_mirrors_or_keeps():
    image = np.arange(32 * 32 * 3, dtype=np.float32).reshape(1, 32, 32, 3)
    flipped = random_flip(tf.constant(np.repeat(image, 8, axis=0))).numpy()
    for item in flipped:
        assert np.array_equal(item, image[0]) or np.array_equal(item, image[0, :, ::-1])


def test_cutout_area_at_most_square():
    images = tf.ones((16, 32, 32, 3)) * 200.0
    cut = random_cutout(images, 8, fill=tf.constant([0.0, 0.0, 0.0])).numpy()
    filled = (cut[..., 0] == 0).sum(axis=(1, 2))
    assert filled.max() <= 64
    assert filled.min() >= 16  # a centre in the corner still leaves a 4x4 quarter inside


def test_training_pipeline_keeps_labels():
    """Solid-colour images survive crop and flip unchanged, so each image must still match its label."""
    labels = np.arange(40, dtype=np.int32) % 10
    images = np.stack([solid_image(int(label)) for label in labels])
    batches = training_pipeline(ArraySource(images, labels), 8, 10, AugmentConfig(), fill=np.zeros(3), seed=1)
    lookup = {tuple(solid_image(label)[0, 0]): label for label in range(10)}
    for batch_images, batch_labels in batches:
        for image, one_hot in zip(batch_images.numpy(), batch_labels.numpy(), strict=True):
            assert lookup[tuple(image[0, 0].astype(np.uint8))] == one_hot.argmax()


def test_training_pipeline_drops_partial_batch():
    source = ArraySource(random_dataset(count=20).x_train, random_dataset(count=20).y_train)
    sizes = [int(images.shape[0]) for images, _ in training_pipeline(source, 6, 10, AugmentConfig(), np.zeros(3))]
    assert sizes == [6, 6]


def test_evaluation_pipeline_keeps_order():
    dataset = random_dataset()
    batches = evaluation_pipeline(ArraySource(dataset.x_test, dataset.y_test), 3, 10)
    images = np.concatenate([batch.numpy() for batch, _ in batches])
    assert np.array_equal(images, dataset.x_test.astype(np.float32))


def test_splits_validation_disjoint():
    splits = splits_from_arrays(random_dataset(count=40), val_fraction=0.25, seed=3)
    assert (len(splits.train), len(splits.val)) == (12, 4)


def test_splits_error_batch_too_large():
    splits = splits_from_arrays(random_dataset(), val_fraction=0.0)
    with pytest.raises(DatasetError, match="fewer than one batch"):
        training_pipeline(splits.train, 64, 10, AugmentConfig(), np.zeros(3))


def test_figures_written(tmp_path):
    data = write_class_folders(tmp_path / "folders", classes=("cat", "dog"))
    paths = write_figures(tmp_path / "figures", data=str(data))
    assert [path.name for path in paths] == ["augmentations.png", "lr_schedules.png"]
    assert all(path.stat().st_size > 0 for path in paths)
