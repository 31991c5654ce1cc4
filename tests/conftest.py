"""Shared pytest fixtures: locating the real data sets through $AI_PRACTICE_DATA."""

from __future__ import annotations

from pathlib import Path

import pytest

from practicekit import find_data_path


def require_data(relative: str) -> Path:
    """Return the $AI_PRACTICE_DATA entry ``relative``, or skip the test with the reason."""
    found = find_data_path(relative)
    if found is None:
        pytest.skip(f"{relative} not found in $AI_PRACTICE_DATA; point it at a folder that contains it")
    return found


@pytest.fixture(scope="session")
def shakespeare_path() -> Path:
    return require_data("tinyshakespeare.txt")


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    return require_data("faces")


@pytest.fixture(scope="session")
def cifar10_images_archive() -> Path:
    return require_data("cifar10-images.tar.gz")
