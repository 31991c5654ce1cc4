"""PNG figures for a run: confusion matrix, a grid of misclassified test images, training curves."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # renders without a display, and must run before pyplot is imported

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from cifar10.files import atomic_output  # noqa: E402


def save_figure(figure, path: Path) -> Path:
    """Write ``figure`` to ``path`` as PNG atomically and close it."""
    with atomic_output(path) as temporary:
        figure.savefig(temporary, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return path


def plot_confusion_matrix(confusion: np.ndarray, class_names: list[str], path: Path) -> Path:
    """Draw row-normalised percentages (each row is one true class) with the raw counts in the cells."""
    rows = confusion.sum(axis=1, keepdims=True)
    share = confusion / np.maximum(rows, 1)
    size = max(5.0, 0.6 * len(class_names) + 2)
    figure, axes = plt.subplots(figsize=(size, size))
    axes.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    ticks = np.arange(len(class_names))
    axes.set_xticks(ticks, class_names, rotation=45, ha="right")
    axes.set_yticks(ticks, class_names)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    if len(class_names) <= 20:
        for row in range(len(class_names)):
            for col in range(len(class_names)):
                color = "white" if share[row, col] > 0.5 else "black"
                axes.text(col, row, str(confusion[row, col]), ha="center", va="center", fontsize=8, color=color)
    accuracy = np.trace(confusion) / max(1, confusion.sum())
    axes.set_title(f"confusion matrix, accuracy {accuracy:.2%}")
    return save_figure(figure, path)


def plot_misclassified(images: np.ndarray, true: np.ndarray, predicted: np.ndarray, confidence: np.ndarray,
                       class_names: list[str], path: Path, columns: int = 6) -> Path:
    """Draw up to ``columns``**2 images with their true class and the wrong prediction with its probability."""
    count = min(len(images), columns * columns)
    rows = max(1, int(np.ceil(count / columns)))
    figure, grid = plt.subplots(rows, columns, figsize=(1.9 * columns, 2.2 * rows), squeeze=False)
    for index, axes in enumerate(grid.flat):
        axes.axis("off")
        if index >= count:
            continue
        axes.imshow(images[index], interpolation="nearest")
        axes.set_title(f"true: {class_names[true[index]]}\npred: {class_names[predicted[index]]} "
                       f"{confidence[index]:.2f}", fontsize=8, color="firebrick")
    figure.suptitle("misclassified test images (most confident mistakes first)")
    return save_figure(figure, path)


def read_history(path: Path) -> dict[str, list[float]]:
    """Read Keras' CSVLogger file into {column: values per epoch}."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            columns.setdefault(key, []).append(float(value) if value not in ("", None, "NA") else float("nan"))
    return columns


def plot_training_curves(history: dict[str, list[float]], path: Path) -> Path:
    """Draw loss, accuracy and learning rate per epoch, training and validation side by side."""
    epochs = np.asarray(history.get("epoch", range(len(history.get("loss", [])))), dtype=int) + 1
    figure, (loss_axes, accuracy_axes, lr_axes) = plt.subplots(1, 3, figsize=(14, 3.8))
    for key, label in (("loss", "train"), ("val_loss", "validation")):
        if key in history:
            loss_axes.plot(epochs, history[key], marker="o", label=label)
    for key, label in (("accuracy", "train"), ("val_accuracy", "validation")):
        if key in history:
            accuracy_axes.plot(epochs, history[key], marker="o", label=label)
    if "learning_rate" in history:
        lr_axes.plot(epochs, history["learning_rate"], marker="o", color="gray")
    for axes, title in ((loss_axes, "loss"), (accuracy_axes, "accuracy"), (lr_axes, "learning rate (epoch end)")):
        axes.set_title(title)
        axes.set_xlabel("epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
        if axes.get_legend_handles_labels()[0]:
            axes.legend()
    return save_figure(figure, path)
