"""Training throughput (images/s) of each cifar10 model: the package's pipeline against plain Keras.

For each model the script measures, each in a fresh worker process:

- ``plain keras``: the same model trained the way a short Keras script does it: float32 numpy arrays
  in memory, ``model.fit(x, y, batch_size=...)``, default ``compile`` settings, no augmentation;
- ``package``: ``cifar10``'s tf.data pipeline with augmentation and its ``compile_model`` under
  ``--precision`` (auto picks mixed_bfloat16 on a CPU with AMX/AVX512-BF16, mixed_float16 on a GPU);
- with ``--onednn``, the package again with ``TF_ENABLE_ONEDNN_OPTS=0`` (TensorFlow reads it at import).

Each worker trains ``--warmup`` steps (tracing and graph building), then times ``--steps`` steps on random
uint8 images of CIFAR-10's shape, because pixel values do not change the speed. The article's ResNet is slow on a
CPU (about 17 images/s on 2 cores), so it runs only when named in ``--models``.

Usage: python bench/cifar10_speed.py [--models cnn fast] [--steps 20] [--warmup 3] [--quick] [--onednn]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def measure(model_name: str, variant: str, precision: str, steps: int, warmup: int, batch_size: int | None) -> dict:
    """Build, warm up and time one (model, variant) inside a worker process, and return a result row."""
    import keras
    import numpy as np

    from cifar10.config import make_config
    from cifar10.hardware import resolve_precision
    from cifar10.models import build_model
    from cifar10.pipeline import ArraySource, training_pipeline
    from cifar10.training import compile_model, dtype_policy

    config = make_config(model_name, batch_size=batch_size)
    batch = config.batch_size
    count = batch * (steps + warmup)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(count, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=count).astype(np.int32)
    mean, std = np.full(3, 120.0, np.float32), np.full(3, 64.0, np.float32)
    model_config = config.model_config(10, (32, 32))

    if variant == "plain keras":
        chosen = "float32"
        model = build_model(model_config, mean, std)
        model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        x, y = images.astype(np.float32), labels
        model.fit(x[: warmup * batch], y[: warmup * batch], batch_size=batch, epochs=1, verbose=0)
        started = time.perf_counter()
        model.fit(x[warmup * batch:], y[warmup * batch:], batch_size=batch, epochs=1, verbose=0)
    else:
        chosen = resolve_precision(precision)
        with dtype_policy(chosen):
            model = build_model(model_config, mean, std)
            compile_model(model, config, steps_per_epoch=steps, on_gpu=False)
        data = training_pipeline(ArraySource(images, labels), batch, 10, config.augment_config(), mean).repeat()
        model.fit(data, epochs=1, steps_per_epoch=warmup, verbose=0)
        started = time.perf_counter()
        model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    seconds = time.perf_counter() - started
    return {"model": model_name, "variant": variant, "precision": chosen, "batch": batch,
            "parameters": model.count_params(), "images_per_s": steps * batch / seconds,
            "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1")}


def run_worker(args: argparse.Namespace, model_name: str, variant: str, onednn: str) -> dict | None:
    command = [sys.executable, __file__, "--worker", model_name, variant, "--precision", args.precision,
               "--steps", str(args.steps), "--warmup", str(args.warmup)]
    if args.batch_size:
        command += ["--batch-size", str(args.batch_size)]
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn, "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    rows = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not rows:
        last_line = (result.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"  {model_name} / {variant}: worker failed (status {result.returncode}): {last_line}", file=sys.stderr)
        return None
    return json.loads(rows[-1])


def print_table(rows: list[dict]) -> None:
    header = (f"{'model':<7} {'variant':<24} {'precision':<15} {'batch':>5} {'params':>11} {'images/s':>9} "
              f"{'vs plain':>8}")
    print(header)
    print("-" * len(header))
    plain = {row["model"]: row["images_per_s"] for row in rows if row["variant"] == "plain keras"}
    for row in rows:
        variant = row["variant"] + (" (oneDNN off)" if row["onednn"] == "0" else "")
        ratio = row["images_per_s"] / plain[row["model"]] if row["model"] in plain else float("nan")
        print(f"{row['model']:<7} {variant:<24} {row['precision']:<15} {row['batch']:>5} {row['parameters']:>11,} "
              f"{row['images_per_s']:>9.1f} {ratio:>7.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["cnn", "fast"], choices=["cnn", "resnet", "fast"])
    parser.add_argument("--steps", type=int, default=20, help="timed training steps per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (graph tracing)")
    parser.add_argument("--batch-size", type=int, help="override each model's default batch size")
    parser.add_argument("--precision", default="auto", choices=["auto", "float32", "mixed_bfloat16"])
    parser.add_argument("--onednn", action="store_true", help="also measure the package with oneDNN switched off")
    parser.add_argument("--quick", action="store_true", help="5 timed steps after 2 warm-up steps")
    parser.add_argument("--worker", nargs=2, metavar=("MODEL", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.steps, args.warmup = 5, 2

    if args.worker:
        print(json.dumps(measure(args.worker[0], args.worker[1], args.precision, args.steps, args.warmup,
                                 args.batch_size)))
        return

    print(f"training throughput, {args.steps} timed steps after {args.warmup} warm-up steps, "
          f"{os.cpu_count()} logical CPU cores")
    rows = []
    for model_name in args.models:
        jobs = [("plain keras", "1"), ("package", "1")] + ([("package", "0")] if args.onednn else [])
        for variant, onednn in jobs:
            row = run_worker(args, model_name, variant, onednn)
            if row is not None:
                rows.append(row)
    print_table(rows)


if __name__ == "__main__":
    main()
