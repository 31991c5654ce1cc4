"""Training configuration: one typed dataclass, per-model defaults, and JSON files that override them.

Precedence, lowest first: the defaults of :class:`TrainConfig`, the preset of the chosen model in
:data:`MODEL_PRESETS`, a ``--config`` JSON file, then explicit command-line flags.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from cifar10.augment import AugmentConfig
from cifar10.errors import RunError
from cifar10.files import write_text_atomic
from cifar10.models import MODEL_NAMES, ModelConfig
from cifar10.schedules import SCHEDULE_NAMES

CONFIG_DIR = Path(__file__).parent / "configs"


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run, saved as ``config.json`` in the run folder."""

    model: str = "fast"
    data: str = "auto"  # auto | official | images | PATH | tfrecord:DIR (see cifar10.datasets)
    image_size: int = 32
    val_split: float = 0.1  # share of the train split held out for validation (0: train on all of it)
    train_limit: int = 0  # train on a seeded random subset of this many images (0: all)
    epochs: int = 10
    batch_size: int = 512
    optimizer: str = "sgd"  # sgd (Nesterov momentum 0.9) | adam
    learning_rate: float = 0.4  # the peak rate for onecycle and cosine, the initial rate for exponential
    lr_schedule: str = "onecycle"  # exponential | cosine | onecycle | constant
    warmup_fraction: float = 0.2
    decay_rate: float = 0.9  # exponential: multiply the rate by this ...
    decay_epochs: float = 1.0  # ... every this many epochs
    weight_decay: float = 5e-4
    label_smoothing: float = 0.2
    width: int = 64
    dropout: float = 0.0
    crop_padding: int = 4
    flip: bool = True
    color_jitter: bool = False
    cutout: int = 0
    flip_tta: bool = True  # average the predictions for each image and its mirror image at test time
    early_stop_patience: int = 0  # epochs without a better validation loss before stopping (0: off)
    precision: str = "auto"  # auto | float32 | mixed_float16 | mixed_bfloat16
    seed: int = 0

    def model_config(self, num_classes: int, image_size: tuple[int, int]) -> ModelConfig:
        return ModelConfig(name=self.model, width=self.width, dropout=self.dropout, weight_decay=self.weight_decay,
                           num_classes=num_classes, image_size=tuple(image_size))

    def augment_config(self) -> AugmentConfig:
        return AugmentConfig(crop_padding=self.crop_padding, flip=self.flip, color_jitter=self.color_jitter,
                             cutout_size=self.cutout)


# Defaults per model for a CPU. The article's ResNet is a GPU model (about 17 images/s on 2 CPU cores), and
# cifar10/configs/*_gpu.json contain the GPU recipes.
MODEL_PRESETS: dict[str, dict] = {
    "cnn": dict(width=32, dropout=0.4, epochs=30, batch_size=128, learning_rate=0.05, lr_schedule="exponential",
                label_smoothing=0.0, color_jitter=True, flip_tta=False),
    "resnet": dict(width=64, dropout=0.3, epochs=30, batch_size=128, learning_rate=0.05, lr_schedule="exponential",
                   label_smoothing=0.0, color_jitter=True, flip_tta=False),
    "fast": dict(width=32, epochs=10, batch_size=512, learning_rate=0.4, lr_schedule="onecycle",
                 label_smoothing=0.2, color_jitter=False, cutout=8, flip_tta=True),
}

FIELD_NAMES = tuple(field.name for field in fields(TrainConfig))


def make_config(model: str = "fast", config_file: str | Path | None = None, **overrides) -> TrainConfig:
    """Merge the model's preset, an optional JSON file and explicit ``overrides`` (None values are ignored)."""
    if model not in MODEL_NAMES:
        raise RunError(f"unknown model {model!r}, choose one of {', '.join(MODEL_NAMES)}")
    values: dict = {"model": model, **MODEL_PRESETS[model]}
    if config_file is not None:
        file_values = read_json(Path(config_file))
        if file_values.get("model", model) != model:
            raise RunError(f"{config_file} is a config for model {file_values['model']!r}, not {model!r}. "
                           f"Pass --model {file_values['model']} or another --config.")
        values.update(file_values)
    values.update({key: value for key, value in overrides.items() if value is not None})
    return _from_dict(values, source=str(config_file or "arguments"))


def read_json(path: Path) -> dict:
    if not path.is_file():
        bundled = CONFIG_DIR / path.name
        if bundled.is_file():
            path = bundled
        else:
            raise RunError(f"config file not found: {path}. Bundled configs: "
                           f"{', '.join(sorted(p.name for p in CONFIG_DIR.glob('*.json')))}")
    try:
        values = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise RunError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(values, dict):
        raise RunError(f"{path} must hold a JSON object of TrainConfig fields")
    return values


def _from_dict(values: dict, source: str) -> TrainConfig:
    unknown = sorted(set(values) - set(FIELD_NAMES))
    if unknown:
        raise RunError(f"unknown config field(s) {', '.join(unknown)} in {source}. "
                       f"valid fields: {', '.join(FIELD_NAMES)}")
    config = TrainConfig(**values)
    validate(config)
    return config


def validate(config: TrainConfig) -> None:
    """Raise :class:`RunError` for values that would fail later with an obscure TensorFlow error."""
    checks = [
        (config.model in MODEL_NAMES, f"model must be one of {', '.join(MODEL_NAMES)}, got {config.model!r}"),
        (config.lr_schedule in SCHEDULE_NAMES,
         f"learning-rate schedule must be one of {', '.join(SCHEDULE_NAMES)}, got {config.lr_schedule!r}"),
        (config.epochs >= 1, f"epochs must be at least 1, got {config.epochs}"),
        (config.batch_size >= 1, f"batch size must be at least 1, got {config.batch_size}"),
        (config.learning_rate > 0, f"learning rate must be positive, got {config.learning_rate}"),
        (config.width >= 1, f"width must be at least 1, got {config.width}"),
        (config.image_size >= 8, f"image size must be at least 8 pixels, got {config.image_size}"),
        (config.train_limit >= 0, f"train limit must be 0 (all images) or positive, got {config.train_limit}"),
        (0 <= config.val_split < 1, f"validation split must be in [0, 1), got {config.val_split}"),
        (0 <= config.label_smoothing < 1, f"label smoothing must be in [0, 1), got {config.label_smoothing}"),
        (config.optimizer in ("sgd", "adam"), f"optimizer must be sgd or adam, got {config.optimizer!r}"),
        (config.precision in ("auto", "float32", "mixed_float16", "mixed_bfloat16"),
         f"precision must be auto, float32, mixed_float16 or mixed_bfloat16, got {config.precision!r}"),
    ]
    for ok, message in checks:
        if not ok:
            raise RunError(message)


def save_config(config: TrainConfig, path: Path) -> None:
    write_text_atomic(path, json.dumps(asdict(config), indent=2) + "\n")


def load_config(path: Path) -> TrainConfig:
    return _from_dict(read_json(path), source=str(path))


def with_overrides(config: TrainConfig, **overrides) -> TrainConfig:
    return replace(config, **{key: value for key, value in overrides.items() if value is not None})
