"""Generators of tiny data sets for the cifar10 tests: class folders, archives and fake official batches."""

from __future__ import annotations

import io
import pickle
import tarfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from cifar10.sources import CLASS_NAMES


def class_color(label: int) -> tuple[int, int, int]:
    """A colour per class, far enough apart that JPEG compression cannot blur one into another."""
    return (25 * label, 250 - 25 * label, 60 + 15 * label)


def solid_image(label: int, size: int = 32) -> np.ndarray:
    return np.broadcast_to(np.asarray(class_color(label), np.uint8), (size, size, 3)).copy()


def write_class_folders(root: Path, classes=CLASS_NAMES, train_per_class: int = 3, test_per_class: int = 2,
                        size: int = 32, suffix: str = ".png", splits: bool = True) -> Path:
    """Write solid-colour images under root/train/<class>/ and root/test/<class>/ (or root/<class>/)."""
    # Create the folders in reverse order so that a loader relying on creation order would fail.
    for label in reversed(range(len(classes))):
        name = classes[label]
        counts = {"train": train_per_class, "test": test_per_class} if splits else {"": train_per_class}
        for split, count in counts.items():
            folder = root / split / name if split else root / name
            folder.mkdir(parents=True, exist_ok=True)
            for index in range(count):
                Image.fromarray(solid_image(label, size)).save(folder / f"{index:04d}{suffix}")
    return root


def make_tar_gz(source: Path, target: Path, prefix: str = "") -> Path:
    with tarfile.open(target, "w:gz") as archive:
        for path in sorted(source.rglob("*")):
            archive.add(path, arcname=prefix + path.relative_to(source).as_posix(), recursive=False)
    return target


def make_zip(source: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                archive.write(path, arcname=path.relative_to(source).as_posix())
    return target


def official_batch(labels: list[int]) -> bytes:
    """Pickle a batch in the official layout: rows of 1024 red, 1024 green, then 1024 blue values."""
    data = np.zeros((len(labels), 3, 32, 32), np.uint8)
    for row, label in enumerate(labels):
        for channel, value in enumerate(class_color(label)):
            data[row, channel] = value
    data[:, 0, 0, 1] = 7  # one marked pixel (row 0, column 1, red) checks the channel-last transpose
    batch = {b"batch_label": b"fake", b"labels": list(labels), b"data": data.reshape(len(labels), 3072),
             b"filenames": [b"x.png"] * len(labels)}
    # Protocol 4 stores bytes natively, as the original Python 2 pickles do. Protocol 2 from Python 3 would
    # wrap them in _codecs.encode calls, which the restricted loader rejects.
    return pickle.dumps(batch, protocol=4)


def write_official_archive(target: Path, per_batch: int = 4, batches: tuple[str, ...] | None = None) -> Path:
    names = batches or ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5",
                        "test_batch")
    with tarfile.open(target, "w:gz") as archive:
        for number, name in enumerate(names):
            data = official_batch([(number + index) % 10 for index in range(per_batch)])
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return target
