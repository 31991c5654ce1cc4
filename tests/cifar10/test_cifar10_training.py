"""Short real training runs: the loss falls, an interrupted run resumes, export reloads, the CLI predicts."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from cifar10_fixtures import solid_image, write_class_folders

from cifar10.cli import main
from cifar10.config import make_config
from cifar10.errors import RunError
from cifar10.evaluate import evaluate_run
from cifar10.export import export_run
from cifar10.models import inference_model
from cifar10.runs import load_run
from cifar10.training import train

pytestmark = pytest.mark.slow


def tiny_config(data: Path, **overrides):
    values = dict(data=str(data), width=8, epochs=3, batch_size=16, learning_rate=0.1, val_split=0.2,
                  cutout=0, precision="float32")
    values.update(overrides)
    return make_config("fast", **values)


def history_rows(run_dir: Path) -> list[dict]:
    with open(run_dir / "history.csv", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    return write_class_folders(tmp_path_factory.mktemp("data") / "folders", train_per_class=8, test_per_class=2)


@pytest.fixture(scope="module")
def trained_run(tiny_data, tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("runs") / "fast"
    train(tiny_config(tiny_data), run_dir, verbose=0)
    return run_dir


@pytest.fixture(scope="module")
def exported(trained_run) -> Path:
    return export_run(trained_run).folder


# ---------------------------------------------------------------- training

def test_train_lowers_loss(trained_run):
    losses = [float(row["loss"]) for row in history_rows(trained_run)]
    assert losses[-1] < losses[0]


def test_train_writes_run_files(trained_run):
    for name in ("config.json", "data.json", "history.csv", "best.weights.h5", "last.weights.h5"):
        assert (trained_run / name).is_file(), name
    assert not (trained_run / "backup").exists()


def test_train_logs_learning_rate(trained_run):
    assert "learning_rate" in history_rows(trained_run)[0]


def test_train_rerun_finished_run(trained_run, tiny_data):
    with pytest.raises(RunError, match="finished run"):
        train(tiny_config(tiny_data), trained_run, verbose=0)


def test_train_rerun_other_config(trained_run, tiny_data):
    with pytest.raises(RunError, match="changed: epochs"):
        train(tiny_config(tiny_data, epochs=4), trained_run, verbose=0)


class Interrupt(Exception):
    pass


class InterruptAfterFirstEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        raise Interrupt


class RecordStart(keras.callbacks.Callback):
    """Record the first epoch and the optimizer's step count when an epoch begins."""

    def __init__(self):
        super().__init__()
        self.starts = []

    def on_epoch_begin(self, epoch, logs=None):
        self.starts.append((epoch, int(self.model.optimizer.iterations)))


def test_resume_continues_from_checkpoint(tiny_data, tmp_path):
    config = tiny_config(tiny_data, epochs=2, val_split=0.0)
    with pytest.raises(Interrupt):
        train(config, tmp_path / "run", callbacks=[InterruptAfterFirstEpoch()], verbose=0)
    assert (tmp_path / "run" / "backup").is_dir()

    recorder = RecordStart()
    train(config, tmp_path / "run", callbacks=[recorder], verbose=0)
    steps_per_epoch = 80 // 16
    assert recorder.starts == [(1, steps_per_epoch)]
    assert [row["epoch"] for row in history_rows(tmp_path / "run")] == ["0", "1"]


# ---------------------------------------------------------------- evaluate and export

def test_evaluate_writes_figures(trained_run):
    report = evaluate_run(trained_run)
    for key in ("confusion_matrix", "misclassified", "training_curves", "metrics"):
        assert Path(report.files[key]).is_file(), key
    assert len(report.per_class_accuracy) == 10
    assert report.num_images == 20


def test_evaluate_error_other_classes(trained_run, tmp_path):
    other = write_class_folders(tmp_path / "other", classes=("cat", "dog"))
    with pytest.raises(RunError, match="differ from the run"):
        evaluate_run(trained_run, data=str(other))


def test_export_keras_same_predictions(trained_run, exported):
    model, config, _ = load_run(trained_run)
    images = np.stack([solid_image(label) for label in range(10)]).astype(np.float32)
    expected = inference_model(model, config.flip_tta)(images).numpy()
    reloaded = keras.saving.load_model(exported / "model.keras")
    assert np.allclose(reloaded.predict_on_batch(images), expected, atol=1e-5)


def test_export_saved_model_same_predictions(trained_run, exported):
    model, config, _ = load_run(trained_run)
    images = np.stack([solid_image(label) for label in range(10)]).astype(np.float32)
    expected = inference_model(model, config.flip_tta)(images).numpy()
    loaded = tf.saved_model.load(str(exported / "saved_model"))  # keep a reference: serve needs its variables
    served = loaded.serve(tf.constant(images)).numpy()
    assert np.allclose(served, expected, atol=1e-5)


