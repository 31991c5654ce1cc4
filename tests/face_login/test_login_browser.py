"""The zh-CN login page in real headless Chromium, with a fake camera that shows a real face photo."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from werkzeug.serving import make_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


def write_y4m(photo: Path, target: Path, width: int = 640, height: int = 480, frames: int = 5) -> Path:
    """Write a short YUV4MPEG2 (4:2:0) clip that shows ``photo`` letterboxed, for Chromium's fake camera."""
    image = cv2.imread(str(photo))
    scale = min(width / image.shape[1], height / image.shape[0])
    resized = cv2.resize(image, (int(image.shape[1] * scale) // 2 * 2, int(image.shape[0] * scale) // 2 * 2))
    canvas = np.full((height, width, 3), 128, np.uint8)
    top, left = (height - resized.shape[0]) // 2, (width - resized.shape[1]) // 2
    canvas[top:top + resized.shape[0], left:left + resized.shape[1]] = resized
    planes = cv2.cvtColor(canvas, cv2.COLOR_BGR2YUV_I420).tobytes()
    with open(target, "wb") as handle:
        handle.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            handle.write(b"FRAME\n" + planes)
    return target


@pytest.fixture
def server_url(make_app):
    """Serve the app on a free 127.0.0.1 port in a background thread."""
    server = make_server("127.0.0.1", 0, make_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def open_page(tmp_path):
    """Return an opener: ``open_page(url, y4m)`` -> a Playwright page whose camera shows ``y4m``."""
    if CHROMIUM is None:
        pytest.skip("chromium not installed; install the Debian package 'chromium' to run the browser test")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the PyPI package 'playwright' is not installed")
    playwright = sync_api.sync_playwright().start()
    contexts = []

    def opener(url: str, y4m: Path):
        profile = tmp_path / f"profile-{len(contexts)}"
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True,
            args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-video-capture={y4m}"])
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(url)
        page.wait_for_function("document.getElementById('video').videoWidth > 0")
        return page

    yield opener
    for context in contexts:
        context.close()
    playwright.stop()


def test_page_register_then_login(server_url, open_page, faces_dir, tmp_path):
    page = open_page(server_url, write_y4m(faces_dir / "identities/obama/obama.jpg", tmp_path / "obama.y4m"))
    assert page.title() == "刷脸登录"

    page.click("#tab-register")
    page.fill("#name", "奥巴马")
    page.click("#capture")
    page.wait_for_function("document.getElementById('photo-count').textContent === '1'")
    page.click("#register")
    page.wait_for_function("document.getElementById('result').textContent.includes('注册成功')")

    page.click("#login")
    page.wait_for_selector("#session:not([hidden])")
    assert page.inner_text("#welcome-name") == "奥巴马"

    stranger = open_page(server_url, write_y4m(faces_dir / "identities/biden/biden.jpg", tmp_path / "biden.y4m"))
    stranger.click("#login")
    stranger.wait_for_function("document.getElementById('result').textContent.includes('登录失败')")
    assert "未能识别" in stranger.inner_text("#result")
    assert stranger.is_hidden("#session")


def test_page_register_without_name(server_url, open_page, faces_dir, tmp_path):
    page = open_page(server_url, write_y4m(faces_dir / "identities/obama/obama.jpg", tmp_path / "obama.y4m"))
    page.click("#tab-register")
    page.click("#register")
    assert page.inner_text("#result") == "请输入用户名。"
