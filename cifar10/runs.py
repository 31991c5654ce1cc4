"""The run folder: which files a training run writes, and how later commands read them back.

A run folder contains ``config.json`` (the :class:`TrainConfig`), ``data.json`` (class names, image size,
normalisation statistics), ``history.csv`` (one row per epoch), ``logs/`` (TensorBoard),
``backup/`` (only while training, for resuming), ``best.weights.h5`` and ``last.weights.h5``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np

from cifar10.config import TrainConfig, load_config
from cifar10.errors import RunError
from cifar10.files import write_text_atomic
from cifar10.models import build_model


@dataclass
class DataInfo:
    """Facts about the training data that a trained model needs, saved as ``data.json``."""

    class_names: list[str]
    image_size: list[int]
    mean: list[float]
    std: list[float]
    source: str
    num_train: int
    num_val: int
    num_test: int


class RunPaths:
    """File names inside one run folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.config = self.root / "config.json"
        self.data = self.root / "data.json"
        self.history = self.root / "history.csv"
        self.logs = self.root / "logs"
        self.backup = self.root / "backup"
        self.best_weights = self.root / "best.weights.h5"
        self.last_weights = self.root / "last.weights.h5"
        self.evaluation = self.root / "evaluation"
        self.export = self.root / "export"

    def owned(self) -> list[Path]:
        """Return every file and folder that training writes here, which are all that ``--overwrite`` removes."""
        return [self.config, self.data, self.history, self.logs, self.backup, self.best_weights, self.last_weights,
                self.evaluation, self.export]


def save_data_info(info: DataInfo, path: Path) -> None:
    write_text_atomic(path, json.dumps(asdict(info), indent=2) + "\n")


def load_data_info(path: Path) -> DataInfo:
    try:
        return DataInfo(**json.loads(path.read_text()))
    except (OSError, json.JSONDecodeError, TypeError) as error:
        raise RunError(f"cannot read {path} ({error}). Train the run again.") from error


def load_run(run_dir: str | Path, weights: str = "best") -> tuple[keras.Model, TrainConfig, DataInfo]:
    """Rebuild a trained model in float32 from a run folder and load its ``best`` (or ``last``) weights.

    Falls back to the last weights when no best checkpoint exists (a run trained without a validation split).
    """
    paths = RunPaths(run_dir)
    if not paths.config.is_file() or not paths.data.is_file():
        raise RunError(f"{paths.root} is not a training run (no config.json or data.json). "
                       f"Train one with `python -m cifar10 train --out {paths.root}`.")
    config = load_config(paths.config)
    info = load_data_info(paths.data)
    candidates = [paths.best_weights, paths.last_weights] if weights == "best" else [paths.last_weights]
    found = next((path for path in candidates if path.is_file()), None)
    if found is None:
        raise RunError(f"{paths.root} has no trained weights yet (training did not finish). Rerun the same "
                       f"`python -m cifar10 train` command to resume it.")

    model_config = config.model_config(len(info.class_names), (info.image_size[0], info.image_size[1]))
    model = build_model(model_config, np.asarray(info.mean), np.asarray(info.std))
    model.load_weights(found)
    return model, config, info
