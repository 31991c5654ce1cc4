"""Every branch of the asset resolver, on local files, a local HTTP server and a local pip index."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import tarfile
import threading
from pathlib import Path

import pytest

from practicekit import assets
from practicekit.assets import Asset, AssetNotFoundError, ChecksumMismatchError, PipSource, resolve

PAYLOAD = b"to be, or not to be\n" * 100


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_asset(**overrides) -> Asset:
    fields = {"name": "sample", "filename": "sample.txt", "sha256": sha256_of(PAYLOAD)}
    fields.update(overrides)
    return Asset(**fields)


@pytest.fixture
def isolated_env(tmp_path, monkeypatch):
    """Empty data path and an empty cache under tmp_path."""
    cache = tmp_path / "cache"
    monkeypatch.setenv(assets.CACHE_ENV, str(cache))
    monkeypatch.delenv(assets.DATA_ENV, raising=False)
    return cache


@pytest.fixture
def http_server(tmp_path):
    """Serve tmp_path/www on 127.0.0.1 at a free port, yielding the base URL, the root and the request log."""
    root = tmp_path / "www"
    root.mkdir()
    requests_seen: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self):
            requests_seen.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root, requests_seen
    server.shutdown()
    server.server_close()


def test_asset_requires_checksum():
    with pytest.raises(ValueError):
        Asset(name="x", filename="x.bin")


def test_explicit_path_used(isolated_env, tmp_path):
    explicit = tmp_path / "mine.txt"
    explicit.write_bytes(PAYLOAD)
    assert resolve(make_asset(), explicit) == explicit


def test_explicit_path_missing(isolated_env, tmp_path):
    with pytest.raises(AssetNotFoundError, match="file not found"):
        resolve(make_asset(), tmp_path / "absent.txt")


def test_explicit_path_wrong_checksum(isolated_env, tmp_path):
    explicit = tmp_path / "mine.txt"
    explicit.write_bytes(b"something else")
    with pytest.raises(ChecksumMismatchError, match="does not match"):
        resolve(make_asset(), explicit)


def test_data_path_folders_searched_in_order(isolated_env, tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (second / "sample.txt").write_bytes(PAYLOAD)
    monkeypatch.setenv(assets.DATA_ENV, os.pathsep.join([str(first), "", str(second)]))
    assert resolve(make_asset(), download=False) == second / "sample.txt"


def test_data_path_corrupt_copy_skipped(isolated_env, tmp_path, monkeypatch):
    corrupt, good = tmp_path / "corrupt", tmp_path / "good"
    corrupt.mkdir()
    good.mkdir()
    (corrupt / "sample.txt").write_bytes(PAYLOAD[:-5])
    (good / "sample.txt").write_bytes(PAYLOAD)
    monkeypatch.setenv(assets.DATA_ENV, os.pathsep.join([str(corrupt), str(good)]))
    assert resolve(make_asset(), download=False) == good / "sample.txt"


def test_read_only_data_folder(isolated_env, tmp_path, monkeypatch):
    folder = tmp_path / "readonly"
    folder.mkdir()
    (folder / "sample.txt").write_bytes(PAYLOAD)
    folder.chmod(0o555)
    try:
        monkeypatch.setenv(assets.DATA_ENV, str(folder))
        assert resolve(make_asset(), download=False) == folder / "sample.txt"
    finally:
        folder.chmod(0o755)


def test_cache_hit(isolated_env):
    isolated_env.mkdir()
    (isolated_env / "sample.txt").write_bytes(PAYLOAD)
    assert resolve(make_asset(), download=False) == isolated_env / "sample.txt"


def test_download_into_cache(isolated_env, http_server):
    base_url, root, _ = http_server
    (root / "sample.txt").write_bytes(PAYLOAD)
    path = resolve(make_asset(urls=(f"{base_url}/sample.txt",)))
    assert path == isolated_env / "sample.txt"
    assert path.read_bytes() == PAYLOAD


def test_download_skips_failed_url(isolated_env, http_server):
    base_url, root, requests_seen = http_server
    (root / "sample.txt").write_bytes(PAYLOAD)
    asset = make_asset(urls=(f"{base_url}/missing.txt", f"{base_url}/sample.txt"))
    assert resolve(asset).read_bytes() == PAYLOAD
    assert len(requests_seen) == 2


def test_corrupt_download_never_kept(isolated_env, http_server):
    base_url, root, _ = http_server
    (root / "sample.txt").write_bytes(PAYLOAD[:100])
    with pytest.raises(AssetNotFoundError, match="checksum mismatch"):
        resolve(make_asset(urls=(f"{base_url}/sample.txt",)))
    assert list(isolated_env.iterdir()) == []


def test_corrupt_cache_replaced(isolated_env, http_server):
    base_url, root, _ = http_server
    (root / "sample.txt").write_bytes(PAYLOAD)
    isolated_env.mkdir()
    (isolated_env / "sample.txt").write_bytes(b"partial")
    path = resolve(make_asset(urls=(f"{base_url}/sample.txt",)))
    assert path.read_bytes() == PAYLOAD


def test_md5_checksum_supported(isolated_env, tmp_path):
    explicit = tmp_path / "mine.txt"
    explicit.write_bytes(PAYLOAD)
    asset = Asset(name="sample", filename="sample.txt", md5=hashlib.md5(PAYLOAD).hexdigest())
    assert resolve(asset, explicit) == explicit


def test_pip_sdist_extraction(isolated_env, tmp_path, monkeypatch):
    links = tmp_path / "links"
    links.mkdir()
    build_sdist(links / "tinyassets-1.0.tar.gz", "tinyassets-1.0", {"tinyassets/data/sample.txt": PAYLOAD})
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    monkeypatch.setenv("PIP_CONSTRAINT", "")
    asset = make_asset(pip_source=PipSource("tinyassets==1.0", "tinyassets/data/sample.txt"))
    path = resolve(asset)
    assert path == isolated_env / "sample.txt"
    assert path.read_bytes() == PAYLOAD


def test_pip_sdist_missing_member(isolated_env, tmp_path, monkeypatch):
    links = tmp_path / "links"
    links.mkdir()
    build_sdist(links / "tinyassets-1.0.tar.gz", "tinyassets-1.0", {"tinyassets/other.txt": PAYLOAD})
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    monkeypatch.setenv("PIP_CONSTRAINT", "")
    asset = make_asset(pip_source=PipSource("tinyassets==1.0", "tinyassets/data/sample.txt"))
    with pytest.raises(AssetNotFoundError, match="not found in tinyassets-1.0.tar.gz"):
        resolve(asset)


def test_not_found_message_is_actionable(isolated_env):
    asset = make_asset(urls=("http://127.0.0.1:9/sample.txt",))
    with pytest.raises(AssetNotFoundError) as caught:
        resolve(asset, download=False)
    message = str(caught.value)
    assert "sample.txt" in message
    assert assets.DATA_ENV in message
    assert assets.CACHE_ENV in message
    assert "curl -L -o" in message


def test_not_found_names_pip_command(isolated_env):
    asset = make_asset(pip_source=PipSource("tinyassets==1.0", "tinyassets/data/sample.txt"))
    with pytest.raises(AssetNotFoundError, match="pip download --no-deps"):
        resolve(asset, download=False)


def test_find_data_path_folder(tmp_path, monkeypatch):
    (tmp_path / "faces").mkdir()
    monkeypatch.setenv(assets.DATA_ENV, str(tmp_path))
    assert assets.find_data_path("faces") == tmp_path / "faces"
    assert assets.find_data_path("absent") is None


def build_sdist(archive: Path, top: str, members: dict[str, bytes]) -> None:
    """Write a minimal source distribution that pip accepts for `pip download --no-deps`."""
    name, version = top.rsplit("-", 1)
    files = dict(members)
    files["PKG-INFO"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    files["pyproject.toml"] = b'[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    files["backend.py"] = (
        b"def get_requires_for_build_wheel(config_settings=None):\n    return []\n"
        b"def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):\n"
        b"    import os\n"
        b"    info = os.path.join(metadata_directory, '" + f"{name}-{version}".encode() + b".dist-info')\n"
        b"    os.makedirs(info)\n"
        b"    with open(os.path.join(info, 'METADATA'), 'w') as f:\n"
        b"        f.write('Metadata-Version: 2.1\\nName: " + name.encode() + b"\\nVersion: " + version.encode()
        + b"\\n')\n"
        b"    return os.path.basename(info)\n"
    )
    with tarfile.open(archive, "w:gz") as bundle:
        for relative, data in files.items():
            info = tarfile.TarInfo(f"{top}/{relative}")
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
