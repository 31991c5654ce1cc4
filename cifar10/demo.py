"""A short end-to-end run on real data: train the fast model briefly, evaluate, export, predict."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from cifar10.config import make_config
from cifar10.evaluate import evaluate_run, format_report
from cifar10.export import Predictor, export_run
from cifar10.pipeline import load_splits
from cifar10.training import train


def save_sample_images(data: str, folder: Path, count: int = 3) -> list[Path]:
    """Save the first ``count`` test images as PNG files, named after their true class."""
    splits = load_splits(data, val_fraction=0.0)
    images, labels = splits.test.arrays()
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(0, len(images), max(1, len(images) // count))[:count]:
        path = folder / f"test{index:05d}_{splits.class_names[labels[index]]}.png"
        Image.fromarray(images[index]).save(path)
        paths.append(path)
    return paths


def run_demo(out: Path, data: str = "auto", train_limit: int = 10_000, epochs: int = 2) -> None:
    """Train the fast recipe on ``train_limit`` images for ``epochs`` epochs, then evaluate, export and predict.

    With the defaults this takes about 2 minutes on 2 idle CPU cores (an estimate; 5 minutes with --epochs 3 on
    a busy shared machine, where that run reached 52.6% test accuracy). The full recipe is
    `python -m cifar10 train --model fast`.
    """
    run_dir = out / "run"
    config = make_config("fast", data=data, epochs=epochs, train_limit=train_limit, val_split=0.05)
    train(config, run_dir, overwrite=True, verbose=2)

    report = evaluate_run(run_dir)
    print(format_report(report))
    export = export_run(run_dir)

    samples = save_sample_images(data, out / "images")
    predictor = Predictor(export.folder)
    for path, top in zip(samples, predictor.predict(samples), strict=True):
        print(f"{path.name}: " + ", ".join(f"{name} {probability:.2f}" for name, probability in top))

    print(f"\ndemo outputs in {out}:")
    print(f"  run folder (config, history.csv, TensorBoard logs/, weights): {run_dir}")
    print(f"  figures and metrics: {run_dir / 'evaluation'}")
    print(f"  exported model (model.keras, saved_model/): {export.folder}")
    print(f"  sample images: {out / 'images'}")
    print(f"  TensorBoard: tensorboard --logdir {run_dir / 'logs'}")
