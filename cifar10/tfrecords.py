"""Write a data set to sharded TFRecord files and read them back with tf.data.

Each record is a ``tf.train.Example`` with the feature names of TF-Slim's CIFAR-10 converter:
``image/encoded`` (PNG bytes), ``image/format``, ``image/class/label``, ``image/height`` and
``image/width``. PNG is lossless, so a round trip returns the exact pixels of the source arrays. The
reader also decodes JPEG records with ``dct_method="INTEGER_ACCURATE"``, the only IDCT that gives the
same pixels as Pillow. TensorFlow's default picks a faster, less exact one.

A folder written here contains ``train-00000-of-00008.tfrecord`` ... ``test-...`` and ``metadata.json``
with the class names, image size, counts and per-channel mean and standard deviation of the train split.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from cifar10.datasets import ImageDataset
from cifar10.errors import DatasetError

logger = logging.getLogger(__name__)

METADATA_FILE = "metadata.json"

FEATURES = {
    "image/encoded": tf.io.FixedLenFeature([], tf.string),
    "image/format": tf.io.FixedLenFeature([], tf.string, default_value="png"),
    "image/class/label": tf.io.FixedLenFeature([], tf.int64),
}


@dataclass
class TFRecordMetadata:
    """The facts about a TFRecord folder that a reader needs before it decodes any record."""

    class_names: list[str]
    image_size: list[int]  # [height, width]
    num_train: int
    num_test: int
    mean: list[float]  # per-channel mean of the train split, pixel values in [0, 255]
    std: list[float]
    train_shards: int
    test_shards: int


def channel_stats(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the per-channel mean and standard deviation of uint8 images (N, H, W, 3), in [0, 255]."""
    pixels = images.reshape(-1, images.shape[-1])
    mean = pixels.mean(axis=0, dtype=np.float64)
    std = np.sqrt(np.maximum((pixels.astype(np.float64) ** 2).mean(axis=0) - mean**2, 1e-12))
    return mean.astype(np.float32), std.astype(np.float32)


def _example(image: np.ndarray, label: int) -> bytes:
    encoded = tf.io.encode_png(image).numpy()
    feature = {
        "image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[encoded])),
        "image/format": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"png"])),
        "image/class/label": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)])),
        "image/height": tf.train.Feature(int64_list=tf.train.Int64List(value=[image.shape[0]])),
        "image/width": tf.train.Feature(int64_list=tf.train.Int64List(value=[image.shape[1]])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def write_tfrecords(dataset: ImageDataset, out_dir: str | Path, train_shards: int = 8, test_shards: int = 2,
                    seed: int = 0, overwrite: bool = False) -> TFRecordMetadata:
    """Write ``dataset`` as shuffled, sharded TFRecords into ``out_dir`` and return its metadata.

    The train split is shuffled before sharding, so the first records of the folder are a random sample.
    Files go to a temporary folder next to ``out_dir`` that is renamed into place at the end, so an
    interrupted run leaves no half-written folder. ``overwrite`` replaces only a folder written by this
    function (one with ``metadata.json``), never an unrelated one.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / METADATA_FILE).is_file():
            raise DatasetError(f"{out_dir} is not empty and contains no TFRecord data set written by this command. "
                               f"Choose a new or empty --out.")
        if not overwrite:
            raise DatasetError(f"{out_dir} already contains TFRecords. Choose another --out or pass --overwrite.")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        order = np.random.default_rng(seed).permutation(len(dataset.x_train))
        _write_split(staging, "train", dataset.x_train[order], dataset.y_train[order], train_shards)
        _write_split(staging, "test", dataset.x_test, dataset.y_test, test_shards)
        mean, std = channel_stats(dataset.x_train)
        metadata = TFRecordMetadata(
            class_names=list(dataset.class_names), image_size=list(dataset.image_size),
            num_train=len(dataset.x_train), num_test=len(dataset.x_test),
            mean=[float(v) for v in mean], std=[float(v) for v in std],
            train_shards=train_shards, test_shards=test_shards,
        )
        (staging / METADATA_FILE).write_text(json.dumps(asdict(metadata), indent=2))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("tfrecord: wrote %d train and %d test records to %s", metadata.num_train, metadata.num_test, out_dir)
    return metadata


def _write_split(folder: Path, split: str, images: np.ndarray, labels: np.ndarray, shards: int) -> None:
    shards = max(1, min(shards, len(images)))
    for shard, indices in enumerate(np.array_split(np.arange(len(images)), shards)):
        path = folder / f"{split}-{shard:05d}-of-{shards:05d}.tfrecord"
        with tf.io.TFRecordWriter(str(path)) as writer:
            for index in indices:
                writer.write(_example(images[index], labels[index]))


def read_metadata(folder: str | Path) -> TFRecordMetadata:
    """Read ``metadata.json`` of a TFRecord folder written by :func:`write_tfrecords`."""
    path = Path(folder) / METADATA_FILE
    if not path.is_file():
        raise DatasetError(f"{path} not found. Write the folder with `python -m cifar10 tfrecord --out {folder}`.")
    try:
        return TFRecordMetadata(**json.loads(path.read_text()))
    except (json.JSONDecodeError, TypeError) as error:
        raise DatasetError(f"{path} is not valid TFRecord metadata ({error}). Write the folder again.") from error


def shard_files(folder: str | Path, split: str) -> list[str]:
    """Return the sorted shard paths of ``split`` ("train" or "test") in ``folder``."""
    files = sorted(str(path) for path in Path(folder).glob(f"{split}-*.tfrecord"))
    if not files:
        raise DatasetError(f"no {split}-*.tfrecord files in {folder}. Write them with `python -m cifar10 tfrecord`.")
    return files


def parse_example(serialized: tf.Tensor, image_size: tuple[int, int]) -> tuple[tf.Tensor, tf.Tensor]:
    """Decode one serialized example into ((H, W, 3) uint8 image, int32 label)."""
    features = tf.io.parse_single_example(serialized, FEATURES)
    encoded = features["image/encoded"]
    image = tf.cond(
        tf.strings.lower(features["image/format"]) == "png",
        lambda: tf.io.decode_png(encoded, channels=3),
        lambda: tf.io.decode_jpeg(encoded, channels=3, dct_method="INTEGER_ACCURATE"),
    )
    image = tf.ensure_shape(image, (*image_size, 3))
    return image, tf.cast(features["image/class/label"], tf.int32)


def read_records(files: list[str], image_size: tuple[int, int]) -> tf.data.Dataset:
    """Return the decoded (image, label) pairs of ``files`` in file order."""
    records = tf.data.TFRecordDataset(files)
    return records.map(lambda record: parse_example(record, image_size), num_parallel_calls=tf.data.AUTOTUNE)
