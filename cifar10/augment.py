"""Data augmentation on whole batches: random crop with padding, horizontal flip, colour jitter, Cutout.

Every function takes float32 images of shape (batch, height, width, 3) with pixel values in [0, 255] and
draws its random numbers per image, so one batch mixes many variants. Working on batches instead of
single images lets tf.data run a handful of large ops per step, which matters on a 2-core CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf


@dataclass(frozen=True)
class AugmentConfig:
    """Switches and strengths of the augmentations applied to training batches."""

    crop_padding: int = 4  # pixels of reflect padding before a random crop back to the original size
    flip: bool = True
    color_jitter: bool = False
    hue_delta: float = 0.05  # hue shift drawn from [-delta, delta], in turns of the colour wheel
    saturation_range: tuple[float, float] = (0.7, 1.3)
    contrast_range: tuple[float, float] = (0.7, 1.3)
    cutout_size: int = 0  # side of the square set to the mean colour, 0 turns Cutout off


def random_crop(images: tf.Tensor, padding: int) -> tf.Tensor:
    """Pad by ``padding`` pixels (reflect) and cut a random window of the original size from each image."""
    if padding <= 0:
        return images
    batch = tf.shape(images)[0]
    height, width = images.shape[1], images.shape[2]
    padded = tf.pad(images, [[0, 0], [padding, padding], [padding, padding], [0, 0]], mode="REFLECT")

    # One (row, column) offset per image. Gather picks rows, then columns: (B, H+2p, W+2p, 3) -> (B, H, W, 3).
    offset_rows = tf.random.uniform([batch, 1], 0, 2 * padding + 1, dtype=tf.int32)
    offset_cols = tf.random.uniform([batch, 1], 0, 2 * padding + 1, dtype=tf.int32)
    rows = offset_rows + tf.range(height)[tf.newaxis, :]
    cols = offset_cols + tf.range(width)[tf.newaxis, :]
    cropped = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(cropped, cols, axis=2, batch_dims=1)


def random_flip(images: tf.Tensor) -> tf.Tensor:
    """Mirror a random half of the images left to right."""
    flip = tf.random.uniform([tf.shape(images)[0], 1, 1, 1]) < 0.5
    return tf.where(flip, tf.reverse(images, axis=[2]), images)


def random_color_jitter(images: tf.Tensor, config: AugmentConfig) -> tf.Tensor:
    """Shift hue, scale saturation and scale contrast by a random amount per image."""
    batch = tf.shape(images)[0]
    hsv = tf.image.rgb_to_hsv(images / 255.0)
    hue_shift = tf.random.uniform([batch, 1, 1], -config.hue_delta, config.hue_delta)
    saturation_scale = tf.random.uniform([batch, 1, 1], *config.saturation_range)
    hue = tf.math.floormod(hsv[..., 0] + hue_shift, 1.0)
    saturation = tf.clip_by_value(hsv[..., 1] * saturation_scale, 0.0, 1.0)
    images = tf.image.hsv_to_rgb(tf.stack([hue, saturation, hsv[..., 2]], axis=-1)) * 255.0

    # Contrast as in tf.image.adjust_contrast: move each pixel away from (or towards) the image mean.
    contrast_scale = tf.random.uniform([batch, 1, 1, 1], *config.contrast_range)
    mean = tf.reduce_mean(images, axis=[1, 2], keepdims=True)
    return tf.clip_by_value((images - mean) * contrast_scale + mean, 0.0, 255.0)


def random_cutout(images: tf.Tensor, size: int, fill: tf.Tensor) -> tf.Tensor:
    """Set one random ``size`` x ``size`` square per image to ``fill`` (the data set's mean colour).

    The square's centre may lie near the border, so part of it can fall outside the image, as in
    DeVries and Taylor (2017), "Improved Regularization of Convolutional Neural Networks with Cutout".
    """
    if size <= 0:
        return images
    batch = tf.shape(images)[0]
    height, width = images.shape[1], images.shape[2]
    center_rows = tf.random.uniform([batch, 1, 1], 0, height, dtype=tf.int32)
    center_cols = tf.random.uniform([batch, 1, 1], 0, width, dtype=tf.int32)
    rows = tf.range(height)[tf.newaxis, :, tf.newaxis]
    cols = tf.range(width)[tf.newaxis, tf.newaxis, :]
    half = size // 2
    inside = ((rows >= center_rows - half) & (rows < center_rows - half + size)
              & (cols >= center_cols - half) & (cols < center_cols - half + size))
    return tf.where(inside[..., tf.newaxis], tf.cast(fill, images.dtype), images)


def augment_batch(images: tf.Tensor, config: AugmentConfig, fill: tf.Tensor) -> tf.Tensor:
    """Apply the augmentations switched on in ``config`` to a float32 batch in [0, 255]."""
    images = random_crop(images, config.crop_padding)
    if config.flip:
        images = random_flip(images)
    if config.color_jitter:
        images = random_color_jitter(images, config)
    return random_cutout(images, config.cutout_size, fill)
