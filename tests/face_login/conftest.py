"""Fixtures for face_login: one FaceNet embedder per session, real identity photos, and app factories."""

from __future__ import annotations

from pathlib import Path

import pytest

from face_login.embedder import FaceEmbedder
from face_login.server import create_app


@pytest.fixture(scope="session")
def embedder() -> FaceEmbedder:
    """FaceNet with the pretrained weights and MTCNN, loaded once (about 5 s); skips without the weights."""
    from practicekit import AssetError

    model = FaceEmbedder()
    try:
        model.load()
    except AssetError as error:
        pytest.skip(f"FaceNet weights unavailable: {error}")
    return model


@pytest.fixture(scope="session")
def identities(faces_dir: Path) -> Path:
    return faces_dir / "identities"


@pytest.fixture
def photo(faces_dir: Path):
    """Return an opener: ``photo("identities/obama/obama.jpg")`` -> (file object, filename) for a multipart form."""
    opened = []

    def open_photo(relative: str):
        handle = open(faces_dir / relative, "rb")
        opened.append(handle)
        return handle, Path(relative).name

    yield open_photo
    for handle in opened:
        handle.close()


@pytest.fixture
def make_app(tmp_path, embedder):
    """Return a factory for apps on a fresh SQLite file that share the session's embedder."""

    def factory(**overrides):
        config = {"TESTING": True, "DATABASE": str(tmp_path / "users.sqlite3"), "SECRET_KEY": "test-secret",
                  "EMBEDDER": embedder, **overrides}
        return create_app(config)

    return factory


@pytest.fixture
def client(make_app):
    return make_app().test_client()
