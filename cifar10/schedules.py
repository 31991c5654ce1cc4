"""Learning-rate schedules, all indexed by optimizer step: exponential decay, cosine and one-cycle."""

from __future__ import annotations

import keras
from keras import ops

SCHEDULE_NAMES = ("exponential", "cosine", "onecycle", "constant")


@keras.saving.register_keras_serializable(package="cifar10")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """Rise linearly from 0 to ``peak`` over ``warmup_steps``, then fall linearly to 0 at ``total_steps``.

    The piecewise-linear form of Smith's one-cycle policy that Page (2018) used for the ResNet-9 recipe.
    """

    def __init__(self, peak: float, total_steps: int, warmup_steps: int) -> None:
        self.peak = float(peak)
        self.total_steps = int(total_steps)
        self.warmup_steps = max(1, int(warmup_steps))

    def __call__(self, step):
        step = ops.cast(step, "float32")
        rising = step / self.warmup_steps
        falling = (self.total_steps - step) / max(1, self.total_steps - self.warmup_steps)
        return self.peak * ops.clip(ops.minimum(rising, falling), 0.0, 1.0)

    def get_config(self) -> dict:
        return {"peak": self.peak, "total_steps": self.total_steps, "warmup_steps": self.warmup_steps}


def make_schedule(name: str, learning_rate: float, steps_per_epoch: int, epochs: int, warmup_fraction: float = 0.2,
                  decay_rate: float = 0.94, decay_epochs: float = 2.0):
    """Return the learning rate (a float or a schedule) for ``name``, one of :data:`SCHEDULE_NAMES`.

    ``exponential`` multiplies the rate by ``decay_rate`` every ``decay_epochs`` epochs, in steps, as TF-Slim's
    ``train_image_classifier.py`` did (its defaults are 0.94 every 2 epochs). ``cosine`` warms up linearly
    for ``warmup_fraction`` of training, then follows a half cosine down to 0. ``onecycle`` is :class:`OneCycle`.
    """
    total_steps = steps_per_epoch * epochs
    warmup_steps = int(round(warmup_fraction * total_steps))
    if name == "constant":
        return learning_rate
    if name == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(
            learning_rate, decay_steps=max(1, int(decay_epochs * steps_per_epoch)), decay_rate=decay_rate,
            staircase=True)
    if name == "cosine":
        return keras.optimizers.schedules.CosineDecay(
            0.0, decay_steps=max(1, total_steps - warmup_steps), warmup_target=learning_rate,
            warmup_steps=warmup_steps)
    if name == "onecycle":
        return OneCycle(learning_rate, total_steps, warmup_steps)
    raise ValueError(f"unknown learning-rate schedule {name!r}, choose one of {', '.join(SCHEDULE_NAMES)}")
