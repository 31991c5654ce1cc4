"""Model shapes and sizes, the flip layer of the inference model, and the learning-rate schedules."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from cifar10.config import make_config
from cifar10.errors import RunError
from cifar10.hardware import resolve_precision
from cifar10.models import ModelConfig, build_model, horizontal_flip_layers, inference_model
from cifar10.schedules import OneCycle, make_schedule

MEAN, STD = np.full(3, 120.0), np.full(3, 60.0)


@pytest.mark.parametrize(("name", "width", "parameters"), [
    ("cnn", 32, 857_706),  # the article's CNN, about 0.86 M
    ("resnet", 64, 11_602_634),  # the article's ResNet
    ("fast", 64, 6_577_610),  # Page's ResNet-9 (GPU recipe)
    ("fast", 32, 1_648_362),  # the CPU default
])
def test_model_parameter_count(name, width, parameters):
    model = build_model(ModelConfig(name=name, width=width), MEAN, STD)
    assert model.count_params() == parameters


@pytest.mark.parametrize("name", ["cnn", "resnet", "fast"])
def test_model_output_shape(name):
    model = build_model(ModelConfig(name=name, width=8, num_classes=7), MEAN, STD)
    assert model(np.zeros((2, 32, 32, 3), np.float32)).shape == (2, 7)


def test_model_other_image_size():
    model = build_model(ModelConfig(name="fast", width=8, image_size=(48, 48)), MEAN, STD)
    assert model(np.zeros((1, 48, 48, 3), np.float32)).shape == (1, 10)


def test_flip_layer_mirrors_width():
    images = tf.random.uniform((2, 5, 7, 3), 0, 255)
    flipped = horizontal_flip_layers(7)(images)
    assert np.array_equal(flipped.numpy(), tf.reverse(images, axis=[2]).numpy())


def test_inference_model_probabilities():
    model = build_model(ModelConfig(name="fast", width=8), MEAN, STD)
    probabilities = inference_model(model, flip_tta=True)(np.zeros((3, 32, 32, 3), np.float32)).numpy()
    assert probabilities.shape == (3, 10)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_inference_model_flip_average():
    model = build_model(ModelConfig(name="fast", width=8), MEAN, STD)
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    logits = (model(images).numpy() + model(images[:, :, ::-1]).numpy()) / 2
    expected = tf.nn.softmax(logits).numpy()
    assert np.allclose(inference_model(model, flip_tta=True)(images).numpy(), expected, atol=1e-5)


def test_onecycle_shape():
    schedule = OneCycle(peak=0.4, total_steps=100, warmup_steps=20)
    values = [float(schedule(step)) for step in (0, 10, 20, 60, 100)]
    assert values == pytest.approx([0.0, 0.2, 0.4, 0.2, 0.0])


def test_exponential_staircase():
    schedule = make_schedule("exponential", 0.1, steps_per_epoch=10, epochs=5, decay_rate=0.5, decay_epochs=2)
    assert float(schedule(19)) == pytest.approx(0.1)
    assert float(schedule(20)) == pytest.approx(0.05)


def test_cosine_warmup_then_decay():
    schedule = make_schedule("cosine", 0.2, steps_per_epoch=10, epochs=10, warmup_fraction=0.1)
    assert float(schedule(10)) == pytest.approx(0.2)
    assert float(schedule(100)) == pytest.approx(0.0, abs=1e-6)


def test_precision_float32_without_onednn(monkeypatch):
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    assert resolve_precision("auto") == "float32"


def test_precision_explicit_kept():
    assert resolve_precision("float32") == "float32"
    assert resolve_precision("mixed_bfloat16") == "mixed_bfloat16"


def test_config_preset_and_override():
    config = make_config("cnn", epochs=3)
    assert (config.lr_schedule, config.epochs, config.width) == ("exponential", 3, 32)


def test_config_bundled_gpu_file():
    config = make_config("fast", "fast_gpu.json")
    assert (config.width, config.epochs) == (64, 24)


def test_config_error_unknown_field(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"epochz": 3}')
    with pytest.raises(RunError, match="epochz"):
        make_config("fast", path)


def test_config_error_wrong_model(tmp_path):
    with pytest.raises(RunError, match="resnet"):
        make_config("fast", "resnet_gpu.json")


def test_config_error_bad_value():
    with pytest.raises(RunError, match="epochs must be at least 1"):
        make_config("fast", epochs=0)
