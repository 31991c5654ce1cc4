"""Image decoding: formats, modes, EXIF orientation, limits and broken input."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from face_api import InvalidImageError, TooManyPixelsError, load_image
from face_api.images import check_image_array


def encode(image: Image.Image, format: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **params)
    return buffer.getvalue()


@pytest.fixture()
def gradient() -> np.ndarray:
    """A small RGB test pattern, shape (48, 64, 3)."""
    x = np.linspace(0, 255, 64, dtype=np.uint8)
    y = np.linspace(0, 255, 48, dtype=np.uint8)
    return np.stack([np.tile(x, (48, 1)), np.tile(y[:, None], (1, 64)), np.full((48, 64), 90, np.uint8)], axis=-1)


def test_jpeg_from_path(faces_dir):
    image = load_image(faces_dir / "obama_small.jpg")
    assert image.shape == (240, 320, 3)
    assert image.dtype == np.uint8
    assert image.flags["C_CONTIGUOUS"]


def test_rgba_png_drops_alpha(faces_dir):
    image = load_image(faces_dir / "32bit.png")
    assert image.shape == (1200, 626, 3)


def test_transparent_pixels_become_white():
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[:4, :, :] = (200, 10, 10, 255)
    image = load_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert image[0, 0].tolist() == [200, 10, 10]
    assert image[7, 7].tolist() == [255, 255, 255]


def test_grayscale_png_to_rgb(gradient):
    gray = gradient[:, :, 0]
    image = load_image(encode(Image.fromarray(gray, "L"), "PNG"))
    assert image.shape == (48, 64, 3)
    assert np.array_equal(image[:, :, 1], gray)


def test_16bit_gray_png_scaled():
    values = np.array([[0, 257 * 100, 65535]], dtype=np.uint16)
    ok, data = cv2.imencode(".png", values)
    assert ok
    image = load_image(data.tobytes())
    assert image[0, :, 0].tolist() == [0, 100, 255]


def test_16bit_rgb_png(gradient):
    wide = gradient.astype(np.uint16) * 257
    ok, data = cv2.imencode(".png", cv2.cvtColor(wide, cv2.COLOR_RGB2BGR))
    assert ok
    image = load_image(data.tobytes())
    assert np.abs(image.astype(int) - gradient).max() <= 1


@pytest.mark.parametrize(("format", "params"), [("WEBP", {"lossless": True}), ("BMP", {}), ("PNG", {})])
def test_lossless_formats_round_trip(gradient, format, params):
    image = load_image(encode(Image.fromarray(gradient), format, **params))
    assert np.array_equal(image, gradient)


def test_exif_orientation_applied(gradient):
    # Store the pixels rotated 90 degrees counter-clockwise, tagged "rotate 90 clockwise to display" (6).
    stored = Image.fromarray(gradient).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(stored, "PNG", exif=exif)
    image = load_image(data)
    assert image.shape == gradient.shape
    assert np.array_equal(image, gradient)


def test_pixel_limit_before_decoding():
    # 8000 x 8000 one-bit pixels compress to a few kB: a small decompression bomb.
    data = encode(Image.new("1", (8000, 8000)), "PNG")
    assert len(data) < 100_000
    with pytest.raises(TooManyPixelsError, match="64,000,000 pixels"):
        load_image(data)


def test_pixel_limit_configurable(gradient):
    data = encode(Image.fromarray(gradient), "PNG")
    with pytest.raises(TooManyPixelsError, match="limit of 1,000"):
        load_image(data, max_pixels=1000)


def test_not_an_image():
    with pytest.raises(InvalidImageError, match="not a JPEG, PNG, WebP or BMP"):
        load_image(b"hello, world")


def test_gif_rejected(gradient):
    with pytest.raises(InvalidImageError, match="not a JPEG, PNG, WebP or BMP"):
        load_image(encode(Image.fromarray(gradient), "GIF"))


def test_empty_bytes():
    with pytest.raises(InvalidImageError, match="empty"):
        load_image(b"")


def test_truncated_jpeg(faces_dir):
    data = (faces_dir / "obama_small.jpg").read_bytes()
    with pytest.raises(InvalidImageError, match="truncated or corrupt"):
        load_image(data[: len(data) // 2])


def test_missing_file(tmp_path):
    with pytest.raises(InvalidImageError, match="not found"):
        load_image(tmp_path / "absent.jpg")


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(InvalidImageError, match="is a folder"):
        load_image(tmp_path)


def test_array_gray_accepted():
    image = check_image_array(np.zeros((4, 5), np.uint8))
    assert image.shape == (4, 5, 3)


def test_array_float_rejected():
    with pytest.raises(InvalidImageError, match="uint8"):
        check_image_array(np.zeros((4, 5, 3), np.float32))


def test_array_wrong_channels():
    with pytest.raises(InvalidImageError, match="shape"):
        check_image_array(np.zeros((4, 5, 2), np.uint8))
