"""Train a classifier with Keras ``fit``: data, model, optimizer, callbacks, then weights in a run folder.

Rerunning the same command after an interruption resumes from the last finished epoch, because
``keras.callbacks.BackupAndRestore`` keeps the weights, the optimizer state and the epoch in ``backup/``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import keras

from cifar10.config import TrainConfig, load_config, save_config
from cifar10.errors import RunError
from cifar10.hardware import describe_devices, resolve_precision, select_strategy
from cifar10.models import build_model
from cifar10.pipeline import DataSplits, evaluation_pipeline, load_splits, training_pipeline
from cifar10.runs import DataInfo, RunPaths, save_data_info
from cifar10.schedules import make_schedule

logger = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """Summary of a finished training call: run folder, epochs, history, time and precision."""

    run_dir: Path
    epochs_run: int
    history: dict[str, list[float]]
    seconds: float
    precision: str


class EpochStats(keras.callbacks.Callback):
    """Add the learning rate, the epoch's wall time and training images/s to each epoch's logs.

    It must come before CSVLogger and TensorBoard in the callback list, so that they record these values.
    """

    def __init__(self, images_per_epoch: int) -> None:
        super().__init__()
        self.images_per_epoch = images_per_epoch
        self.started = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        seconds = time.perf_counter() - self.started
        logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        logs["epoch_seconds"] = seconds
        logs["images_per_second"] = self.images_per_epoch / seconds


@contextlib.contextmanager
def dtype_policy(name: str) -> Iterator[None]:
    """Set the global Keras dtype policy for the models built inside the block, then restore the old one."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def check_run_dir(paths: RunPaths, config: TrainConfig, overwrite: bool) -> bool:
    """Check the run folder before training, and return True when an interrupted run will be resumed.

    With ``overwrite``, the files of an earlier run are removed first (only those that training writes).
    """
    if overwrite:
        for path in paths.owned():
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
    if not paths.config.is_file():
        return False
    previous = load_config(paths.config)
    if previous != config:
        changed = [key for key, value in asdict(config).items() if asdict(previous).get(key) != value]
        raise RunError(f"{paths.root} contains a run with another configuration (changed: {', '.join(changed)}). "
                       f"Choose another --out, or pass --overwrite to replace it.")
    if paths.backup.is_dir():
        return True
    if paths.last_weights.is_file():
        raise RunError(f"{paths.root} contains a finished run. Evaluate it with `python -m cifar10 evaluate "
                       f"--run {paths.root}`, or pass --overwrite to train it again.")
    return False


def make_callbacks(paths: RunPaths, config: TrainConfig, splits: DataSplits, resume: bool,
                   extra: Sequence[keras.callbacks.Callback]) -> list[keras.callbacks.Callback]:
    has_val = splits.val is not None
    callbacks = [
        keras.callbacks.BackupAndRestore(str(paths.backup)),
        EpochStats(images_per_epoch=(len(splits.train) // config.batch_size) * config.batch_size),
        keras.callbacks.CSVLogger(str(paths.history), append=resume),
    ]
    if importlib.util.find_spec("tensorboard") is not None:
        callbacks.append(keras.callbacks.TensorBoard(str(paths.logs), write_graph=False, profile_batch=0))
    else:
        logger.warning("tensorboard is not installed, so no TensorBoard logs are written. "
                       "Install it with pip install tensorboard")
    if has_val:
        callbacks.append(keras.callbacks.ModelCheckpoint(
            str(paths.best_weights), monitor="val_accuracy", mode="max", save_best_only=True, save_weights_only=True))
        if config.early_stop_patience > 0:
            callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.early_stop_patience))
    return callbacks + list(extra)


def compile_model(model: keras.Model, config: TrainConfig, steps_per_epoch: int, on_gpu: bool) -> None:
    schedule = make_schedule(config.lr_schedule, config.learning_rate, steps_per_epoch, config.epochs,
                             warmup_fraction=config.warmup_fraction, decay_rate=config.decay_rate,
                             decay_epochs=config.decay_epochs)
    if config.optimizer == "adam":
        optimizer = keras.optimizers.Adam(schedule)
    else:
        optimizer = keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=config.label_smoothing),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
        # XLA on a CPU skips oneDNN's bfloat16 kernels and ran 4x slower here (TF 2.21, Xeon with AMX).
        jit_compile="auto" if on_gpu else False,
    )


def train(config: TrainConfig, out_dir: str | Path, overwrite: bool = False,
          callbacks: Sequence[keras.callbacks.Callback] = (), splits: DataSplits | None = None,
          verbose: int | str = "auto") -> TrainResult:
    """Train ``config`` into ``out_dir`` and return the result, resuming an interrupted run in ``out_dir``.

    ``splits`` replaces loading ``config.data`` (tests and notebooks pass prepared arrays this way), and
    ``callbacks`` run after the standard ones.
    """
    # 1. Run folder and reproducibility.
    paths = RunPaths(out_dir)
    resume = check_run_dir(paths, config, overwrite)
    precision = resolve_precision(config.precision)
    keras.utils.set_random_seed(config.seed)

    # 2. Data, loaded before the run folder is written, so a data error leaves no half-made run behind.
    if splits is None:
        splits = load_splits(config.data, val_fraction=config.val_split, image_size=config.image_size,
                             seed=config.seed, train_limit=config.train_limit)
    logger.info("data: %s", splits.summary())
    num_classes = len(splits.class_names)
    train_data = training_pipeline(splits.train, config.batch_size, num_classes, config.augment_config(),
                                   fill=splits.mean, seed=config.seed)
    val_data = evaluation_pipeline(splits.val, config.batch_size, num_classes) if splits.val is not None else None
    steps_per_epoch = len(splits.train) // config.batch_size
    paths.root.mkdir(parents=True, exist_ok=True)
    save_config(config, paths.config)
    save_data_info(DataInfo(
        class_names=list(splits.class_names), image_size=list(splits.image_size),
        mean=[float(v) for v in splits.mean], std=[float(v) for v in splits.std], source=splits.source,
        num_train=len(splits.train), num_val=len(splits.val) if splits.val is not None else 0,
        num_test=len(splits.test)), paths.data)

    # 3. Model, under the precision and distribution strategy that suit the hardware.
    strategy, on_gpu = select_strategy()
    logger.info("hardware: %s, precision %s, %d replica(s)", describe_devices(), precision,
                strategy.num_replicas_in_sync)
    with dtype_policy(precision), strategy.scope():
        model = build_model(config.model_config(num_classes, splits.image_size), splits.mean, splits.std)
        compile_model(model, config, steps_per_epoch, on_gpu)
    logger.info("model %s: %s parameters, %d steps of %d images per epoch", model.name,
                f"{model.count_params():,}", steps_per_epoch, config.batch_size)
    if resume:
        logger.info("resuming the interrupted run in %s", paths.root)

    # 4. Fit.
    started = time.perf_counter()
    history = model.fit(train_data, validation_data=val_data, epochs=config.epochs, shuffle=False,
                        callbacks=make_callbacks(paths, config, splits, resume, callbacks), verbose=verbose)
    seconds = time.perf_counter() - started
    model.save_weights(str(paths.last_weights))
    logger.info("training finished in %.0f s, weights in %s", seconds, paths.root)
    return TrainResult(paths.root, len(history.epoch), dict(history.history), seconds, precision)
