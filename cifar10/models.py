"""The three classifiers: the article's CNN, the article's ResNet and a fast ResNet-9-style network.

Every model takes float32 RGB pixel values in [0, 255], shape (batch, H, W, 3), and returns logits of
shape (batch, num_classes). Its first layer normalises each channel with the train split's mean and
standard deviation, so the trained model (and its export) needs no preprocessing code beyond resizing.
The logits layer and the normalisation run in float32 even under a mixed-precision policy.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
from keras import layers

MODEL_NAMES = ("cnn", "resnet", "fast")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture choices. ``width`` is the first stage's channel count, and each model doubles it per stage."""

    name: str = "fast"
    width: int = 64
    dropout: float = 0.0
    weight_decay: float = 5e-4  # L2 coefficient as in torch.optim.SGD: the gradient gains weight_decay * w
    num_classes: int = 10
    image_size: tuple[int, int] = (32, 32)


class ConvBlock:
    """Conv 3x3 (no bias) -> BatchNorm -> ReLU, the unit every model here is made of."""

    def __init__(self, filters: int, weight_decay: float, strides: int = 1, name: str | None = None) -> None:
        regularizer = keras.regularizers.L2(weight_decay / 2) if weight_decay else None
        self.conv = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False,
                                  kernel_initializer="he_normal", kernel_regularizer=regularizer,
                                  name=f"{name}_conv" if name else None)
        # momentum=0.9 lets the moving statistics follow the weights within a short run.
        self.norm = layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=f"{name}_bn" if name else None)

    def __call__(self, x, activation: bool = True):
        x = self.norm(self.conv(x))
        return layers.ReLU()(x) if activation else x


def _inputs_normalized(config: ModelConfig, mean: np.ndarray, std: np.ndarray):
    inputs = keras.Input(shape=(*config.image_size, 3), name="pixels")
    # (B, H, W, 3) in [0, 255] -> zero mean, unit variance per channel.
    x = layers.Normalization(mean=np.asarray(mean, np.float32), variance=np.square(np.asarray(std, np.float32)),
                             dtype="float32", name="normalize")(inputs)
    return inputs, x


def _logits(x, config: ModelConfig, name: str = "logits"):
    regularizer = keras.regularizers.L2(config.weight_decay / 2) if config.weight_decay else None
    return layers.Dense(config.num_classes, kernel_regularizer=regularizer, dtype="float32", name=name)(x)


def build_cnn(config: ModelConfig, mean: np.ndarray, std: np.ndarray) -> keras.Model:
    """Build the article's CNN: Conv32x2-Pool-Conv64x2-Pool-Conv128x2-Pool-Conv256-GAP-FC1024-FC10 (width=32)."""
    inputs, x = _inputs_normalized(config, mean, std)
    width = config.width
    for stage, filters in enumerate((width, 2 * width, 4 * width)):
        x = ConvBlock(filters, config.weight_decay, name=f"stage{stage}_a")(x)  # (B, H/2^s, W/2^s, filters)
        x = ConvBlock(filters, config.weight_decay, name=f"stage{stage}_b")(x)
        x = layers.MaxPooling2D()(x)
        x = layers.Dropout(config.dropout / 4)(x)
    x = ConvBlock(8 * width, config.weight_decay, name="stage3")(x)  # (B, H/8, W/8, 8w)
    x = layers.GlobalAveragePooling2D()(x)  # (B, 8w)
    x = layers.Dense(1024, activation="relu", kernel_regularizer=keras.regularizers.L2(config.weight_decay / 2),
                     name="fc1024")(x)
    x = layers.Dropout(config.dropout)(x)
    return keras.Model(inputs, _logits(x, config), name="cnn")


class BasicBlock:
    """The two-convolution residual block of ResNet-18/34: relu(x + bn(conv(relu(bn(conv(x))))))."""

    def __init__(self, filters: int, strides: int, weight_decay: float, name: str) -> None:
        self.first = ConvBlock(filters, weight_decay, strides=strides, name=f"{name}_1")
        self.second = ConvBlock(filters, weight_decay, name=f"{name}_2")
        self.filters = filters
        self.strides = strides
        self.weight_decay = weight_decay
        self.name = name

    def __call__(self, x):
        shortcut = x
        if self.strides != 1 or x.shape[-1] != self.filters:
            # A 1x1 projection matches the shortcut's resolution and channels to the residual branch.
            shortcut = layers.Conv2D(self.filters, 1, strides=self.strides, use_bias=False,
                                     kernel_regularizer=keras.regularizers.L2(self.weight_decay / 2),
                                     name=f"{self.name}_proj")(x)
            shortcut = layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=f"{self.name}_proj_bn")(shortcut)
        residual = self.second(self.first(x), activation=False)
        return layers.ReLU()(layers.Add()([shortcut, residual]))


