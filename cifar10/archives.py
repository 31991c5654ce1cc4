"""Read files out of a folder, a tar archive or a zip archive, and parse the official CIFAR-10 batches."""

from __future__ import annotations

import io
import pickle
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from cifar10.errors import DatasetError
from cifar10.images import is_image_name

OFFICIAL_BATCHES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch")
OFFICIAL_FOLDER = "cifar-10-batches-py"

_ARCHIVE_ERRORS = (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, OSError)

# The pickled batches contain numpy arrays, so unpickling needs exactly these globals. Rejecting every other
# global keeps a tampered file from running code through pickle.
_ALLOWED_PICKLE_GLOBALS = frozenset({
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
})


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED_PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR-10 batch")


def _corrupt(path: Path, error: Exception) -> DatasetError:
    return DatasetError(f"cannot read {path}: {error}. The file is corrupt or truncated, so copy or download it again.")


def _is_tar(path: Path) -> bool:
    return path.is_file() and not zipfile.is_zipfile(path)


def is_archive(path: Path) -> bool:
    """Return True for a tar (any compression) or zip file; raise DatasetError when it cannot be read."""
    try:
        return tarfile.is_tarfile(path) or zipfile.is_zipfile(path)
    except _ARCHIVE_ERRORS as error:
        raise _corrupt(path, error) from error


# ---------------------------------------------------------------- official CIFAR-10 layout

def is_official_layout(path: Path) -> bool:
    """Return True when ``path`` is the official python archive or its (parent) extracted folder."""
    if path.is_dir():
        return (path / "data_batch_1").is_file() or (path / OFFICIAL_FOLDER / "data_batch_1").is_file()
    if not _is_tar(path):
        return False
    try:
        with tarfile.open(path, "r:*") as archive:
            for index, member in enumerate(archive):
                if member.name.split("/")[0] == OFFICIAL_FOLDER or member.name.rsplit("/", 1)[-1] in OFFICIAL_BATCHES:
                    return True
                if index >= 4:
                    return False
    except _ARCHIVE_ERRORS as error:
        raise _corrupt(path, error) from error
    return False


def read_official_batches(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Return ``{batch name: (images (N, 32, 32, 3) uint8, labels (N,) int32)}`` for the six official batches."""
    raw: dict[str, bytes] = {}
    try:
        if path.is_dir():
            folder = path / OFFICIAL_FOLDER if (path / OFFICIAL_FOLDER).is_dir() else path
            raw = {name: (folder / name).read_bytes() for name in OFFICIAL_BATCHES if (folder / name).is_file()}
        else:
            with tarfile.open(path, "r:*") as archive:
                for member in archive:
                    base = member.name.rsplit("/", 1)[-1]
                    if base in OFFICIAL_BATCHES and member.isfile():
                        raw[base] = archive.extractfile(member).read()
    except _ARCHIVE_ERRORS as error:
        raise _corrupt(path, error) from error

    missing = [name for name in OFFICIAL_BATCHES if name not in raw]
    if missing:
        raise DatasetError(f"{path} is not a complete CIFAR-10 python archive: missing {', '.join(missing)}. "
                           f"Download cifar-10-python.tar.gz again.")
    return {name: _parse_batch(data, f"{path}:{name}") for name, data in raw.items()}


def _parse_batch(data: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse one pickled batch: ``data`` is (N, 3072) uint8 with 1024 red, then green, then blue values."""
    try:
        batch = _RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
        images = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int32)
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as error:
        raise DatasetError(f"{name} is not a valid CIFAR-10 batch ({error}). Download the archive again.") from error
    if images.ndim != 2 or images.shape[1] != 3 * 32 * 32 or len(labels) != len(images):
        raise DatasetError(f"{name} has data of shape {images.shape} and {len(labels)} labels, expected (N, 3072) "
                           f"and N labels. Download the archive again.")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DatasetError(f"{name} has labels outside 0..9. Download the archive again.")
    # (N, 3072) -> (N, 3, 32, 32) channels-first -> (N, 32, 32, 3) channels-last.
    return images.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), labels


# ---------------------------------------------------------------- class-folder files

def list_images(path: Path) -> list[str]:
    """Return the image file names in a folder or archive, as '/'-separated paths relative to it."""
    try:
        if path.is_dir():
            return sorted(p.relative_to(path).as_posix() for p in path.rglob("*")
                          if p.is_file() and is_image_name(p.relative_to(path).as_posix()))
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                return sorted(name for name in archive.namelist() if not name.endswith("/") and is_image_name(name))
        with tarfile.open(path, "r:*") as archive:
            return sorted(member.name for member in archive if member.isfile() and is_image_name(member.name))
    except _ARCHIVE_ERRORS as error:
        raise _corrupt(path, error) from error


def iter_files(path: Path, names: set[str]) -> Iterator[tuple[str, bytes]]:
    """Yield ``(name, bytes)`` for each file in ``names`` inside a folder or archive, in archive order."""
    try:
        if path.is_dir():
            for name in sorted(names):
                yield name, (path / name).read_bytes()
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for name in sorted(names):
                    yield name, archive.read(name)
        else:
            # Reading members in archive order decompresses a .tar.gz front to back only once. Random-access
            # mode ("r:*", not the stream mode "r|*") is used because its gzip reader raises EOFError on a
            # truncated file, where stream mode can end early without an error and return a partial data set.
            with tarfile.open(path, "r:*") as archive:
                for member in archive:
                    if member.name in names and member.isfile():
                        yield member.name, archive.extractfile(member).read()
    except _ARCHIVE_ERRORS as error:
        raise _corrupt(path, error) from error
