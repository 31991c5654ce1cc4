"""Load CIFAR-10 or a class-folder data set into uint8 arrays, with a decoded cache for archives.

Supported inputs (``--data``):

- ``auto``: the first local copy of ``cifar-10-python.tar.gz`` or ``cifar10-images.tar.gz`` (in
  ``$AI_PRACTICE_DATA`` or the cache), else a download of the official archive;
- ``official`` / ``images``: one of those two assets through the resolver;
- a path to the official archive or its extracted ``cifar-10-batches-py`` folder;
- a path to a class-folder data set: a folder, ``.tar.gz``/``.tgz``/``.tar`` or ``.zip`` holding
  ``train/<class>/*.jpg`` and ``test/<class>/*.jpg``, or only ``<class>/*.jpg`` (then a stratified
  share of each class becomes the test split).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cifar10 import archives
from cifar10.errors import DatasetError
from cifar10.files import atomic_output
from cifar10.images import decode_image
from cifar10.sources import CLASS_NAMES, IMAGES_ARCHIVE, OFFICIAL_ARCHIVE
from practicekit import AssetError, cache_dir, resolve
from practicekit.assets import file_digest

logger = logging.getLogger(__name__)

CACHE_FORMAT_VERSION = 1


@dataclass
class ImageDataset:
    """Train and test images as arrays: ``x_*`` is (N, H, W, 3) uint8 RGB, ``y_*`` is (N,) int32 class ids."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str = ""

    @property
    def image_size(self) -> tuple[int, int]:
        return int(self.x_train.shape[1]), int(self.x_train.shape[2])

    def summary(self) -> str:
        height, width = self.image_size
        return (f"{len(self.x_train)} train and {len(self.x_test)} test images, {height}x{width}, "
                f"{len(self.class_names)} classes, from {self.source}")


def load_dataset(spec: str = "auto", image_size: int = 32, test_fraction: float = 0.2, seed: int = 0,
                 use_cache: bool = True) -> ImageDataset:
    """Load the data set named by ``spec`` (see the module docstring) with images of ``image_size`` pixels.

    ``test_fraction`` and ``seed`` only matter for a class-folder set without ``train/`` and ``test/``.
    Archives are decoded once into ``$AI_PRACTICE_CACHE/cifar10/*.npz``; ``use_cache=False`` skips that.
    """
    size = (image_size, image_size)
    path = _locate(spec)
    if archives.is_official_layout(path):
        if size != (32, 32):
            raise DatasetError(f"the official CIFAR-10 archive contains 32x32 images, but --image-size is "
                               f"{image_size}. Use --image-size 32.")
        return _cached(path, "official", size, use_cache, lambda: read_official(path))
    return _cached(path, f"folders-{test_fraction}-{seed}", size, use_cache,
                   lambda: read_class_folders(path, size, test_fraction, seed))


def _locate(spec: str) -> Path:
    try:
        if spec == "auto":
            return _locate_auto()
        if spec == "official":
            return resolve(OFFICIAL_ARCHIVE)
        if spec == "images":
            return resolve(IMAGES_ARCHIVE)
    except AssetError as error:
        raise DatasetError(str(error)) from error
    path = Path(spec).expanduser()
    if not path.exists():
        raise DatasetError(f"data set not found: {path}. Give a class-folder directory, a .tar.gz or .zip of one, "
                           f"the official cifar-10-python.tar.gz, or one of: auto, official, images, tfrecord:DIR.")
    if path.is_file() and not archives.is_archive(path):
        raise DatasetError(f"{path} is neither a folder nor a .tar.gz, .tar or .zip archive. Give a class-folder "
                           f"data set or the official cifar-10-python.tar.gz.")
    return path


def _locate_auto() -> Path:
    """Return a local copy (official first) when there is one, so that only a machine without one downloads."""
    for asset in (OFFICIAL_ARCHIVE, IMAGES_ARCHIVE):
        try:
            path = resolve(asset, download=False)
            logger.info("data: using %s", path)
            return path
        except AssetError:
            continue
    logger.info("data: no local CIFAR-10 copy found, downloading %s", OFFICIAL_ARCHIVE.filename)
    try:
        return resolve(OFFICIAL_ARCHIVE)
    except AssetError as error:
        raise DatasetError(f"no CIFAR-10 copy found and the download failed. Put {OFFICIAL_ARCHIVE.filename} or "
                           f"{IMAGES_ARCHIVE.filename} into a folder listed in $AI_PRACTICE_DATA, or pass "
                           f"--data PATH. Details: {error}") from error


# ---------------------------------------------------------------- official pickled batches

def read_official(path: Path) -> ImageDataset:
    """Read the official ``cifar-10-python.tar.gz`` (or its extracted folder) into arrays."""
    batches = archives.read_official_batches(path)
    x_train = np.concatenate([batches[f"data_batch_{i}"][0] for i in range(1, 6)])
    y_train = np.concatenate([batches[f"data_batch_{i}"][1] for i in range(1, 6)])
    x_test, y_test = batches["test_batch"]
    return ImageDataset(x_train, y_train, x_test, y_test, CLASS_NAMES, source=str(path))


# ---------------------------------------------------------------- class folders

