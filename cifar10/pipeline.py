"""tf.data input pipelines: from in-memory arrays or TFRecord files to augmented, batched, prefetched tensors.

A :class:`DataSplits` contains the train, validation and test splits of one data set as sources. Each
source yields uint8 batches, and :func:`training_pipeline` and :func:`evaluation_pipeline` turn them into
float32 pixel values in [0, 255] with one-hot labels. Per-channel normalisation happens in the model's
first layer, not here, so an exported model takes plain pixels (see ``cifar10.models``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from cifar10.augment import AugmentConfig, augment_batch
from cifar10.datasets import ImageDataset, load_dataset
from cifar10.errors import DatasetError
from cifar10.tfrecords import channel_stats, read_metadata, read_records, shard_files

logger = logging.getLogger(__name__)

TFRECORD_PREFIX = "tfrecord:"


class ArraySource:
    """Images held in memory as a (N, H, W, 3) uint8 array with (N,) int32 labels."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images = images
        self.labels = labels.astype(np.int32)

    def __len__(self) -> int:
        return len(self.images)

    def batches(self, batch_size: int, shuffle: bool, seed: int | None, drop_remainder: bool) -> tf.data.Dataset:
        """Yield (uint8 images, int32 labels) batches, in a new order every epoch when ``shuffle`` is set."""
        with tf.device("/cpu:0"):  # tf.data runs on the CPU, so the arrays must not be placed on a GPU
            images = tf.constant(self.images)
            labels = tf.constant(self.labels)
        indices = tf.data.Dataset.range(len(self))
        if shuffle:
            indices = indices.shuffle(len(self), seed=seed, reshuffle_each_iteration=True)
        # Gathering a whole batch at once is far cheaper than slicing and batching 50,000 single images.
        return indices.batch(batch_size, drop_remainder=drop_remainder).map(
            lambda index: (tf.gather(images, index), tf.gather(labels, index)), num_parallel_calls=tf.data.AUTOTUNE)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return self.images, self.labels


class TFRecordSource:
    """Images streamed from TFRecord shards. ``skip`` and ``count`` carve a split out of the record order."""

    def __init__(self, files: list[str], image_size: tuple[int, int], count: int, skip: int = 0) -> None:
        self.files = files
        self.image_size = image_size
        self.count = count
        self.skip = skip

    def __len__(self) -> int:
        return self.count

    def records(self) -> tf.data.Dataset:
        dataset = read_records(self.files, self.image_size).skip(self.skip).take(self.count)
        return dataset.apply(tf.data.experimental.assert_cardinality(self.count))

    def batches(self, batch_size: int, shuffle: bool, seed: int | None, drop_remainder: bool) -> tf.data.Dataset:
        dataset = self.records()
        if shuffle:
            dataset = dataset.shuffle(min(self.count, 10_000), seed=seed, reshuffle_each_iteration=True)
        return dataset.batch(batch_size, drop_remainder=drop_remainder)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        images, labels = [], []
        for image_batch, label_batch in self.batches(1024, shuffle=False, seed=None, drop_remainder=False):
            images.append(image_batch.numpy())
            labels.append(label_batch.numpy())
        return np.concatenate(images), np.concatenate(labels)


@dataclass
class DataSplits:
    """Train, validation (may be None) and test sources plus what the model needs to know about them."""

    train: ArraySource | TFRecordSource
    val: ArraySource | TFRecordSource | None
    test: ArraySource | TFRecordSource
    class_names: tuple[str, ...]
    image_size: tuple[int, int]
    mean: np.ndarray  # (3,) per-channel mean of the train split, pixel values in [0, 255]
    std: np.ndarray  # (3,)
    source: str

    def summary(self) -> str:
        val = len(self.val) if self.val is not None else 0
        return (f"{len(self.train)} train, {val} validation and {len(self.test)} test images, "
                f"{self.image_size[0]}x{self.image_size[1]}, {len(self.class_names)} classes, from {self.source}")


