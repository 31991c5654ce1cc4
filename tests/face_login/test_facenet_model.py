"""The Keras 3 Inception-ResNet-v1 and the pretrained weights loaded by name from facenet_keras.h5."""

from __future__ import annotations

import h5py
import keras
import numpy as np
import pytest

from face_login.assets import facenet_weights_path
from face_login.errors import WeightsError
from face_login.model import build_facenet
from face_login.weights import load_facenet_weights, read_h5_weights


def test_model_shapes_and_names():
    model = build_facenet()
    assert model.input_shape == (None, 160, 160, 3)
    assert model.output_shape == (None, 128)
    assert model.count_params() == 22_808_144
    for name in ["Conv2d_1a_3x3", "Block35_5_ScaleSum", "Block8_6_Conv2d_1x1", "Bottleneck", "Bottleneck_BatchNorm"]:
        assert model.get_layer(name) is not None, name


@pytest.mark.slow
def test_all_weights_load_with_shapes(embedder):
    stored = read_h5_weights(facenet_weights_path())
    assert len(stored) == 245
    assert sum(len(tensors) for tensors in stored.values()) == 490
    for layer_name, tensors in stored.items():
        layer = embedder.model.get_layer(layer_name)
        variables = {variable.name: variable for variable in layer.weights}
        for weight_name, value in tensors.items():
            np.testing.assert_array_equal(variables[weight_name].numpy(), value, err_msg=f"{layer_name}/{weight_name}")


@pytest.mark.slow
def test_embeddings_unit_length(embedder):
    crops = np.random.default_rng(0).integers(0, 255, (3, 160, 160, 3), dtype=np.uint8)
    embeddings = embedder.embed_crops(crops)
    assert embeddings.shape == (3, 128)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, rtol=1e-5)


def tiny_model() -> keras.Model:
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, use_bias=False, name="Conv2d_1a_3x3")(inputs)
    outputs = keras.layers.BatchNormalization(scale=False, name="Conv2d_1a_3x3_BatchNorm")(x)
    return keras.Model(inputs, outputs)


def write_keras2_h5(path, layers: dict[str, dict[str, np.ndarray]]) -> None:
    """Write weights in the Keras 2 HDF5 layout: model_weights/<layer>/<layer>/<weight>:0."""
    with h5py.File(path, "w") as handle:
        root = handle.create_group("model_weights")
        root.attrs["layer_names"] = [name.encode() for name in layers]
        for layer_name, tensors in layers.items():
            group = root.create_group(layer_name)
            names = [f"{layer_name}/{weight}:0" for weight in tensors]
            group.attrs["weight_names"] = [name.encode() for name in names]
            for name, value in zip(names, tensors.values(), strict=True):
                group.create_dataset(name, data=value)


def good_layers() -> dict[str, dict[str, np.ndarray]]:
    return {
        "Conv2d_1a_3x3": {"kernel": np.ones((3, 3, 3, 4), np.float32)},
        "Conv2d_1a_3x3_BatchNorm": {name: np.full(4, 0.5, np.float32)
                                    for name in ("beta", "moving_mean", "moving_variance")},
    }


def test_loader_assigns_by_name(tmp_path):
    write_keras2_h5(tmp_path / "ok.h5", good_layers())
    model = tiny_model()
    assert load_facenet_weights(model, tmp_path / "ok.h5") == 4
    np.testing.assert_array_equal(model.get_layer("Conv2d_1a_3x3").kernel.numpy(), 1.0)


def test_loader_rejects_wrong_shape(tmp_path):
    layers = good_layers()
    layers["Conv2d_1a_3x3"]["kernel"] = np.ones((3, 3, 3, 8), np.float32)
    write_keras2_h5(tmp_path / "bad.h5", layers)
    with pytest.raises(WeightsError, match="shape"):
        load_facenet_weights(tiny_model(), tmp_path / "bad.h5")


def test_loader_rejects_missing_layer(tmp_path):
    layers = good_layers()
    del layers["Conv2d_1a_3x3_BatchNorm"]
    write_keras2_h5(tmp_path / "missing.h5", layers)
    with pytest.raises(WeightsError, match="in model only"):
        load_facenet_weights(tiny_model(), tmp_path / "missing.h5")


def test_loader_rejects_missing_weight(tmp_path):
    layers = good_layers()
    del layers["Conv2d_1a_3x3_BatchNorm"]["moving_variance"]
    write_keras2_h5(tmp_path / "partial.h5", layers)
    with pytest.raises(WeightsError, match="moving_variance"):
        load_facenet_weights(tiny_model(), tmp_path / "partial.h5")
