"""Load the Keras 2.1.2 ``facenet_keras.h5`` weights by layer name into the Keras 3 model of :mod:`face_login.model`.

``keras.models.load_model`` rejects that file because its residual sums are ``Lambda`` layers stored as
marshalled Python 3.5 bytecode, so the tensors are read with h5py instead. Every tensor must find a
variable of the same layer name, weight name and shape, and every variable must receive a tensor.
"""

from __future__ import annotations

import contextlib
import os
import warnings

import h5py
import keras

from face_login.errors import WeightsError


def read_h5_weights(path: str | os.PathLike) -> dict[str, dict[str, object]]:
    """Return ``{layer_name: {weight_name: array}}`` from a Keras 2 HDF5 model or weights file."""
    with h5py.File(path, "r") as handle:
        root = handle["model_weights"] if "model_weights" in handle else handle
        layer_names = [_text(name) for name in root.attrs["layer_names"]]
        weights: dict[str, dict[str, object]] = {}
        for layer_name in layer_names:
            group = root[layer_name]
            names = [_text(name) for name in group.attrs.get("weight_names", [])]
            if names:
                weights[layer_name] = {_short_weight_name(name): group[name][()] for name in names}
    return weights


def load_facenet_weights(model: keras.Model, path: str | os.PathLike) -> int:
    """Assign every tensor of the h5 file to ``model``; return the number of tensors assigned.

    Raises:
        WeightsError: a layer or weight is missing on either side, or a shape differs.
    """
    stored = read_h5_weights(path)
    model_layers = {layer.name: layer for layer in model.layers if layer.weights}

    missing_in_model = sorted(set(stored) - set(model_layers))
    missing_in_file = sorted(set(model_layers) - set(stored))
    if missing_in_model or missing_in_file:
        raise WeightsError(
            f"{path}: layer names differ from the model (in file only: {missing_in_model[:5]}, "
            f"in model only: {missing_in_file[:5]}); this file is not the Inception-ResNet-v1 FaceNet port"
        )

    assigned = 0
    for layer_name, layer in model_layers.items():
        tensors = stored[layer_name]
        variables = {variable.name: variable for variable in layer.weights}
        if set(tensors) != set(variables):
            raise WeightsError(f"{path}: layer {layer_name} has weights {sorted(tensors)} in the file "
                               f"but {sorted(variables)} in the model")
        for name, value in tensors.items():
            variable = variables[name]
            if tuple(variable.shape) != tuple(value.shape):
                raise WeightsError(f"{path}: {layer_name}/{name} has shape {tuple(value.shape)} in the file "
                                   f"but {tuple(variable.shape)} in the model")
            variable.assign(value)
            assigned += 1
    return assigned


def _short_weight_name(name: str) -> str:
    """``'Conv2d_1a_3x3/kernel:0'`` -> ``'kernel'``."""
    return name.rsplit("/", 1)[-1].split(":", 1)[0]


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


@contextlib.contextmanager
def quiet_keras_h5_io():
    """Hide one DeprecationWarning per tensor from ``save_weights``/``load_weights`` (Keras 3.15, numpy 2):
    Keras calls ``np.array(x, copy=False)`` on objects whose ``__array__`` has no ``copy`` argument."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="__array__ implementation doesn't accept a copy keyword")
        yield
