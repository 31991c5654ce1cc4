"""Decode images from bytes, paths or arrays into RGB uint8 arrays, safely.

Accepted formats are JPEG, PNG, WebP and BMP. The EXIF orientation tag is applied, so a phone photo
stored sideways comes out upright. The pixel count is checked from the header before any pixel is
decoded, which stops decompression bombs (a small file that expands to gigabytes).
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from face_api.errors import InvalidImageError, TooManyPixelsError

logger = logging.getLogger(__name__)

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP")
DEFAULT_MAX_PIXELS = 40_000_000

ImageSource = bytes | bytearray | memoryview | str | os.PathLike | BinaryIO


def load_image(source: ImageSource, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode ``source`` (encoded bytes, a file path or a binary file object) into an RGB image.

    Returns a writeable array of shape (height, width, 3), dtype uint8, C-contiguous, as dlib expects.
    Transparent pixels are composited onto white, and 16-bit grayscale is scaled to 8 bits.

    Raises:
        InvalidImageError: the file is missing, empty, truncated or not one of ``ALLOWED_FORMATS``.
        TooManyPixelsError: width x height exceeds ``max_pixels``.
    """
    data = _read_bytes(source)
    if not data:
        raise InvalidImageError(f"{_describe(source)} is empty; send a JPEG, PNG, WebP or BMP image")

    try:
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except UnidentifiedImageError as error:
        raise InvalidImageError(f"{_describe(source)} is not a JPEG, PNG, WebP or BMP image") from error
    except Image.DecompressionBombError as error:
        raise TooManyPixelsError(f"{_describe(source)} is too large to decode safely: {error}") from error

    width, height = image.size
    if width * height > max_pixels:
        raise TooManyPixelsError(f"{_describe(source)} has {width}x{height} = {width * height:,} pixels, "
                                 f"more than the limit of {max_pixels:,}; downscale it first")

    try:
        image.load()
        image = _apply_exif_orientation(image)
        return _to_rgb_array(image)
    except (OSError, ValueError, SyntaxError) as error:
        raise InvalidImageError(f"{_describe(source)} is truncated or corrupt ({image.format}): {error}") from error


def check_image_array(image: np.ndarray) -> np.ndarray:
    """Return ``image`` as a C-contiguous RGB uint8 array, accepting (H, W) gray or (H, W, 3|4) arrays.

    Raises:
        InvalidImageError: the array has another shape or dtype, or is empty.
    """
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise InvalidImageError(f"expected a uint8 numpy array, got {type(image).__name__} "
                                f"{getattr(image, 'dtype', '')}; decode files with face_api.load_image")
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] == 0 or image.shape[1] == 0:
        raise InvalidImageError(f"expected an image of shape (height, width, 3), got {image.shape}")
    return np.ascontiguousarray(image)


def _read_bytes(source: ImageSource) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            return path.read_bytes()
        except FileNotFoundError as error:
            raise InvalidImageError(f"image file not found: {path}") from error
        except IsADirectoryError as error:
            raise InvalidImageError(f"{path} is a folder, not an image file") from error
        except OSError as error:
            raise InvalidImageError(f"cannot read image file {path}: {error.strerror}") from error
    return source.read()


def _describe(source: ImageSource) -> str:
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return "the image data"


def _apply_exif_orientation(image: Image.Image) -> Image.Image:
    try:
        # In place: without an orientation tag this is a no-op instead of a full copy.
        ImageOps.exif_transpose(image, in_place=True)
        return image
    except (OSError, ValueError, SyntaxError, KeyError, TypeError) as error:
        # A damaged EXIF block should not make the pixels unusable.
        logger.warning("ignoring an unreadable EXIF orientation: %s", error)
        return image


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    if image.mode.startswith("I"):
        # 16-bit grayscale PNG opens as "I;16" or "I": map 0..65535 onto 0..255.
        wide = np.asarray(image, dtype=np.int64)
        gray = ((np.clip(wide, 0, 65535) + 128) // 257).astype(np.uint8)
        return np.ascontiguousarray(np.stack([gray] * 3, axis=-1))

    if image.mode == "RGB":
        return np.array(image, dtype=np.uint8)

    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.array(image.convert("RGB"), dtype=np.uint8)
