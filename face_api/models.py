"""Lazy, load-once access to the dlib models (HOG and CNN detectors, shape predictors, ResNet encoder)."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlib

from face_api.errors import ModelUnavailableError
from face_api.model_files import MODEL_FILES, locate_model

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike | None


@dataclass(frozen=True)
class ModelPaths:
    """Optional explicit paths of the model files; None means search (see ``face_api.model_files``)."""

    landmarks_68: PathLike = None
    landmarks_5: PathLike = None
    descriptor: PathLike = None
    cnn_detector: PathLike = None

    @classmethod
    def from_dir(cls, folder: str | os.PathLike) -> ModelPaths:
        """Take every model file from ``folder``, using the file names of face_recognition_models."""
        root = Path(folder).expanduser()
        return cls(**{key: root / model.filename for key, model in MODEL_FILES.items()})


_LOADERS = {
    "landmarks_68": dlib.shape_predictor,
    "landmarks_5": dlib.shape_predictor,
    "descriptor": dlib.face_recognition_model_v1,
    "cnn_detector": dlib.cnn_face_detection_model_v1,
}


class FaceModels:
    """The dlib models of one process. Each file is located and loaded on first use, then kept.

    Loading is guarded by a lock, so threads share one copy. dlib's DNN objects (the CNN detector and
    the ResNet encoder) keep scratch buffers and are not safe to call from two threads at once, so
    callers hold ``dnn_lock`` around them. The HOG detector and shape predictors are read-only at
    inference time.
    """

    def __init__(self, paths: ModelPaths | None = None) -> None:
        self.paths = paths or ModelPaths()
        self.dnn_lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._loaded: dict[str, Any] = {}
        self._hog_detector = dlib.get_frontal_face_detector()

    @property
    def hog_detector(self) -> Any:
        return self._hog_detector

    @property
    def cnn_detector(self) -> Any:
        return self._get("cnn_detector")

    @property
    def landmarks_68(self) -> Any:
        return self._get("landmarks_68")

    @property
    def landmarks_5(self) -> Any:
        return self._get("landmarks_5")

    @property
    def descriptor(self) -> Any:
        return self._get("descriptor")

    def load(self, *keys: str) -> None:
        """Load the named models now (all when none are named), for example at server start."""
        for key in keys or tuple(MODEL_FILES):
            self._get(key)

    def loaded(self) -> list[str]:
        """Return the keys of the models loaded so far."""
        return sorted(self._loaded)

    def _get(self, key: str) -> Any:
        model = self._loaded.get(key)
        if model is not None:
            return model
        with self._load_lock:
            if key not in self._loaded:
                self._loaded[key] = self._load(key)
        return self._loaded[key]

    def _load(self, key: str) -> Any:
        path = locate_model(MODEL_FILES[key], getattr(self.paths, key))
        started = time.perf_counter()
        try:
            model = _LOADERS[key](str(path))
        except RuntimeError as error:
            raise ModelUnavailableError(f"cannot load the {key} model from {path}: {error}. "
                                        f"Check that the file is a dlib {MODEL_FILES[key].filename}.") from error
        logger.info("loaded %s model from %s in %.2f s", key, path, time.perf_counter() - started)
        return model


_default_models: FaceModels | None = None
_default_lock = threading.Lock()


def default_models() -> FaceModels:
    """Return the process-wide :class:`FaceModels` (created on first call; files still load lazily)."""
    global _default_models
    with _default_lock:
        if _default_models is None:
            _default_models = FaceModels()
        return _default_models


__all__ = ["FaceModels", "ModelPaths", "default_models"]
