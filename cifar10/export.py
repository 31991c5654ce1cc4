"""Export a trained run as a SavedModel and a .keras file, and classify image files with an export.

An export folder contains:

- ``model.keras``: the inference model (pixels in [0, 255] -> class probabilities), built only from
  Keras' own layers, so ``keras.saving.load_model`` opens it without this package;
- ``saved_model/``: the same model for TensorFlow Serving or ``tf.saved_model.load``, endpoint ``serve``;
- ``labels.json``: class names and input size.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from cifar10.errors import ModelInputError, RunError
from cifar10.images import read_image
from cifar10.models import inference_model
from cifar10.runs import RunPaths, load_run

logger = logging.getLogger(__name__)

KERAS_FILE = "model.keras"
SAVED_MODEL_DIR = "saved_model"
LABELS_FILE = "labels.json"


@dataclass
class ExportResult:
    """Paths of one export."""

    folder: Path
    keras_file: Path
    saved_model: Path
    labels: Path


def export_run(run_dir: str | Path, out_dir: str | Path | None = None, weights: str = "best") -> ExportResult:
    """Write the run's inference model to ``out_dir`` (default ``<run>/export``), replacing an older export.

    Everything is written into a temporary folder first, which replaces ``out_dir`` only when complete.
    """
    paths = RunPaths(run_dir)
    model, config, info = load_run(paths.root, weights)
    inference = inference_model(model, config.flip_tta)
    out = Path(out_dir) if out_dir else paths.export
    out.parent.mkdir(parents=True, exist_ok=True)

    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        inference.save(staging / KERAS_FILE)
        inference.export(str(staging / SAVED_MODEL_DIR), format="tf_saved_model", verbose=False)
        labels = {"class_names": info.class_names, "image_size": info.image_size, "flip_tta": config.flip_tta,
                  "input": "float32 RGB pixel values in [0, 255], shape (batch, height, width, 3)",
                  "output": "class probabilities, shape (batch, num_classes)"}
        (staging / LABELS_FILE).write_text(json.dumps(labels, indent=2) + "\n")
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("exported %s to %s", paths.root, out)
    return ExportResult(out, out / KERAS_FILE, out / SAVED_MODEL_DIR, out / LABELS_FILE)


class Predictor:
    """Classifier of image files with an exported model, which is loaded once, on first use."""

    def __init__(self, export_dir: str | Path) -> None:
        self.export_dir = Path(export_dir)
        self._model: keras.Model | None = None
        self.class_names: list[str] = []
        self.image_size: tuple[int, int] = (0, 0)

    def _load(self) -> keras.Model:
        if self._model is not None:
            return self._model
        keras_file = self.export_dir / KERAS_FILE
        labels_file = self.export_dir / LABELS_FILE
        if not keras_file.is_file() or not labels_file.is_file():
            raise RunError(f"{self.export_dir} is not an export (no {KERAS_FILE} or {LABELS_FILE}). "
                           f"Create one with `python -m cifar10 export --run RUN_DIR`.")
        try:
            labels = json.loads(labels_file.read_text())
            model = keras.saving.load_model(keras_file, compile=False)
        except (OSError, ValueError, zipfile.BadZipFile) as error:  # JSONDecodeError is a ValueError
            raise RunError(f"cannot load the export in {self.export_dir} ({error}). Export the run again.") from error
        if not isinstance(labels, dict) or "class_names" not in labels:
            raise RunError(f"{labels_file} lists no class_names. Export the run again.")
        self.class_names = list(labels["class_names"])
        self.image_size = check_model_input(model, labels, keras_file)
        self._model = model
        return model

    def predict(self, image_paths: list[str | Path], top_k: int = 3) -> list[list[tuple[str, float]]]:
        """Return the ``top_k`` (class name, probability) pairs for each image, most likely first.

        Every image is decoded and resized to the model's input size before any prediction runs, so one
        unreadable file fails the call with :class:`ImageReadError` instead of a partial result.
        """
        model = self._load()
        images = np.stack([read_image(path, self.image_size) for path in image_paths]).astype(np.float32)
        probabilities = np.asarray(model.predict_on_batch(images))
        top = np.argsort(-probabilities, axis=1)[:, :top_k]
        return [[(self.class_names[index], float(row[index])) for index in indices]
                for row, indices in zip(probabilities, top, strict=True)]


def check_model_input(model: keras.Model, labels: dict, source: Path) -> tuple[int, int]:
    """Return the (height, width) the model takes, or raise ModelInputError when it does not fit ``labels``."""
    shape = tuple(model.input_shape)
    if len(shape) != 4 or shape[3] != 3 or shape[1] is None or shape[2] is None:
        raise ModelInputError(f"{source} takes input of shape {shape}, but predict needs (batch, height, width, 3) "
                              f"with a fixed size. Export the run again with `python -m cifar10 export`.")
    expected = tuple(labels.get("image_size", shape[1:3]))
    if tuple(shape[1:3]) != expected:
        raise ModelInputError(f"{source} takes {shape[1]}x{shape[2]} images but its {LABELS_FILE} lists "
                              f"{expected[0]}x{expected[1]}; the two files come from different exports. "
                              f"Export the run again.")
    if model.output_shape[-1] != len(labels["class_names"]):
        raise ModelInputError(f"{source} has {model.output_shape[-1]} outputs but {LABELS_FILE} lists "
                              f"{len(labels['class_names'])} classes. Export the run again.")
    return int(shape[1]), int(shape[2])
