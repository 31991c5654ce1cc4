"""Triplet loss with online semi-hard negative mining (Schroff, Kalenichenko and Philbin, "FaceNet", 2015).

For every anchor-positive pair in a batch, the negative is the closest one that is still farther away than the
positive (semi-hard). When no such negative exists, the farthest negative is used. Distances are squared
Euclidean on unit embeddings and the loss is ``max(d_ap - d_an + margin, 0)`` averaged over the pairs.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def pairwise_squared_distances(embeddings: tf.Tensor) -> tf.Tensor:
    """(B, D) -> (B, B) squared Euclidean distances, clipped at zero against round-off."""
    dot = tf.matmul(embeddings, embeddings, transpose_b=True)
    norms = tf.linalg.diag_part(dot)
    return tf.maximum(norms[:, None] - 2.0 * dot + norms[None, :], 0.0)


def semi_hard_triplet_loss(labels: tf.Tensor, embeddings: tf.Tensor, margin: float = 0.2) -> tf.Tensor:
    labels = tf.reshape(labels, [-1])
    distances = pairwise_squared_distances(embeddings)  # (B, B)
    same = tf.equal(labels[:, None], labels[None, :])
    batch = tf.shape(labels)[0]
    positive_mask = tf.logical_and(same, tf.logical_not(tf.eye(batch, dtype=tf.bool)))  # (anchor, positive)
    negative_mask = tf.logical_not(same)  # (anchor, negative)

    # For each (anchor a, positive p): candidates n with d_an > d_ap, i.e. a (B, B, B) mask over [a, p, n].
    d_ap = distances[:, :, None]
    d_an = distances[:, None, :]
    semi_hard = tf.logical_and(negative_mask[:, None, :], d_an > d_ap)
    large = tf.reduce_max(distances) + 1.0
    closest_semi_hard = tf.reduce_min(tf.where(semi_hard, d_an, large), axis=2)  # (B, B)
    farthest_negative = tf.reduce_max(tf.where(negative_mask, distances, 0.0), axis=1)  # (B,)
    has_semi_hard = tf.reduce_any(semi_hard, axis=2)
    chosen_negative = tf.where(has_semi_hard, closest_semi_hard, farthest_negative[:, None])

    losses = tf.maximum(distances - chosen_negative + margin, 0.0)
    valid = tf.logical_and(positive_mask, tf.reduce_any(negative_mask, axis=1)[:, None])
    count = tf.reduce_sum(tf.cast(valid, tf.float32))
    return tf.reduce_sum(tf.where(valid, losses, 0.0)) / tf.maximum(count, 1.0)


@keras.saving.register_keras_serializable(package="face_login")
class SemiHardTripletLoss(keras.losses.Loss):
    """Keras loss wrapper: ``y_true`` contains integer identity labels, ``y_pred`` the unit embeddings."""

    def __init__(self, margin: float = 0.2, name: str = "semi_hard_triplet_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.margin = margin

    def call(self, y_true, y_pred):
        return semi_hard_triplet_loss(y_true, y_pred, self.margin)

    def get_config(self):
        return {**super().get_config(), "margin": self.margin}