def load_splits(spec: str = "auto", val_fraction: float = 0.1, image_size: int = 32, seed: int = 0,
                train_limit: int = 0) -> DataSplits:
    """Load the data named by ``spec`` and hold out ``val_fraction`` of the train split for validation.

    ``train_limit`` > 0 keeps only that many training images (after the validation split is taken).
    """
    if not 0.0 <= val_fraction < 1.0:
        raise DatasetError(f"validation fraction must be in [0, 1), got {val_fraction}")
    if spec.startswith(TFRECORD_PREFIX):
        return _tfrecord_splits(Path(spec[len(TFRECORD_PREFIX):]).expanduser(), val_fraction, train_limit)
    return splits_from_arrays(load_dataset(spec, image_size=image_size, seed=seed), val_fraction, seed, train_limit)


def splits_from_arrays(dataset: ImageDataset, val_fraction: float, seed: int = 0, train_limit: int = 0) -> DataSplits:
    """Split an in-memory data set. The validation images are a seeded random sample of the train split."""
    order = np.random.default_rng(seed).permutation(len(dataset.x_train))
    num_val = int(round(val_fraction * len(order)))
    train_index, val_index = order[num_val:], order[:num_val]
    if train_limit:
        train_index = train_index[:train_limit]
    if len(train_index) == 0:
        raise DatasetError(f"validation fraction {val_fraction} leaves no training images. Lower --val-split.")
    train = ArraySource(dataset.x_train[train_index], dataset.y_train[train_index])
    val = ArraySource(dataset.x_train[val_index], dataset.y_train[val_index]) if num_val else None
    mean, std = channel_stats(train.images)
    return DataSplits(train, val, ArraySource(dataset.x_test, dataset.y_test), dataset.class_names,
                      dataset.image_size, mean, std, dataset.source)


def _tfrecord_splits(folder: Path, val_fraction: float, train_limit: int) -> DataSplits:
    metadata = read_metadata(folder)
    size = (metadata.image_size[0], metadata.image_size[1])
    train_files = shard_files(folder, "train")
    num_val = int(round(val_fraction * metadata.num_train))
    # The writer shuffled the train split, so its first records are a random validation sample.
    val = TFRecordSource(train_files, size, num_val) if num_val else None
    num_train = metadata.num_train - num_val
    train = TFRecordSource(train_files, size, min(num_train, train_limit) if train_limit else num_train, skip=num_val)
    test = TFRecordSource(shard_files(folder, "test"), size, metadata.num_test)
    # NOTE: mean and std come from the whole train split, validation records included.
    return DataSplits(train, val, test, tuple(metadata.class_names), size, np.asarray(metadata.mean, np.float32),
                      np.asarray(metadata.std, np.float32), f"{TFRECORD_PREFIX}{folder}")


def training_pipeline(source: ArraySource | TFRecordSource, batch_size: int, num_classes: int,
                      augment: AugmentConfig, fill: np.ndarray, seed: int | None = None) -> tf.data.Dataset:
    """Shuffle, batch (dropping the last partial batch), augment and prefetch the training split."""
    if len(source) < batch_size:
        raise DatasetError(f"the training split has {len(source)} images, fewer than one batch of {batch_size}. "
                           f"Lower --batch-size or add images.")
    fill = tf.constant(fill, tf.float32)

    def prepare(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        images = augment_batch(tf.cast(images, tf.float32), augment, fill)
        return images, tf.one_hot(labels, num_classes)

    batches = source.batches(batch_size, shuffle=True, seed=seed, drop_remainder=True)
    return batches.map(prepare, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def evaluation_pipeline(source: ArraySource | TFRecordSource, batch_size: int, num_classes: int) -> tf.data.Dataset:
    """Batch a split in order, without augmentation, keeping the last partial batch."""

    def prepare(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return tf.cast(images, tf.float32), tf.one_hot(labels, num_classes)

    batches = source.batches(batch_size, shuffle=False, seed=None, drop_remainder=False)
    return batches.map(prepare, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
