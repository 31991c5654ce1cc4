"""Command line: ``python -m cifar10 {train,evaluate,export,predict,tfrecord,figures,demo} ...``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cifar10.errors import Cifar10Error
from practicekit import AssetError, setup_logging

if TYPE_CHECKING:
    from cifar10.runs import RunPaths


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", choices=("cnn", "resnet", "fast"), default="fast",
                        help="architecture and its default recipe (default: fast)")
    parser.add_argument("--config", help="JSON file of TrainConfig fields, or the name of a bundled one "
                                         "(fast_gpu.json, resnet_gpu.json)")
    parser.add_argument("--data", help="auto, official, images, a class-folder folder/.tar.gz/.zip, the official "
                                       "archive, or tfrecord:DIR (default: auto)")
    parser.add_argument("--out", help="run folder (default: runs/cifar10/<model>)")

    parser.add_argument("--epochs", type=int, help="number of passes over the training images")
    parser.add_argument("--batch-size", type=int, help="images per optimizer step (global, over all GPUs)")
    parser.add_argument("--learning-rate", type=float, help="peak (onecycle, cosine) or initial (exponential) rate")
    parser.add_argument("--lr-schedule", choices=("exponential", "cosine", "onecycle", "constant"))
    parser.add_argument("--optimizer", choices=("sgd", "adam"))

    parser.add_argument("--weight-decay", type=float, help="L2 coefficient (gradient gains weight_decay * w)")
    parser.add_argument("--label-smoothing", type=float)
    parser.add_argument("--width", type=int, help="channels of the first stage (later stages double it)")
    parser.add_argument("--dropout", type=float)

    parser.add_argument("--cutout", type=int, help="side in pixels of the Cutout square (0: off)")
    parser.add_argument("--color-jitter", action=argparse.BooleanOptionalAction, default=None,
                        help="random hue, saturation and contrast per training image")
    parser.add_argument("--flip", action=argparse.BooleanOptionalAction, default=None,
                        help="random horizontal flips of training images")
    parser.add_argument("--flip-tta", action=argparse.BooleanOptionalAction, default=None,
                        help="average predictions over each test image and its mirror image")

    parser.add_argument("--val-split", type=float, help="share of training images held out for validation (0-1)")
    parser.add_argument("--train-limit", type=int, help="train on this many images only (0: all)")
    parser.add_argument("--image-size", type=int, help="side in pixels that class-folder images are resized to")
    parser.add_argument("--early-stop-patience", type=int,
                        help="epochs without a better validation loss before stopping (0: off)")
    parser.add_argument("--precision", choices=("auto", "float32", "mixed_float16", "mixed_bfloat16"))
    parser.add_argument("--seed", type=int)

    parser.add_argument("--overwrite", action="store_true", help="replace an existing run in --out")
    parser.add_argument("--quiet", action="store_true", help="one line per epoch instead of a progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cifar10",
        description="CIFAR-10 image classification with TensorFlow/Keras: train, evaluate, export and predict.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model (rerun the same command to resume an interrupted run)")
    add_train_arguments(train)

    evaluate = commands.add_parser("evaluate", help="test accuracy, per-class accuracy and figures of a run")
    evaluate.add_argument("--run", required=True, help="run folder written by train")
    evaluate.add_argument("--data", help="data set to test on (default: the one the run was trained on)")
    evaluate.add_argument("--weights", choices=("best", "last"), default="best")
    evaluate.add_argument("--out", help="output folder (default: <run>/evaluation)")

    export = commands.add_parser("export", help="write the run's model as SavedModel and .keras")
    export.add_argument("--run", required=True, help="run folder written by train")
    export.add_argument("--weights", choices=("best", "last"), default="best")
    export.add_argument("--out", help="export folder (default: <run>/export)")

    predict = commands.add_parser("predict", help="print the top classes of image files")
    predict.add_argument("images", nargs="+", help="image files of any size (JPEG, PNG, ...)")
    source = predict.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="export folder written by export")
    source.add_argument("--run", help="run folder whose <run>/export is used")
    predict.add_argument("--top", type=int, default=3, help="number of classes to print per image")

    tfrecord = commands.add_parser("tfrecord", help="write a data set as sharded TFRecord files")
    tfrecord.add_argument("--data", default="auto", help="data set to convert (same values as train --data)")
    tfrecord.add_argument("--out", required=True, help="output folder (then train with --data tfrecord:OUT)")
    tfrecord.add_argument("--image-size", type=int, default=32)
    tfrecord.add_argument("--train-shards", type=int, default=8)
    tfrecord.add_argument("--test-shards", type=int, default=2)
    tfrecord.add_argument("--overwrite", action="store_true")

    figures = commands.add_parser("figures", help="write teaching figures: augmented examples, LR schedules")
    figures.add_argument("--out", required=True, help="output folder for the PNG files")
    figures.add_argument("--data", default="auto", help="data set to draw examples from")

    demo = commands.add_parser("demo", help="short training run on real data, then evaluate, export and predict")
    demo.add_argument("--out", default="runs/demo/cifar10", help="output folder")
    demo.add_argument("--data", default="auto", help="data set (same values as train --data)")
    demo.add_argument("--train-limit", type=int, default=10_000, help="training images used")
    demo.add_argument("--epochs", type=int, default=2)
    return parser


def run_train(args: argparse.Namespace) -> None:
    from cifar10.config import FIELD_NAMES, make_config
    from cifar10.training import train

    overrides = {name: getattr(args, name, None) for name in FIELD_NAMES if name != "model"}
    config = make_config(args.model, args.config, **overrides)
    out = args.out or f"runs/cifar10/{config.model}"
    result = train(config, out, overwrite=args.overwrite, verbose=2 if args.quiet else "auto")
    print(f"trained {config.model} for {result.epochs_run} epoch(s) in {result.seconds:.0f} s; run folder: {out}")
    print(f"next: python -m cifar10 evaluate --run {out}")


def run_evaluate(args: argparse.Namespace) -> None:
    from cifar10.evaluate import evaluate_run, format_report

    print(format_report(evaluate_run(args.run, data=args.data, weights=args.weights, out_dir=args.out)))


def run_export(args: argparse.Namespace) -> None:
    from cifar10.export import export_run

    result = export_run(args.run, out_dir=args.out, weights=args.weights)
    print(f"exported to {result.folder}: {result.keras_file.name}, {result.saved_model.name}/, {result.labels.name}")


def run_predict(args: argparse.Namespace) -> None:
    from cifar10.export import Predictor
    from cifar10.runs import RunPaths

    if args.run:
        check_run_has_export(RunPaths(args.run))
    predictor = Predictor(args.model or RunPaths(args.run).export)
    for path, top in zip(args.images, predictor.predict(args.images, top_k=args.top), strict=True):
        print(path)
        for name, probability in top:
            print(f"  {name:<12} {probability:.3f}")


def check_run_has_export(paths: RunPaths) -> None:
    """Raise RunError, naming the command to run next, unless the ``--run`` folder contains an export."""
    from cifar10.errors import RunError

    if paths.export.is_dir():
        return
    if not paths.root.is_dir():
        raise RunError(f"run folder not found: {paths.root}; pass the --out folder of a train run")
    if paths.best_weights.is_file() or paths.last_weights.is_file():
        raise RunError(f"run {paths.root} has no export yet; create it with "
                       f"`python -m cifar10 export --run {paths.root}`, then predict again")
    nested = sorted(child for child in paths.root.iterdir() if (child / "export").is_dir())
    if nested:
        raise RunError(f"{paths.root} is not a run folder, but it contains one: pass --run {nested[0]}")
    raise RunError(f"{paths.root} is not a trained run (no weights or export in it); train one with "
                   f"`python -m cifar10 train --out {paths.root}` or pass --model EXPORT_DIR")


def run_tfrecord(args: argparse.Namespace) -> None:
    from cifar10.datasets import load_dataset
    from cifar10.tfrecords import write_tfrecords

    dataset = load_dataset(args.data, image_size=args.image_size)
    metadata = write_tfrecords(dataset, args.out, train_shards=args.train_shards, test_shards=args.test_shards,
                               overwrite=args.overwrite)
    print(f"wrote {metadata.num_train} train and {metadata.num_test} test records to {args.out}; "
          f"train with --data tfrecord:{args.out}")


def run_figures(args: argparse.Namespace) -> None:
    from cifar10.figures import write_figures

    for path in write_figures(Path(args.out), data=args.data):
        print(path)


def run_demo(args: argparse.Namespace) -> None:
    from cifar10.demo import run_demo as demo

    demo(Path(args.out), data=args.data, train_limit=args.train_limit, epochs=args.epochs)


COMMANDS = {"train": run_train, "evaluate": run_evaluate, "export": run_export, "predict": run_predict,
            "tfrecord": run_tfrecord, "figures": run_figures, "demo": run_demo}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging()
    logging.getLogger("tensorflow").setLevel(logging.WARNING)  # hides "Assets written to" lines of SavedModel
    try:
        COMMANDS[args.command](args)
    except (Cifar10Error, AssetError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # an unwritable --out, a full disk: the path and reason are in the message
        print(f"error: {error}. Check the path and its permissions.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: rerun the same train command to resume from the last finished epoch", file=sys.stderr)
        return 130
    return 0
