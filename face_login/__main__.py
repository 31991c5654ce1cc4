"""Command line: ``python -m face_login {embed,evaluate,demo,train,serve} ...``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from face_login.errors import FaceLoginError
from practicekit import AssetError, find_data_path, setup_logging


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m face_login", description="FaceNet face login: embed, "
                                     "evaluate, demo, triplet training and the web service.")
    parser.add_argument("--weights", help="path to facenet_keras.h5 (default: $AI_PRACTICE_DATA, cache, pip)")
    parser.add_argument("--detector", choices=("mtcnn", "hog"), default="mtcnn", help="face detector")
    parser.add_argument("--margin", type=float, default=0.2,
                        help="context around the face box, as a fraction of its size (default 0.2)")
    parser.add_argument("--min-face-size", type=int, default=20,
                        help="ignore faces narrower than this many pixels (default 20; the service uses 40)")
    parser.add_argument("--log-level", help="logging level (default INFO)")
    commands = parser.add_subparsers(dest="command", required=True)

    embed = commands.add_parser("embed", help="embed photos and print their pairwise Euclidean distances")
    embed.add_argument("images", nargs="+", type=Path, help="photos with one face each (the largest is used)")
    embed.add_argument("--save", type=Path, help="also save the embeddings to this .npy file")

    evaluate = commands.add_parser("evaluate", help="genuine/impostor distances, ROC, EER and FAR/FRR of a dataset")
    evaluate.add_argument("dataset", nargs="?", type=Path,
                          help="class-folder dataset DIR/<identity>/*.jpg, or with train/ and val/ splits "
                               "(default: the 5-celebrity faces dataset)")
    evaluate.add_argument("--out", type=Path, default=Path("runs/face_login/evaluate"),
                          help="folder for roc.png and report.json")
    evaluate.add_argument("--target-far", type=float, default=0.001, help="FAR to choose a threshold for")
    evaluate.add_argument("--threshold", type=float, default=1.0, help="threshold drawn on the histogram")

    demo = commands.add_parser("demo", help="enrol the sample identities, identify the probes, write ROC curves")
    demo.add_argument("--out", type=Path, default=Path("runs/demo/face_login"), help="output folder")
    demo.add_argument("--threshold", type=float, default=1.0, help="match threshold (Euclidean distance)")
    demo.add_argument("--skip-celebrity", action="store_true", help="do not evaluate the 5-celebrity dataset")

    train = commands.add_parser("train", help="fine-tune FaceNet with triplet loss and semi-hard mining")
    train.add_argument("--dataset", type=Path, help="class-folder dataset (default: 5-celebrity train split)")
    train.add_argument("--out", type=Path, default=Path("runs/facenet"), help="output folder")
    train.add_argument("--epochs", type=int, default=3)
    train.add_argument("--steps-per-epoch", type=int, default=20)
    train.add_argument("--classes-per-batch", type=int, default=4)
    train.add_argument("--images-per-class", type=int, default=4)
    train.add_argument("--margin-alpha", type=float, default=0.2, help="triplet margin on squared distances")
    train.add_argument("--learning-rate", type=float, default=1e-4)
    train.add_argument("--train-from", default="Block8_1",
                       help="first layer-name prefix to train; earlier layers stay frozen ('all' trains all)")
    train.add_argument("--from-scratch", action="store_true", help="start from random weights")
    train.add_argument("--seed", type=int, default=0)

    serve = commands.add_parser("serve", help="run the service with Flask's development server")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="TCP port (default: 8000)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level)
    try:
        return run(args)
    except (FaceLoginError, AssetError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    from face_login.embedder import EmbedderConfig, FaceEmbedder

    def make_embedder() -> FaceEmbedder:
        return FaceEmbedder(EmbedderConfig(weights_path=args.weights, detector=args.detector, margin=args.margin,
                                           min_face_size=args.min_face_size))

    if args.command == "embed":
        from face_login.cli_embed import embed_and_print

        return embed_and_print(make_embedder(), args.images, args.save)

    if args.command == "evaluate":
        from face_login.assets import celebrity_dataset_path
        from face_login.evaluate import evaluate_dataset, format_report

        dataset = args.dataset or celebrity_dataset_path()
        if not dataset.is_dir():
            raise FaceLoginError(f"dataset folder not found: {dataset}")
        report = evaluate_dataset(make_embedder(), dataset, args.out, args.target_far, args.threshold)
        print(format_report(report))
        print(f"\nwrote {args.out / 'roc.png'} and {args.out / 'report.json'}")
        return 0

    if args.command == "demo":
        from face_login.assets import celebrity_dataset_path
        from face_login.demo import reset_folder, run_demo

        faces_root = find_data_path("faces")
        if faces_root is None:
            raise FaceLoginError("faces/ not found in $AI_PRACTICE_DATA; point it at a folder with "
                                 "faces/identities/<name>/*.jpg and faces/probes/*.jpg")
        celebrity = None if args.skip_celebrity else celebrity_dataset_path()
        reset_folder(args.out)
        run_demo(make_embedder(), faces_root, celebrity, args.out, args.threshold)
        print(f"\ndemo outputs: {args.out}/identify.json, {args.out}/roc_identities.png"
              + ("" if celebrity is None else f", {args.out}/celebrity/roc.png, {args.out}/celebrity/report.json"))
        return 0

    if args.command == "train":
        from face_login.training import TrainConfig, train

        config = TrainConfig(dataset=args.dataset, out=args.out, epochs=args.epochs,
                             steps_per_epoch=args.steps_per_epoch, classes_per_batch=args.classes_per_batch,
                             images_per_class=args.images_per_class, margin=args.margin_alpha,
                             learning_rate=args.learning_rate, train_from=args.train_from,
                             from_scratch=args.from_scratch, seed=args.seed, weights=args.weights,
                             detector=args.detector, face_margin=args.margin, min_face_size=args.min_face_size)
        train(config)
        return 0

    if args.command == "serve":
        from face_login.server import create_app

        if not 1 <= args.port <= 65535:
            raise FaceLoginError(f"invalid port {args.port}; use an integer from 1 to 65535")
        create_app({"DETECTOR": args.detector, "FACE_MARGIN": args.margin,
                    "FACENET_WEIGHTS": args.weights}).run(host=args.host, port=args.port)
        return 0
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
