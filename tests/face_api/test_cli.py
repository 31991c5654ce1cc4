"""The command line: JSON output of each command, the demo, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from face_api.cli import main


def run_cli(capsys, *args: str) -> tuple[int, object, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    output = json.loads(captured.out) if status == 0 and captured.out.startswith("[") else captured.out
    return status, output, captured.err


def test_detect_json(capsys, faces_dir):
    status, output, _ = run_cli(capsys, "detect", str(faces_dir / "obama_small.jpg"))
    assert status == 0
    assert output[0]["width"] == 320
    assert len(output[0]["faces"]) == 1
    assert set(output[0]["faces"][0]) == {"box"}


def test_landmarks_json(capsys, faces_dir):
    status, output, _ = run_cli(capsys, "landmarks", str(faces_dir / "obama_small.jpg"))
    face = output[0]["faces"][0]
    assert status == 0
    assert len(face["landmarks"]["points"]) == 68
    assert face["state"]["expression"] == "smile"
    assert "yaw" in face["pose"]


def test_landmarks_five_points(capsys, faces_dir):
    status, output, _ = run_cli(capsys, "landmarks", "--model", "5", str(faces_dir / "obama_small.jpg"))
    assert status == 0
    assert len(output[0]["faces"][0]["landmarks"]["points"]) == 5


def test_encode_json(capsys, faces_dir):
    status, output, _ = run_cli(capsys, "encode", str(faces_dir / "obama_small.jpg"))
    assert status == 0
    assert len(output[0]["faces"][0]["descriptor"]) == 128


def test_compare_json(capsys, faces_dir):
    status, output, _ = run_cli(capsys, "compare", "--max-side", "800", str(faces_dir / "obama.jpg"),
                                str(faces_dir / "obama_small.jpg"), str(faces_dir / "alex-lacamoire.png"))
    assert status == 0
    assert [entry["match"] for entry in output] == [True, False]


def test_annotate_writes_png(capsys, faces_dir, tmp_path):
    status, output, _ = run_cli(capsys, "annotate", "--out", str(tmp_path), str(faces_dir / "obama_small.jpg"))
    assert status == 0
    assert Path(output[0]["annotated"]) == tmp_path / "obama_small.png"
    assert (tmp_path / "obama_small.png").read_bytes()[:4] == b"\x89PNG"


def test_missing_image(capsys, tmp_path):
    status, _, error = run_cli(capsys, "detect", str(tmp_path / "absent.jpg"))
    assert status == 2
    assert error.startswith("error: image file not found")
    assert "Traceback" not in error


def test_not_an_image(capsys, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    status, _, error = run_cli(capsys, "encode", str(text))
    assert status == 2
    assert "not a JPEG, PNG, WebP or BMP image" in error


def test_invalid_upsample(capsys, faces_dir):
    status, _, error = run_cli(capsys, "detect", "--upsample", "7", str(faces_dir / "obama_small.jpg"))
    assert status == 2
    assert "upsample must be an integer from 0 to 3, got 7" in error


def test_known_without_face(capsys, faces_dir, tmp_path):
    blank = tmp_path / "blank.png"
    shutil.copyfile(faces_dir / "obama_small.jpg", tmp_path / "probe.jpg")
    Image.new("RGB", (120, 120), "white").save(blank)
    status, _, error = run_cli(capsys, "compare", str(blank), str(tmp_path / "probe.jpg"))
    assert status == 2
    assert f"no face found in the {blank}" in error


def test_demo_outputs(capsys, faces_dir, tmp_path):
    images = tmp_path / "photos"
    images.mkdir()
    for name in ("obama_small.jpg", "obama-240p.jpg", "alex-lacamoire.png"):
        shutil.copyfile(faces_dir / name, images / name)
    out = tmp_path / "demo"
    status, printed, _ = run_cli(capsys, "demo", "--images", str(images), "--out", str(out))
    summary = json.loads((out / "summary.json").read_text())
    assert status == 0
    assert str(out / "summary.json") in printed
    assert sorted(path.name for path in (out / "annotated").iterdir()) == [
        "alex-lacamoire.png", "obama-240p.png", "obama_small.png"]
    for figure in ("landmarks_closeup.png", "eye_ear.png", "mouth_mar.png", "face_chips.png"):
        assert (out / figure).is_file(), figure
    pairs = {(pair["a"], pair["b"]): pair["same_person"] for pair in summary["pairwise_distances"]}
    assert pairs[("obama-240p.jpg", "obama_small.jpg")] is True
    assert pairs[("alex-lacamoire.png", "obama_small.jpg")] is False


def test_demo_without_data(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("AI_PRACTICE_DATA", str(tmp_path))
    status, _, error = run_cli(capsys, "demo", "--out", str(tmp_path / "demo"))
    assert status == 2
    assert "AI_PRACTICE_DATA" in error
    assert "--images" in error


def test_module_entry_point(tmp_path):
    result = subprocess.run([sys.executable, "-m", "face_api", "detect", str(tmp_path / "absent.jpg")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: image file not found: {tmp_path / 'absent.jpg'}"


def test_usage_error_exit_code(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["detect", "--detector", "yolo", "x.jpg"])
    assert exit_info.value.code == 2


@pytest.mark.parametrize("port", ["99999", "0"])
def test_serve_rejects_invalid_port(port, capsys):
    assert main(["serve", "--port", port]) == 2
    assert capsys.readouterr().err.strip() == f"error: invalid port {port}; use an integer from 1 to 65535"
