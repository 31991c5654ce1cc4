"""Decode photos into RGB uint8 arrays with a pixel limit, whatever their format, mode or EXIF orientation."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from face_login.errors import ImageError

DEFAULT_MAX_PIXELS = 25_000_000  # a 24-megapixel phone photo still passes
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def load_image(source: bytes | str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode ``source`` (file bytes or a path) into an ``(H, W, 3)`` uint8 RGB array.

    The size is checked from the header before any pixel is decoded, so a small file that claims huge
    dimensions (a decompression bomb) is rejected cheaply.

    Raises:
        ImageError: the data is not a supported image, or it has more than ``max_pixels`` pixels.
    """
    label = "uploaded image" if isinstance(source, bytes) else str(source)
    try:
        handle = Image.open(io.BytesIO(source) if isinstance(source, bytes) else Path(source))
    except FileNotFoundError as error:
        raise ImageError(f"image file not found: {label}") from error
    except Image.DecompressionBombError as error:
        # Pillow rejects images over twice its own pixel limit before our check can run.
        raise ImageError(f"{label} has too many pixels, more than the limit of {max_pixels}; resize it and "
                         "try again") from error
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise ImageError(f"{label} is not a readable image (JPEG, PNG, BMP or WebP expected)") from error

    with handle:
        width, height = handle.size
        if width * height > max_pixels:
            raise ImageError(f"{label} has {width}x{height} = {width * height} pixels, more than the limit of "
                             f"{max_pixels}; resize it and try again")
        if width < 1 or height < 1:
            raise ImageError(f"{label} has no pixels")
        try:
            upright = ImageOps.exif_transpose(handle)
            rgb = upright.convert("RGB")
            return np.asarray(rgb, dtype=np.uint8)
        except (OSError, ValueError, Image.DecompressionBombError) as error:
            raise ImageError(f"{label} could not be decoded: {error}") from error


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Return the image files directly inside ``folder``, sorted by name."""
    return sorted(path for path in Path(folder).iterdir()
                  if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES)


def list_class_folders(root: str | os.PathLike) -> dict[str, list[Path]]:
    """Return ``{class_name: image_paths}`` for a class-folder dataset (one sub-folder per identity)."""
    root = Path(root)
    if not root.is_dir():
        raise ImageError(f"dataset folder not found: {root}")
    classes = {folder.name: list_images(folder) for folder in sorted(root.iterdir()) if folder.is_dir()}
    classes = {name: paths for name, paths in classes.items() if paths}
    if not classes:
        raise ImageError(f"{root} has no class folders with images; expected {root}/<identity>/*.jpg")
    return classes
