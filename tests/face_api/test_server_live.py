"""The real server: gunicorn with two workers on a free 127.0.0.1 port, called over HTTP."""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(base_url: str, server: subprocess.Popen, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"gunicorn exited with status {server.returncode}")
        try:
            if requests.get(f"{base_url}/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass  # not listening yet, or the workers are still loading the models
        time.sleep(0.3)
    raise AssertionError(f"gunicorn did not respond on /healthz within {timeout_s} s")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    if not GUNICORN.exists():
        pytest.skip(f"gunicorn not installed next to {sys.executable}")
    port = free_port()
    log_path = tmp_path_factory.mktemp("gunicorn") / "server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            # No control socket: its default path is shared by every gunicorn of this user.
            [str(GUNICORN), "--workers", "2", "--bind", f"127.0.0.1:{port}", "--no-control-socket",
             "face_api.server:create_app()"],
            cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base_url, server)
        yield base_url, log_path
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_live_detect_and_errors(live_server, faces_dir):
    base_url, log_path = live_server
    photo = (faces_dir / "obama_small.jpg").read_bytes()

    upload = requests.post(f"{base_url}/api/detect", files={"image": ("obama_small.jpg", photo)}, timeout=60)
    assert upload.status_code == 200
    assert upload.json()["face_count"] == 1

    as_json = requests.post(f"{base_url}/api/encode", json={"image": base64.b64encode(photo).decode()}, timeout=60)
    assert len(as_json.json()["faces"][0]["descriptor"]) == 128

    garbage = requests.post(f"{base_url}/api/detect", data=b"\x00garbage", timeout=60,
                            headers={"Content-Type": "application/json"})
    assert garbage.status_code == 400
    assert garbage.json()["error"]["code"] == "invalid_json"

    for _ in range(4):
        assert requests.get(f"{base_url}/healthz", timeout=10).json()["status"] == "ok"

    log = log_path.read_text()
    assert "POST /api/detect 200" in log
    assert " ms " in log
    # Each of the two workers loads the 68-point model once, at boot, however many requests follow.
    assert log.count("loaded landmarks_68 model") == 2
