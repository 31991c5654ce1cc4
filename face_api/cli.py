"""Command line: ``python -m face_api detect|landmarks|encode|compare|annotate|demo|serve``.

Every analysis command prints JSON to stdout, one entry per image. A user mistake (missing file, not an
image, bad option) prints ``error: ...`` to stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from face_api.analysis import AnalysisOptions, analyze_image
from face_api.annotate import annotate_image, write_png
from face_api.compare import compare_image, known_face_descriptor
from face_api.descriptors import DEFAULT_TOLERANCE
from face_api.detection import DETECTORS, DetectionOptions
from face_api.errors import FaceApiError, InvalidOptionError
from face_api.images import DEFAULT_MAX_PIXELS, load_image
from face_api.landmarks import face_landmarks
from face_api.models import FaceModels, ModelPaths, default_models
from practicekit import setup_logging

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m face_api",
        description="Face detection, landmarks, eye/mouth state, head pose and descriptors with dlib; JSON output.")
    commands = parser.add_subparsers(dest="command", required=True)

    detect = commands.add_parser("detect", help="print the face boxes of each image")
    _add_common(detect)

    landmarks = commands.add_parser("landmarks", help="print 68 (or 5) landmarks, eye/mouth state and head pose")
    _add_common(landmarks)
    landmarks.add_argument("--model", choices=("68", "5"), default="68",
                           help="landmark model; state and pose need 68 (default: 68)")

    encode = commands.add_parser("encode", help="print the 128-d descriptor of each face")
    _add_common(encode)
    encode.add_argument("--num-jitters", type=int, default=0,
                        help="average this many jittered copies of each face (default: 0)")

    compare = commands.add_parser("compare", help="compare the faces of each IMAGE with the largest face of KNOWN")
    compare.add_argument("known", type=Path, help="photo of the known person")
    _add_common(compare)
    compare.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                         help=f"maximum Euclidean distance for a match (default: {DEFAULT_TOLERANCE})")

    annotate = commands.add_parser("annotate", help="write PNG copies with boxes, numbered landmarks and labels")
    _add_common(annotate)
    annotate.add_argument("--out", type=Path, default=Path("annotated"), help="output folder (default: annotated)")
    annotate.add_argument("--output-max-side", type=int, default=1200,
                          help="shrink each output so its longer side is at most this many pixels (default: 1200)")

    demo = commands.add_parser("demo", help="analyse, compare and annotate the sample face photos")
    demo.add_argument("--out", type=Path, default=Path("runs/demo/face_api"), help="output folder")
    demo.add_argument("--images", type=Path, help="folder of photos (default: faces/ in $AI_PRACTICE_DATA)")
    demo.add_argument("--models-dir", type=Path, help="folder with the four dlib .dat model files")

    serve = commands.add_parser("serve", help="run the Flask development server (use gunicorn in production)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=5000, help="TCP port (default: 5000)")
    serve.add_argument("--debug", action="store_true", help="enable the Flask debugger and reloader")
    return parser


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="JPEG, PNG, WebP or BMP files")
    parser.add_argument("--detector", choices=DETECTORS, default="hog", help="face detector (default: hog)")
    parser.add_argument("--upsample", type=int, default=1,
                        help="times to double the image size before detecting small faces, 0 to 3 (default: 1)")
    parser.add_argument("--max-side", type=int,
                        help="downscale to this longer side in pixels before detecting (default: none for hog, "
                             "640 for cnn)")
    parser.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS,
                        help=f"reject images with more pixels than this (default: {DEFAULT_MAX_PIXELS:,})")
    parser.add_argument("--models-dir", type=Path, help="folder with the four dlib .dat model files")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging("WARNING" if args.command not in ("demo", "serve") else None)
    try:
        return _run(args)
    except FaceApiError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    except OSError as error:
        target = f": {error.filename}" if error.filename else ""
        print(f"error: {error.strerror or error}{target}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.command == "serve":
        from face_api.server import create_app

        if not 1 <= args.port <= 65535:
            raise InvalidOptionError(f"invalid port {args.port}; use an integer from 1 to 65535")
        create_app().run(host=args.host, port=args.port, debug=args.debug)
        return 0
    if args.command == "demo":
        from face_api.demo import run_demo

        run_demo(args.out, images_dir=args.images, models=_models(args))
        return 0

    models = _models(args)
    detection = DetectionOptions(detector=args.detector, upsample=args.upsample, max_side=args.max_side)
    detection.validate()
    images = {path: load_image(path, max_pixels=args.max_pixels) for path in args.images}

    if args.command == "compare":
        results = _compare(args, images, detection, models)
    elif args.command == "annotate":
        results = _annotate(args, images, detection, models)
    else:
        results = [_analyse(args, path, image, detection, models) for path, image in images.items()]
    json.dump(results, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def _models(args: argparse.Namespace) -> FaceModels:
    return FaceModels(ModelPaths.from_dir(args.models_dir)) if args.models_dir else default_models()


def _analyse(args: argparse.Namespace, path: Path, image, detection: DetectionOptions,
             models: FaceModels) -> dict[str, Any]:
    entry: dict[str, Any] = {"image": str(path), "width": image.shape[1], "height": image.shape[0]}
    if args.command == "landmarks" and args.model == "5":
        options = AnalysisOptions(detection=detection, analyses=frozenset())
        faces = analyze_image(image, options, models)
        shapes = face_landmarks(image, [face.box for face in faces], "5", models)
        pairs = zip(faces, shapes, strict=True)
        entry["faces"] = [{**face.to_dict(), "landmarks": shape.to_dict()} for face, shape in pairs]
        return entry

    analyses = {"detect": frozenset(), "landmarks": frozenset({"landmarks", "state", "pose"}),
                "encode": frozenset({"descriptor"})}[args.command]
    options = AnalysisOptions(detection=detection, analyses=analyses, num_jitters=getattr(args, "num_jitters", 0))
    entry["faces"] = [face.to_dict() for face in analyze_image(image, options, models)]
    return entry


def _compare(args: argparse.Namespace, images: dict, detection: DetectionOptions,
             models: FaceModels) -> list[dict[str, Any]]:
    options = AnalysisOptions(detection=detection)
    known_image = load_image(args.known, max_pixels=args.max_pixels)
    known, known_box, known_count = known_face_descriptor(known_image, options, models, name=str(args.known))
    results = []
    for path, image in images.items():
        faces = compare_image(known, image, options, args.tolerance, models)
        results.append({
            "known": str(args.known), "known_box": known_box.to_dict(), "known_face_count": known_count,
            "image": str(path), "tolerance": args.tolerance,
            "match": any(face.is_match for face in faces), "faces": [face.to_dict() for face in faces],
        })
    return results


def _annotate(args: argparse.Namespace, images: dict, detection: DetectionOptions,
              models: FaceModels) -> list[dict[str, Any]]:
    options = AnalysisOptions(detection=detection)
    results = []
    used_names: set[str] = set()
    for path, image in images.items():
        faces = analyze_image(image, options, models)
        name = _unique_name(path.stem, used_names)
        output = write_png(annotate_image(image, faces, max_side=args.output_max_side), args.out / f"{name}.png")
        results.append({"image": str(path), "annotated": str(output), "face_count": len(faces)})
    return results


def _unique_name(stem: str, used: set[str]) -> str:
    """Return ``stem``, or ``stem-2``, ``stem-3``... when an earlier input had the same file name."""
    name, counter = stem, 1
    while name in used:
        counter += 1
        name = f"{stem}-{counter}"
    used.add(name)
    return name
