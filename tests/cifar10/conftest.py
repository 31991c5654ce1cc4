"""Fixtures for the cifar10 tests. The data generators are in cifar10_fixtures.py."""

from __future__ import annotations

import sys
import tarfile
from pathlib import Path

import pytest

# Importing the package first sets TF_ENABLE_ONEDNN_OPTS before TensorFlow loads.
import cifar10  # noqa: F401

# The test modules import the data generators as a plain module from this folder, whatever pytest's import mode.
sys.path.insert(0, str(Path(__file__).parent))
from cifar10_fixtures import write_class_folders  # noqa: E402, I001


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Point $AI_PRACTICE_CACHE at a temporary folder so tests never read or fill the user's cache."""
    monkeypatch.setenv("AI_PRACTICE_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def class_folders(tmp_path) -> Path:
    return write_class_folders(tmp_path / "folders")


@pytest.fixture(scope="session")
def real_jpeg(cifar10_images_archive, tmp_path_factory) -> Path:
    """One real CIFAR-10 JPEG extracted from the archive in $AI_PRACTICE_DATA."""
    target = tmp_path_factory.mktemp("real") / "cat.jpg"
    with tarfile.open(cifar10_images_archive, "r|gz") as archive:
        for member in archive:
            if member.isfile() and member.name.startswith("test/cat/"):
                target.write_bytes(archive.extractfile(member).read())
                return target
    pytest.fail(f"no test/cat/ image in {cifar10_images_archive}")


def pytest_collection_modifyitems(items):
    """Silence one warning that TensorFlow 2.21 eager tensors raise under numpy 2 in every Keras call."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.filterwarnings(
                "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"))
