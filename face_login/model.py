"""FaceNet's Inception-ResNet-v1 in Keras 3: a 160x160x3 face crop in, a 128-d unit-length embedding out.

The layer names and hyper-parameters are those in the ``model_config`` of ``facenet_keras.h5`` (a Keras 2.1.2
FaceNet), so that its weights load by name (see :mod:`face_login.weights`).
Architecture: Szegedy et al., "Inception-v4, Inception-ResNet and the Impact of Residual Connections", 2016.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers


@dataclass(frozen=True)
class FaceNetConfig:
    image_size: int = 160
    embedding_size: int = 128
    dropout_rate: float = 0.2  # the Dropout rate in the h5 model_config
    bn_momentum: float = 0.995
    bn_epsilon: float = 1e-3
    block35_repeats: int = 5
    block17_repeats: int = 10
    block8_repeats: int = 5  # plus one final Block8 with scale 1.0 and no activation
    block35_scale: float = 0.17
    block17_scale: float = 0.1
    block8_scale: float = 0.2


@keras.saving.register_keras_serializable(package="face_login")
class ScaledResidual(layers.Layer):
    """Residual sum ``shortcut + scale * branch`` of Inception-ResNet; scaling keeps deep training stable."""

    def __init__(self, scale: float, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, inputs):
        shortcut, branch = inputs
        return shortcut + self.scale * branch

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def conv_bn_relu(x, filters: int, kernel_size, name: str, config: FaceNetConfig, strides: int = 1,
                 padding: str = "same"):
    """Conv2D without bias, BatchNorm without gamma (``scale=False``, as in FaceNet), then ReLU."""
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=False, name=name)(x)
    x = layers.BatchNormalization(axis=3, momentum=config.bn_momentum, epsilon=config.bn_epsilon, scale=False,
                                  name=f"{name}_BatchNorm")(x)
    return layers.Activation("relu", name=f"{name}_Activation")(x)


def residual_block(x, kind: str, index: int, scale: float, config: FaceNetConfig, activation: bool = True):
    """Apply one Inception-ResNet block: parallel branches, a 1x1 projection back to the input depth, a scaled sum."""
    prefix = f"{kind}_{index}"
    if kind == "Block35":  # 17x17x256
        branches = [
            conv_bn_relu(x, 32, 1, f"{prefix}_Branch_0_Conv2d_1x1", config),
            conv_bn_relu(conv_bn_relu(x, 32, 1, f"{prefix}_Branch_1_Conv2d_0a_1x1", config),
                         32, 3, f"{prefix}_Branch_1_Conv2d_0b_3x3", config),
        ]
        branch_2 = conv_bn_relu(x, 32, 1, f"{prefix}_Branch_2_Conv2d_0a_1x1", config)
        branch_2 = conv_bn_relu(branch_2, 32, 3, f"{prefix}_Branch_2_Conv2d_0b_3x3", config)
        branches.append(conv_bn_relu(branch_2, 32, 3, f"{prefix}_Branch_2_Conv2d_0c_3x3", config))
    elif kind == "Block17":  # 8x8x896
        branch_1 = conv_bn_relu(x, 128, 1, f"{prefix}_Branch_1_Conv2d_0a_1x1", config)
        branch_1 = conv_bn_relu(branch_1, 128, (1, 7), f"{prefix}_Branch_1_Conv2d_0b_1x7", config)
        branch_1 = conv_bn_relu(branch_1, 128, (7, 1), f"{prefix}_Branch_1_Conv2d_0c_7x1", config)
        branches = [conv_bn_relu(x, 128, 1, f"{prefix}_Branch_0_Conv2d_1x1", config), branch_1]
    elif kind == "Block8":  # 3x3x1792
        branch_1 = conv_bn_relu(x, 192, 1, f"{prefix}_Branch_1_Conv2d_0a_1x1", config)
        branch_1 = conv_bn_relu(branch_1, 192, (1, 3), f"{prefix}_Branch_1_Conv2d_0b_1x3", config)
        branch_1 = conv_bn_relu(branch_1, 192, (3, 1), f"{prefix}_Branch_1_Conv2d_0c_3x1", config)
        branches = [conv_bn_relu(x, 192, 1, f"{prefix}_Branch_0_Conv2d_1x1", config), branch_1]
    else:
        raise ValueError(f"unknown residual block kind {kind!r}")

    mixed = layers.Concatenate(axis=3, name=f"{prefix}_Concatenate")(branches)
    projected = layers.Conv2D(x.shape[-1], 1, padding="same", use_bias=True, name=f"{prefix}_Conv2d_1x1")(mixed)
    x = ScaledResidual(scale, name=f"{prefix}_ScaleSum")([x, projected])
    if activation:
        x = layers.Activation("relu", name=f"{prefix}_Activation")(x)
    return x


def reduction_a(x, config: FaceNetConfig):
    """Mixed_6a: 17x17x256 -> 8x8x896."""
    branch_0 = conv_bn_relu(x, 384, 3, "Mixed_6a_Branch_0_Conv2d_1a_3x3", config, strides=2, padding="valid")
    branch_1 = conv_bn_relu(x, 192, 1, "Mixed_6a_Branch_1_Conv2d_0a_1x1", config)
    branch_1 = conv_bn_relu(branch_1, 192, 3, "Mixed_6a_Branch_1_Conv2d_0b_3x3", config)
    branch_1 = conv_bn_relu(branch_1, 256, 3, "Mixed_6a_Branch_1_Conv2d_1a_3x3", config, strides=2, padding="valid")
    branch_2 = layers.MaxPooling2D(3, strides=2, padding="valid", name="Mixed_6a_Branch_2_MaxPool_1a_3x3")(x)
    return layers.Concatenate(axis=3, name="Mixed_6a")([branch_0, branch_1, branch_2])


def reduction_b(x, config: FaceNetConfig):
    """Mixed_7a: 8x8x896 -> 3x3x1792."""
    branch_0 = conv_bn_relu(x, 256, 1, "Mixed_7a_Branch_0_Conv2d_0a_1x1", config)
    branch_0 = conv_bn_relu(branch_0, 384, 3, "Mixed_7a_Branch_0_Conv2d_1a_3x3", config, strides=2, padding="valid")
    branch_1 = conv_bn_relu(x, 256, 1, "Mixed_7a_Branch_1_Conv2d_0a_1x1", config)
    branch_1 = conv_bn_relu(branch_1, 256, 3, "Mixed_7a_Branch_1_Conv2d_1a_3x3", config, strides=2, padding="valid")
    branch_2 = conv_bn_relu(x, 256, 1, "Mixed_7a_Branch_2_Conv2d_0a_1x1", config)
    branch_2 = conv_bn_relu(branch_2, 256, 3, "Mixed_7a_Branch_2_Conv2d_0b_3x3", config)
    branch_2 = conv_bn_relu(branch_2, 256, 3, "Mixed_7a_Branch_2_Conv2d_1a_3x3", config, strides=2, padding="valid")
    branch_3 = layers.MaxPooling2D(3, strides=2, padding="valid", name="Mixed_7a_Branch_3_MaxPool_1a_3x3")(x)
    return layers.Concatenate(axis=3, name="Mixed_7a")([branch_0, branch_1, branch_2, branch_3])


def build_facenet(config: FaceNetConfig | None = None) -> keras.Model:
    """Build Inception-ResNet-v1 with random weights; ``load_facenet_weights`` fills in the pretrained ones."""
    config = config or FaceNetConfig()
    inputs = keras.Input((config.image_size, config.image_size, 3), name="input_1")  # prewhitened RGB

    # Stem: 160x160x3 -> 17x17x256
    x = conv_bn_relu(inputs, 32, 3, "Conv2d_1a_3x3", config, strides=2, padding="valid")  # 79x79x32
    x = conv_bn_relu(x, 32, 3, "Conv2d_2a_3x3", config, padding="valid")  # 77x77x32
    x = conv_bn_relu(x, 64, 3, "Conv2d_2b_3x3", config)  # 77x77x64
    x = layers.MaxPooling2D(3, strides=2, name="MaxPool_3a_3x3")(x)  # 38x38x64
    x = conv_bn_relu(x, 80, 1, "Conv2d_3b_1x1", config, padding="valid")  # 38x38x80
    x = conv_bn_relu(x, 192, 3, "Conv2d_4a_3x3", config, padding="valid")  # 36x36x192
    x = conv_bn_relu(x, 256, 3, "Conv2d_4b_3x3", config, strides=2, padding="valid")  # 17x17x256

    for index in range(1, config.block35_repeats + 1):
        x = residual_block(x, "Block35", index, config.block35_scale, config)
    x = reduction_a(x, config)  # 8x8x896
    for index in range(1, config.block17_repeats + 1):
        x = residual_block(x, "Block17", index, config.block17_scale, config)
    x = reduction_b(x, config)  # 3x3x1792
    for index in range(1, config.block8_repeats + 1):
        x = residual_block(x, "Block8", index, config.block8_scale, config)
    x = residual_block(x, "Block8", config.block8_repeats + 1, 1.0, config, activation=False)

    # Head: 3x3x1792 -> 1792 -> 128, then unit length so that squared distances lie in [0, 4].
    x = layers.GlobalAveragePooling2D(name="AvgPool")(x)
    x = layers.Dropout(config.dropout_rate, name="Dropout")(x)
    x = layers.Dense(config.embedding_size, use_bias=False, name="Bottleneck")(x)
    x = layers.BatchNormalization(momentum=config.bn_momentum, epsilon=config.bn_epsilon, scale=False,
                                  name="Bottleneck_BatchNorm")(x)
    outputs = layers.UnitNormalization(axis=-1, name="Embedding")(x)
    return keras.Model(inputs, outputs, name="inception_resnet_v1")