def test_export_loads_without_package(exported, tmp_path):
    """A fresh interpreter that never imports cifar10 opens both exported formats."""
    script = (
        "import sys, numpy as np, keras, tensorflow as tf\n"
        "assert 'cifar10' not in sys.modules\n"
        "x = np.full((1, 32, 32, 3), 128, np.float32)\n"
        "a = keras.saving.load_model(sys.argv[1] + '/model.keras').predict_on_batch(x)\n"
        "loaded = tf.saved_model.load(sys.argv[1] + '/saved_model')\n"
        "b = loaded.serve(tf.constant(x)).numpy()\n"
        "print(float(np.abs(a - b).max()))\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(exported)], capture_output=True, text=True,
                            cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert float(result.stdout.strip().splitlines()[-1]) < 1e-5


# ---------------------------------------------------------------- CLI

def test_cli_predict_real_image(exported, real_jpeg, capsys):
    assert main(["predict", str(real_jpeg), "--model", str(exported)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == str(real_jpeg)
    assert len(lines) == 4
    assert sum(float(line.split()[-1]) for line in lines[1:]) <= 1.0 + 1e-6


def test_cli_predict_unreadable_image(exported, tmp_path, capsys):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    assert main(["predict", str(bad), "--model", str(exported)]) == 2
    assert capsys.readouterr().err.startswith("error: cannot decode")


def test_cli_predict_other_input_size(exported, tmp_path, real_jpeg, capsys):
    copy = Path(shutil.copytree(exported, tmp_path / "export"))
    labels = json.loads((copy / "labels.json").read_text())
    labels["image_size"] = [64, 64]
    (copy / "labels.json").write_text(json.dumps(labels))
    assert main(["predict", str(real_jpeg), "--model", str(copy)]) == 2
    assert "takes 32x32 images" in capsys.readouterr().err


def test_cli_predict_corrupt_export(exported, tmp_path, real_jpeg, capsys):
    copy = Path(shutil.copytree(exported, tmp_path / "export"))
    (copy / "model.keras").write_bytes(b"truncated")
    assert main(["predict", str(real_jpeg), "--model", str(copy)]) == 2
    assert "cannot load the export" in capsys.readouterr().err


def test_cli_predict_not_an_export(tmp_path, real_jpeg, capsys):
    assert main(["predict", str(real_jpeg), "--model", str(tmp_path)]) == 2
    assert "is not an export" in capsys.readouterr().err


def test_cli_predict_run_without_export(trained_run, tmp_path, real_jpeg, capsys):
    run = Path(shutil.copytree(trained_run, tmp_path / "run", ignore=shutil.ignore_patterns("export")))
    assert main(["predict", str(real_jpeg), "--run", str(run)]) == 2
    assert "has no export yet" in capsys.readouterr().err
    assert main(["predict", str(real_jpeg), "--run", str(tmp_path / "missing")]) == 2
    assert "run folder not found" in capsys.readouterr().err
    assert main(["predict", str(real_jpeg), "--run", str(tmp_path)]) == 2
    assert "is not a trained run" in capsys.readouterr().err


def test_cli_predict_demo_folder_names_run(exported, tmp_path, real_jpeg, capsys):
    shutil.copytree(exported, tmp_path / "demo" / "run" / "export")
    assert main(["predict", str(real_jpeg), "--run", str(tmp_path / "demo")]) == 2
    assert f"pass --run {tmp_path / 'demo' / 'run'}" in capsys.readouterr().err


def test_cli_evaluate_not_a_run(tmp_path, capsys):
    assert main(["evaluate", "--run", str(tmp_path)]) == 2
    assert "is not a training run" in capsys.readouterr().err


def test_cli_train_missing_data(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "run")]) == 2
    assert "data set not found" in capsys.readouterr().err
    assert not (tmp_path / "run" / "config.json").exists()


def test_cli_train_one_class(tmp_path, capsys):
    data = write_class_folders(tmp_path / "one", classes=("cat",))
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "run")]) == 2
    assert "at least 2" in capsys.readouterr().err


def test_cli_train_bad_epochs(tmp_path, capsys):
    assert main(["train", "--epochs", "0", "--out", str(tmp_path / "run")]) == 2
    assert "epochs must be at least 1" in capsys.readouterr().err


def test_cli_tfrecord_then_train(tiny_data, tmp_path, capsys):
    records = tmp_path / "records"
    assert main(["tfrecord", "--data", str(tiny_data), "--out", str(records), "--train-shards", "2"]) == 0
    assert main(["train", "--data", f"tfrecord:{records}", "--out", str(tmp_path / "run"), "--width", "8",
                 "--epochs", "1", "--batch-size", "16", "--precision", "float32", "--quiet"]) == 0
    assert "trained fast for 1 epoch(s)" in capsys.readouterr().out


def test_float16_rejected_on_cpu():
    from cifar10.errors import RunError
    from cifar10.hardware import resolve_precision

    with pytest.raises(RunError, match="needs a GPU"):
        resolve_precision("mixed_float16")
