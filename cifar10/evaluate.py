"""Evaluate a trained run on its test split: accuracy, per-class accuracy and three PNG figures."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np

from cifar10.errors import RunError
from cifar10.files import write_text_atomic
from cifar10.models import inference_model
from cifar10.pipeline import load_splits
from cifar10.plots import plot_confusion_matrix, plot_misclassified, plot_training_curves, read_history
from cifar10.runs import RunPaths, load_run

logger = logging.getLogger(__name__)


@dataclass
class EvaluationReport:
    """Test-set results of one run. ``files`` maps each written output to its path."""

    accuracy: float
    per_class_accuracy: dict[str, float]
    confusion_matrix: list[list[int]]
    num_images: int
    flip_tta: bool
    weights: str
    files: dict[str, str] = field(default_factory=dict)


def predict_probabilities(model: keras.Model, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Return (N, num_classes) probabilities of an inference model for uint8 or float images in [0, 255]."""
    outputs = [model.predict_on_batch(images[start:start + batch_size].astype(np.float32))
               for start in range(0, len(images), batch_size)]
    return np.concatenate(outputs)


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """Return counts with rows = true class and columns = predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (true, predicted), 1)
    return matrix


def evaluate_run(run_dir: str | Path, data: str | None = None, weights: str = "best",
                 out_dir: str | Path | None = None) -> EvaluationReport:
    """Evaluate ``run_dir`` on the test split of its data (or of ``data``) and write figures to ``out_dir``.

    The default output folder is ``<run>/evaluation``. The model is the one that export writes: float32,
    with the test-time flip when the run's config sets ``flip_tta``.
    """
    paths = RunPaths(run_dir)
    model, config, info = load_run(paths.root, weights)
    splits = load_splits(data or config.data, val_fraction=config.val_split, image_size=info.image_size[0],
                         seed=config.seed)
    if list(splits.class_names) != info.class_names:
        raise RunError(f"the data's classes {list(splits.class_names)} differ from the run's {info.class_names}. "
                       f"Pass the data set the run was trained on with --data.")

    images, labels = splits.test.arrays()
    probabilities = predict_probabilities(inference_model(model, config.flip_tta), images)
    predicted = probabilities.argmax(axis=1)
    matrix = confusion_matrix(labels, predicted, len(info.class_names))
    per_class = matrix.diagonal() / np.maximum(matrix.sum(axis=1), 1)
    report = EvaluationReport(
        accuracy=float((predicted == labels).mean()),
        per_class_accuracy={name: float(value) for name, value in zip(info.class_names, per_class, strict=True)},
        confusion_matrix=matrix.tolist(), num_images=len(labels), flip_tta=config.flip_tta, weights=weights,
    )

    out = Path(out_dir) if out_dir else paths.evaluation
    report.files["confusion_matrix"] = str(plot_confusion_matrix(matrix, info.class_names,
                                                                 out / "confusion_matrix.png"))
    wrong = np.flatnonzero(predicted != labels)
    wrong = wrong[np.argsort(-probabilities[wrong, predicted[wrong]])]  # most confident mistakes first
    report.files["misclassified"] = str(plot_misclassified(
        images[wrong], labels[wrong], predicted[wrong], probabilities[wrong, predicted[wrong]], info.class_names,
        out / "misclassified.png"))
    if paths.history.is_file():
        report.files["training_curves"] = str(plot_training_curves(read_history(paths.history),
                                                                   out / "training_curves.png"))
    metrics_path = out / "metrics.json"
    report.files["metrics"] = str(metrics_path)
    write_text_atomic(metrics_path, json.dumps(asdict(report), indent=2) + "\n")
    logger.info("test accuracy %.4f on %d images, outputs in %s", report.accuracy, report.num_images, out)
    return report


def format_report(report: EvaluationReport) -> str:
    """Return the report as an aligned text table for the terminal."""
    lines = [f"test accuracy: {report.accuracy:.4f} ({report.num_images} images, "
             f"{'with' if report.flip_tta else 'without'} flip TTA, {report.weights} weights)"]
    width = max(len(name) for name in report.per_class_accuracy)
    lines += [f"  {name:<{width}}  {value:.4f}" for name, value in report.per_class_accuracy.items()]
    lines += [f"{name}: {path}" for name, path in report.files.items()]
    return "\n".join(lines)
