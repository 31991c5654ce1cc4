"""``embed``: print each photo's face box and the pairwise distance matrix."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from face_login.embedder import FaceEmbedder
from face_login.errors import FaceLoginError
from face_login.images import load_image


def embed_and_print(embedder: FaceEmbedder, paths: list[Path], save: Path | None) -> int:
    embeddings = []
    for path in paths:
        image = load_image(path, embedder.config.max_pixels)
        faces = embedder.detect(image)
        if not faces:
            raise FaceLoginError(f"no face found in {path}; use a photo with a clear, frontal face")
        embedding = embedder.embed_crops(embedder.crop(image, faces[0])[None])[0]
        embeddings.append(embedding)
        extra = f" ({len(faces)} faces, using the largest)" if len(faces) > 1 else ""
        print(f"{path}: face at {faces[0].box}{extra}, embedding[:4] = {np.round(embedding[:4], 3)}")

    matrix = np.linalg.norm(np.stack(embeddings)[:, None] - np.stack(embeddings)[None], axis=-1)
    labels = [path.name[:14] for path in paths]
    print("\nEuclidean distances (same person is usually below 1.0):")
    print(" " * 16 + "".join(f"{label:>16s}" for label in labels))
    for label, row in zip(labels, matrix, strict=True):
        print(f"{label:>16s}" + "".join(f"{value:16.3f}" for value in row))

    if save is not None:
        save.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=save.parent, suffix=".npy", delete=False) as handle:
            np.save(handle, np.stack(embeddings))
        os.chmod(handle.name, 0o644)  # NamedTemporaryFile creates files readable by the owner only
        os.replace(handle.name, save)
        print(f"\nsaved {len(embeddings)} embeddings to {save}")
    return 0
