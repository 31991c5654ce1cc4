"""Face crops for FaceNet: cut the detected box with a margin, resize to 160x160, prewhiten."""

from __future__ import annotations

import cv2
import numpy as np


def crop_face(image: np.ndarray, box: tuple[int, int, int, int], margin: float, size: int) -> np.ndarray:
    """Cut ``box`` (x, y, width, height) out of ``image`` with ``margin`` extra context, resized to size x size.

    ``margin`` is the fraction of the box's width and height added in total, half on each side; the crop is
    clipped to the image. Like FaceNet's ``align_dataset_mtcnn``, the box is not squared or rotated.
    """
    x, y, width, height = box
    pad_x, pad_y = margin * width / 2, margin * height / 2
    image_height, image_width = image.shape[:2]
    left, top = max(int(round(x - pad_x)), 0), max(int(round(y - pad_y)), 0)
    right = min(int(round(x + width + pad_x)), image_width)
    bottom = min(int(round(y + height + pad_y)), image_height)
    if right <= left or bottom <= top:
        raise ValueError(f"face box {box} lies outside the {image_width}x{image_height} image")

    crop = image[top:bottom, left:right]
    shrinking = crop.shape[0] > size or crop.shape[1] > size
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def prewhiten(images: np.ndarray) -> np.ndarray:
    """Standardise each image to zero mean and unit variance, as FaceNet's ``facenet.prewhiten`` does.

    The standard deviation is floored at ``1/sqrt(pixel count)`` so that a flat image does not divide by zero.
    Works on one ``(H, W, 3)`` image or a batch ``(N, H, W, 3)``; returns float32.
    """
    batch = np.asarray(images, dtype=np.float32)
    single = batch.ndim == 3
    if single:
        batch = batch[None]
    axes = (1, 2, 3)
    mean = batch.mean(axis=axes, keepdims=True)
    std = batch.std(axis=axes, keepdims=True)
    std_floor = 1.0 / np.sqrt(np.prod(batch.shape[1:]))
    whitened = (batch - mean) / np.maximum(std, std_floor)
    return whitened[0] if single else whitened
