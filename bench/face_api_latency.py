"""Per-image latency of detect + 68 landmarks + descriptor: face_api against the face_recognition library.

Both sides use the same dlib models (HOG detector at upsample 1, the 68-point predictor, the ResNet
encoder from face_recognition_models 0.3.0) on the same files, decoding included. face_recognition runs
its usual calls: face_locations, face_landmarks, face_encodings (its default "small" model, which also runs
the 5-point predictor for alignment). face_api runs analyze_image with landmarks and descriptor.

The reference needs ``pip install --no-deps face_recognition==1.3.0``. Its dependency
face_recognition_models 0.3.0 imports ``pkg_resources``, which setuptools 81 and later removed. So this
script puts a stand-in ``pkg_resources`` module into its own process before importing the reference.
The stand-in has only ``resource_filename``, the one function face_recognition_models calls. Without
the reference, the comparison columns are left out and the reason is printed.

A last column times face_api with ``max_side`` (detection on a copy shrunk to that side, landmarks and
descriptor at full resolution): the speed knob, with its face count so a missed face shows.

Usage: python bench/face_api_latency.py [--images DIR] [--repeats N] [--fast-side PX] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

from face_api import AnalysisOptions, DetectionOptions, FaceModels, analyze_image, load_image
from practicekit import find_data_path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
FACE_API_OPTIONS = AnalysisOptions(analyses=frozenset({"landmarks", "descriptor"}))


def install_pkg_resources_stand_in() -> None:
    """Provide ``pkg_resources.resource_filename`` for face_recognition_models, inside this process only."""
    if "pkg_resources" in sys.modules:
        return
    try:
        import pkg_resources  # noqa: F401  (an old setuptools still ships it)
        return
    except ImportError:
        pass

    def resource_filename(package: str, resource: str) -> str:
        return str(Path(sys.modules[package].__file__).parent / resource)

    stand_in = types.ModuleType("pkg_resources")
    stand_in.resource_filename = resource_filename
    sys.modules["pkg_resources"] = stand_in


def load_reference() -> tuple[Callable[[Path], int] | None, str]:
    """Return the face_recognition pipeline and its version, or None and the reason it is unavailable."""
    install_pkg_resources_stand_in()
    try:
        import face_recognition
    except ImportError as error:
        return None, f"face_recognition is not installed ({error}); pip install --no-deps face_recognition==1.3.0"
    except SystemExit:
        return None, "face_recognition could not import face_recognition_models"

    def run(path: Path) -> int:
        image = face_recognition.load_image_file(str(path))
        locations = face_recognition.face_locations(image, number_of_times_to_upsample=1, model="hog")
        face_recognition.face_landmarks(image, locations, model="large")
        return len(face_recognition.face_encodings(image, locations))

    from importlib.metadata import version

    return run, version("face_recognition")


def make_face_api_pipeline(models: FaceModels, options: AnalysisOptions) -> Callable[[Path], int]:
    def run(path: Path) -> int:
        return len(analyze_image(load_image(path), options, models))

    return run


def time_call(function: Callable[[Path], int], path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    faces = function(path)
    return time.perf_counter() - started, faces


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, help="folder of photos (default: faces/ in $AI_PRACTICE_DATA)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per image and library; the median counts")
    parser.add_argument("--fast-side", type=int, default=800,
                        help="max_side in pixels for the downscaled face_api column (default: 800)")
    parser.add_argument("--quick", action="store_true", help="three small photos, one run each (a smoke test)")
    args = parser.parse_args()

    folder = args.images or find_data_path("faces")
    if folder is None or not folder.is_dir():
        print("error: no photos found; set AI_PRACTICE_DATA to a folder with faces/, or pass --images", file=sys.stderr)
        return 2
    photos = sorted(path for path in folder.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES)
    repeats = args.repeats
    if args.quick:
        photos = sorted(photos, key=lambda path: path.stat().st_size)[:3]
        repeats = 1

    models = FaceModels()
    ours = make_face_api_pipeline(models, FACE_API_OPTIONS)
    fast_detection = DetectionOptions(max_side=args.fast_side)
    fast_options = AnalysisOptions(detection=fast_detection, analyses=FACE_API_OPTIONS.analyses)
    fast = make_face_api_pipeline(models, fast_options)
    reference, reference_info = load_reference()
    if reference is None:
        print(f"note: comparison skipped: {reference_info}")

    # Warm-up: model loading is a one-time cost and is not timed.
    ours(photos[0])
    if reference is not None:
        reference(photos[0])

    fast_label = f"max_side={args.fast_side} ms (faces)"
    header = f"{'image':<26} {'size':>11} {'faces':>5} {'face_api ms':>12}"
    if reference is not None:
        header += f" {'face_recognition ms':>20} {'ratio':>6}"
    header += f" {fast_label:>24}"
    print(header)
    print("-" * len(header))

    totals = [0.0, 0.0, 0.0]
    for path in photos:
        image = load_image(path)
        size = f"{image.shape[1]}x{image.shape[0]}"
        our_times, reference_times, fast_times, faces, fast_faces = [], [], [], 0, 0
        for _ in range(repeats):
            # Alternate the libraries so load from other processes affects all of them alike.
            elapsed, faces = time_call(ours, path)
            our_times.append(elapsed)
            if reference is not None:
                reference_times.append(time_call(reference, path)[0])
            elapsed, fast_faces = time_call(fast, path)
            fast_times.append(elapsed)
        our_ms = statistics.median(our_times) * 1000
        fast_ms = statistics.median(fast_times) * 1000
        totals[0] += our_ms
        totals[2] += fast_ms
        row = f"{path.name:<26} {size:>11} {faces:>5} {our_ms:>12.1f}"
        if reference is not None:
            reference_ms = statistics.median(reference_times) * 1000
            totals[1] += reference_ms
            row += f" {reference_ms:>20.1f} {our_ms / reference_ms:>6.2f}"
        row += f" {f'{fast_ms:.1f} ({fast_faces})':>24}"
        print(row)

    footer = f"{'total':<26} {'':>11} {'':>5} {totals[0]:>12.1f}"
    if reference is not None:
        footer += f" {totals[1]:>20.1f} {totals[0] / totals[1]:>6.2f}"
    footer += f" {totals[2]:>24.1f}"
    print("-" * len(header))
    print(footer)
    if reference is not None:
        print(f"reference: face_recognition {reference_info}; ratio = face_api / face_recognition (target <= 1.0)")
    print(f"median of {repeats} run(s) per image, decoding included, one thread")
    return 0


if __name__ == "__main__":
    sys.exit(main())
