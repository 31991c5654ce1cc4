"""Fixtures for the face_api tests: shared models, the sample photos (shrunk for speed) and their analyses."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from face_api import AnalysisOptions, FaceAnalysis, FaceModels, analyze_image, default_models, load_image
from face_api.detection import downscale_factor, resize

DATA_DIR = Path(__file__).parent / "data"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
# Shrinking to this side keeps every face above 80 px (HOG's window at upsample 1 finds it) and the tests fast.
TEST_SIDE = 800
ALL_ANALYSES = frozenset({"landmarks", "state", "pose", "descriptor"})


def shrink(image: np.ndarray, side: int = TEST_SIDE) -> np.ndarray:
    scale = downscale_factor(image.shape[1], image.shape[0], side)
    return image if scale == 1.0 else resize(image, scale)


@pytest.fixture(scope="session")
def models() -> FaceModels:
    """The process-wide models, which the CLI tests use too, so each file loads once per session."""
    return default_models()


@pytest.fixture(scope="session")
def photos(faces_dir: Path) -> dict[str, np.ndarray]:
    """The top-level sample photos by file name, decoded and shrunk to at most 800 px."""
    paths = sorted(path for path in faces_dir.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES)
    return {path.name: shrink(load_image(path)) for path in paths}


@pytest.fixture(scope="session")
def analysed(photos: dict[str, np.ndarray], models: FaceModels) -> dict[str, list[FaceAnalysis]]:
    """Every analysis of every photo, computed once per session."""
    options = AnalysisOptions(analyses=ALL_ANALYSES)
    return {name: analyze_image(image, options, models) for name, image in photos.items()}


@pytest.fixture(scope="session")
def landmark_fixtures() -> dict[str, np.ndarray]:
    """Real 68-point landmarks: neutral, smile and mouth_open faces (see data/landmarks_68.json)."""
    data = json.loads((DATA_DIR / "landmarks_68.json").read_text())
    return {name: np.array(face["points"], dtype=np.float64) for name, face in data["faces"].items()}
