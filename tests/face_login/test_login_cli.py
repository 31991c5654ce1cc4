"""The command line: embed, evaluate and train on small real fixtures, and one-line errors for bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from face_login.__main__ import main
from face_login.triplet import semi_hard_triplet_loss

pytestmark = pytest.mark.slow


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "face_login", *args], capture_output=True, text=True, timeout=120)


def test_cli_missing_image_exits_2(tmp_path):
    result = run_cli("embed", str(tmp_path / "missing.jpg"))
    assert result.returncode == 2
    assert "error: image file not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_missing_dataset_exits_2(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nowhere")]) == 2
    assert "dataset folder not found" in capsys.readouterr().err


def test_cli_embed_prints_distances(faces_dir, tmp_path, capsys):
    save = tmp_path / "embeddings.npy"
    paths = [faces_dir / "identities/obama/obama.jpg", faces_dir / "obama2.jpg", faces_dir / "biden.jpg"]
    assert main(["embed", *map(str, paths), "--save", str(save)]) == 0
    output = capsys.readouterr().out
    assert "Euclidean distances" in output
    embeddings = np.load(save)
    assert embeddings.shape == (3, 128)
    assert np.linalg.norm(embeddings[0] - embeddings[1]) < np.linalg.norm(embeddings[0] - embeddings[2])


def test_cli_evaluate_writes_report(identities, tmp_path, capsys):
    out = tmp_path / "evaluate"
    assert main(["evaluate", str(identities), "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["genuine_pairs"] == 4
    assert report["impostor_pairs"] == 32
    assert report["eer"] == 0.0
    assert (out / "roc.png").stat().st_size > 10_000
    assert "| threshold | FAR | FRR |" in capsys.readouterr().out


@pytest.mark.parametrize("port", ["70000", "-1"])
def test_cli_serve_rejects_invalid_port(port, capsys):
    assert main(["serve", "--port", port]) == 2
    assert capsys.readouterr().err.strip() == f"error: invalid port {port}; use an integer from 1 to 65535"


def test_triplet_loss_known_values():
    embeddings = tf.constant([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-1.0, 0.0]])
    labels = tf.constant([0, 0, 1, 1])
    # Squared distances: d01 0.4, d02 2, d03 4, d12 0.8, d13 3.6, d23 2. Anchor-positive pairs and their
    # negatives: (0,1) semi-hard 2 -> 0; (1,0) semi-hard 0.8 -> 0; (3,2) semi-hard 3.6 -> 0; (2,3) has no
    # negative farther than d_ap = 2, so the farthest (2) gives 2 - 2 + 0.2. Mean over 4 pairs: 0.05.
    assert float(semi_hard_triplet_loss(labels, embeddings, margin=0.2)) == pytest.approx(0.05, abs=1e-6)
    hard = tf.constant([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [1.0, 0.0]])
    assert float(semi_hard_triplet_loss(labels, hard, margin=0.2)) > 0.0


def test_train_small_fixture(identities, tmp_path, capsys):
    dataset = tmp_path / "dataset"
    for name in ["obama", "biden", "kit_harington", "rose_leslie"]:
        shutil.copytree(identities / name, dataset / name)
    out = tmp_path / "facenet"
    code = main(["train", "--dataset", str(dataset), "--out", str(out), "--epochs", "1", "--steps-per-epoch", "2",
                 "--classes-per-batch", "4", "--images-per-class", "2", "--train-from", "Bottleneck"])
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    assert len(report["loss"]) == 1
    assert np.isfinite(report["loss"][0])

    from face_login.embedder import load_pretrained_facenet

    model = load_pretrained_facenet(out / "facenet_triplet.weights.h5")
    embedding = model.predict_on_batch(np.zeros((1, 160, 160, 3), np.float32))
    assert embedding.shape == (1, 128)
