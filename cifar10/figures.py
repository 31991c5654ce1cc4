"""Teaching figures that need no trained model: augmented examples and the learning-rate schedules."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from cifar10.augment import AugmentConfig, augment_batch  # noqa: E402
from cifar10.pipeline import load_splits  # noqa: E402
from cifar10.plots import save_figure  # noqa: E402
from cifar10.schedules import make_schedule  # noqa: E402


def plot_augmentations(images: np.ndarray, config: AugmentConfig, fill: np.ndarray, path: Path,
                       variants: int = 5, seed: int = 0) -> Path:
    """Draw each image (first column) next to ``variants`` random augmentations of it."""
    tf.random.set_seed(seed)
    figure, grid = plt.subplots(len(images), variants + 1, figsize=(1.6 * (variants + 1), 1.6 * len(images)),
                                squeeze=False)
    batch = tf.constant(np.repeat(images, variants, axis=0), tf.float32)
    augmented = augment_batch(batch, config, tf.constant(fill, tf.float32)).numpy().astype(np.uint8)
    for row, image in enumerate(images):
        row_images = [image, *augmented[row * variants:(row + 1) * variants]]
        for col, picture in enumerate(row_images):
            axes = grid[row, col]
            axes.imshow(picture, interpolation="nearest")
            axes.axis("off")
            if row == 0:
                axes.set_title("original" if col == 0 else f"augmented {col}", fontsize=8)
    return save_figure(figure, path)


def plot_schedules(path: Path, peak: float = 0.4, epochs: int = 10, steps_per_epoch: int = 88) -> Path:
    """Draw the exponential, cosine and one-cycle learning rates over ``epochs`` epochs."""
    steps = np.arange(epochs * steps_per_epoch)
    figure, axes = plt.subplots(figsize=(7, 3.5))
    for name, label in (("exponential", "exponential (x0.9 per epoch, staircase)"),
                        ("cosine", "cosine with 20% warm-up"), ("onecycle", "one-cycle (20% up, then down)")):
        schedule = make_schedule(name, peak, steps_per_epoch, epochs, warmup_fraction=0.2, decay_rate=0.9,
                                 decay_epochs=1)
        axes.plot(steps / steps_per_epoch, [float(schedule(int(step))) for step in steps], label=label)
    axes.set_xlabel("epoch")
    axes.set_ylabel("learning rate")
    axes.set_title(f"learning-rate schedules, peak {peak}")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    return save_figure(figure, path)


def write_figures(out: Path, data: str = "auto") -> list[Path]:
    """Write ``augmentations.png`` (from the first training images of ``data``) and ``lr_schedules.png``."""
    splits = load_splits(data, val_fraction=0.0)
    images, labels = splits.train.arrays()
    picks = [int(np.flatnonzero(labels == label)[0]) for label in range(min(6, len(splits.class_names)))]
    config = AugmentConfig(color_jitter=True, cutout_size=8)
    return [plot_augmentations(images[picks], config, splits.mean, out / "augmentations.png"),
            plot_schedules(out / "lr_schedules.png")]
