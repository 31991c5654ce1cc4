"""Decode image files into uint8 RGB arrays of a fixed size, the same way for training and prediction."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from cifar10.errors import ImageReadError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"})


def is_image_name(name: str) -> bool:
    """Return True for a file name with an image suffix that is not a hidden or macOS metadata file."""
    base = name.rsplit("/", 1)[-1]
    return not base.startswith(".") and "__MACOSX" not in name and Path(base).suffix.lower() in IMAGE_SUFFIXES


def decode_image(data: bytes, size: tuple[int, int], name: str = "image") -> np.ndarray:
    """Decode encoded image bytes into a ``(height, width, 3)`` uint8 RGB array of ``size`` = (height, width).

    Grayscale, palette and RGBA images are converted to RGB (alpha is dropped). An image of another size
    is resized with bilinear interpolation, as Pillow does it; a 32x32 CIFAR-10 image is left untouched.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            image = image.convert("RGB")
            height, width = size
            if image.size != (width, height):
                image = image.resize((width, height), Image.Resampling.BILINEAR)
            return np.asarray(image, dtype=np.uint8)
    except UnidentifiedImageError as error:
        raise ImageReadError(f"cannot decode {name}: not an image format that Pillow reads. "
                             f"Use a valid JPEG or PNG file.") from error
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise ImageReadError(f"cannot decode {name}: {error}. Use a valid JPEG or PNG file.") from error


def read_image(path: str | Path, size: tuple[int, int]) -> np.ndarray:
    """Read and decode the image file at ``path`` (see :func:`decode_image`)."""
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"image not found: {path}. Check the path.")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ImageReadError(f"cannot read {path}: {error}") from error
    return decode_image(data, size, name=str(path))