def read_class_folders(path: Path, size: tuple[int, int], test_fraction: float = 0.2,
                       seed: int = 0) -> ImageDataset:
    """Decode a class-folder data set (folder, tar or zip) into arrays, in a layout the module docstring lists."""
    entries = archives.list_images(path)
    if not entries:
        raise DatasetError(f"no images found in {path}. Expected train/<class>/*.jpg and test/<class>/*.jpg "
                           f"(or <class>/*.jpg); supported suffixes are .jpg, .jpeg, .png, .bmp, .gif, .webp.")

    layout = _split_layout(entries)
    class_names = _class_names(path, layout)
    images, labels, splits = _decode_all(path, layout, class_names, size)

    if "test" not in splits:
        splits = _stratified_split(labels, test_fraction, seed)
        logger.info("data: %s has no test/ folder, so holding out %.0f%% of each class as the test split",
                    path, 100 * test_fraction)
    train = splits == "train"
    test = splits == "test"
    if not test.any():
        raise DatasetError(f"the test split of {path} is empty. Add images under test/<class>/ or use more "
                           f"images per class.")
    return ImageDataset(images[train], labels[train], images[test], labels[test], class_names, source=str(path))


def _split_layout(entries: list[str]) -> dict[str, tuple[str, str]]:
    """Map each image name to (split, class): train/<class>/x or test/<class>/x, else <class>/x."""
    split_names = {"train", "test"}
    has_splits = any(len(parts := name.split("/")) >= 3 and parts[-3] in split_names for name in entries)
    layout = {}
    for name in entries:
        parts = name.split("/")
        if has_splits:
            if len(parts) >= 3 and parts[-3] in split_names:
                layout[name] = (parts[-3], parts[-2])
        elif len(parts) >= 2:
            layout[name] = ("", parts[-2])
    return layout


def _class_names(path: Path, layout: dict[str, tuple[str, str]]) -> tuple[str, ...]:
    train_classes = {label for split, label in layout.values() if split in ("train", "")}
    test_classes = {label for split, label in layout.values() if split == "test"}
    if len(train_classes) < 2:
        found = ", ".join(sorted(train_classes)) or "none"
        raise DatasetError(f"{path} has {len(train_classes)} class folder(s) with training images ({found}), but "
                           f"a classifier needs at least 2. Put each class in its own folder.")
    unknown = test_classes - train_classes
    if unknown:
        raise DatasetError(f"test classes {sorted(unknown)} in {path} have no training images. "
                           f"Add train/<class>/ folders for them or remove them from test/.")
    # Sorted names give CIFAR-10's official order (airplane ... truck) because that order is alphabetical.
    return tuple(sorted(train_classes))


def _decode_all(path: Path, layout: dict[str, tuple[str, str]], class_names: tuple[str, ...],
                size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    class_ids = {name: index for index, name in enumerate(class_names)}
    images, labels, splits, failed = [], [], [], []
    for name, data in archives.iter_files(path, set(layout)):
        try:
            images.append(decode_image(data, size, name=name))
        except Exception as error:  # noqa: BLE001 -- one bad file must not stop a 60,000-image decode
            failed.append(f"{name} ({error})")
            continue
        split, label = layout[name]
        labels.append(class_ids[label])
        splits.append(split or "train")
    if failed:
        logger.warning("data: skipped %d unreadable image(s) in %s, first: %s", len(failed), path, failed[0])
    if not images:
        raise DatasetError(f"none of the {len(layout)} images in {path} could be decoded. First error: {failed[0]}")
    return np.stack(images), np.asarray(labels, dtype=np.int32), np.asarray(splits)


def _stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> np.ndarray:
    """Return a split name per image, with round(test_fraction * n) images of each class in "test"."""
    if not 0.0 < test_fraction < 1.0:
        raise DatasetError(f"test fraction must be between 0 and 1, got {test_fraction}")
    rng = np.random.default_rng(seed)
    splits = np.full(len(labels), "train", dtype="<U5")
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        splits[members[: int(round(test_fraction * len(members)))]] = "test"
    return splits


# ---------------------------------------------------------------- decoded cache

def _cached(path: Path, kind: str, size: tuple[int, int], use_cache: bool, build) -> ImageDataset:
    """Return ``build()``, memoised as an .npz in the cache when ``path`` is an archive file."""
    if not use_cache or not path.is_file():
        return build()
    digest = file_digest(path, "sha256")[:16]
    target = cache_dir() / "cifar10" / f"{path.name}.{digest}.{kind}.{size[0]}x{size[1]}.v{CACHE_FORMAT_VERSION}.npz"
    if target.is_file():
        try:
            return _read_npz(target, source=str(path))
        except (OSError, ValueError, KeyError) as error:
            logger.warning("data: cached %s is unreadable (%s), decoding %s again", target, error, path)

    logger.info("data: decoding %s once into %s", path, target)
    dataset = build()
    try:
        _write_npz(dataset, target)
    except OSError as error:
        logger.warning("data: cannot write cache %s: %s", target, error)
    return dataset


def _read_npz(path: Path, source: str) -> ImageDataset:
    with np.load(path, allow_pickle=False) as arrays:
        return ImageDataset(arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"],
                            tuple(str(name) for name in arrays["class_names"]), source=source)


def _write_npz(dataset: ImageDataset, target: Path) -> None:
    with atomic_output(target) as temporary:
        np.savez(temporary, x_train=dataset.x_train, y_train=dataset.y_train, x_test=dataset.x_test,
                 y_test=dataset.y_test, class_names=np.asarray(dataset.class_names))