def build_resnet(config: ModelConfig, mean: np.ndarray, std: np.ndarray) -> keras.Model:
    """Build the article's ResNet: Conv64x2, stages of 2 basic blocks at 128, 256, 512 channels, GAP-FC1024-FC10."""
    inputs, x = _inputs_normalized(config, mean, std)
    width = config.width
    x = ConvBlock(width, config.weight_decay, name="stem_1")(x)  # (B, H, W, w)
    x = ConvBlock(width, config.weight_decay, name="stem_2")(x)
    for stage, filters in enumerate((2 * width, 4 * width, 8 * width)):
        x = BasicBlock(filters, 2, config.weight_decay, name=f"stage{stage}_block0")(x)  # halves H and W
        x = BasicBlock(filters, 1, config.weight_decay, name=f"stage{stage}_block1")(x)
    x = layers.GlobalAveragePooling2D()(x)  # (B, 8w)
    x = layers.Dense(1024, activation="relu", kernel_regularizer=keras.regularizers.L2(config.weight_decay / 2),
                     name="fc1024")(x)
    x = layers.Dropout(config.dropout)(x)
    return keras.Model(inputs, _logits(x, config), name="resnet")


def build_fast(config: ModelConfig, mean: np.ndarray, std: np.ndarray) -> keras.Model:
    """Build a ResNet-9 in the style of Page (2018), "How to train your ResNet": 8 convolutions, 2 shortcuts.

    prep conv(w) -> conv(2w)+pool + residual -> conv(4w)+pool -> conv(8w)+pool + residual -> global max pool
    -> linear, with the logits scaled by 0.125 so that the softmax starts soft. width=64 is Page's network.
    """
    inputs, x = _inputs_normalized(config, mean, std)
    width, decay = config.width, config.weight_decay
    x = ConvBlock(width, decay, name="prep")(x)  # (B, H, W, w)

    x = layers.MaxPooling2D()(ConvBlock(2 * width, decay, name="layer1")(x))  # (B, H/2, W/2, 2w)
    residual = ConvBlock(2 * width, decay, name="layer1_res2")(ConvBlock(2 * width, decay, name="layer1_res1")(x))
    x = layers.Add()([x, residual])

    x = layers.MaxPooling2D()(ConvBlock(4 * width, decay, name="layer2")(x))  # (B, H/4, W/4, 4w)

    x = layers.MaxPooling2D()(ConvBlock(8 * width, decay, name="layer3")(x))  # (B, H/8, W/8, 8w)
    residual = ConvBlock(8 * width, decay, name="layer3_res2")(ConvBlock(8 * width, decay, name="layer3_res1")(x))
    x = layers.Add()([x, residual])

    x = layers.GlobalMaxPooling2D()(x)  # (B, 8w)
    logits = layers.Rescaling(0.125, dtype="float32", name="scale")(_logits(x, config, name="linear"))
    return keras.Model(inputs, logits, name="fast")


BUILDERS = {"cnn": build_cnn, "resnet": build_resnet, "fast": build_fast}


def build_model(config: ModelConfig, mean: np.ndarray, std: np.ndarray) -> keras.Model:
    """Build the model named by ``config.name`` under the current Keras dtype policy."""
    if config.name not in BUILDERS:
        raise ValueError(f"unknown model {config.name!r}, choose one of {', '.join(MODEL_NAMES)}")
    return BUILDERS[config.name](config, mean, std)


def horizontal_flip_layers(width: int):
    """Return a function that mirrors (B, H, W, C) images left to right using only built-in layers.

    A flip is a fixed permutation of the width axis, so it is a Dense layer with an anti-diagonal 0/1
    matrix applied to that axis. Built-in layers keep the exported .keras file loadable without this code.
    """
    anti_diagonal = np.eye(width, dtype=np.float32)[::-1]
    mirror = layers.Dense(width, use_bias=False, trainable=False, dtype="float32", name="mirror_width")
    mirror.build((None, width))
    mirror.set_weights([anti_diagonal])

    def flip(images):
        x = layers.Permute((1, 3, 2))(images)  # (B, H, C, W)
        return layers.Permute((1, 3, 2))(mirror(x))  # (B, H, W, C)

    return flip


def inference_model(model: keras.Model, flip_tta: bool) -> keras.Model:
    """Wrap a logits model into one that returns class probabilities, averaging over a flip when asked."""
    inputs = keras.Input(shape=model.input_shape[1:], name="pixels")
    logits = model(inputs)
    if flip_tta:
        flipped = horizontal_flip_layers(model.input_shape[2])(inputs)
        logits = layers.Average(name="flip_average")([logits, model(flipped)])
    probabilities = layers.Softmax(dtype="float32", name="probabilities")(logits)
    return keras.Model(inputs, probabilities, name=f"{model.name}_inference")
