"""Benchmark face login on this CPU: embedding latency per face, detection, full login p50/p99, 1:N search.

Prints a Markdown table. `--quick` uses fewer repeats (a smoke run, not a measurement).

    python bench/face_login_latency.py [--quick] [--detectors mtcnn,hog]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from face_login.embedder import EmbedderConfig, FaceEmbedder
from face_login.gallery import Gallery
from face_login.images import load_image
from practicekit import find_data_path


def percentiles(samples_s: list[float]) -> tuple[float, float]:
    values = np.asarray(samples_s) * 1000.0
    return float(np.percentile(values, 50)), float(np.percentile(values, 99))


def time_calls(function, repeats: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        function()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return samples


def bench_embedding(embedder: FaceEmbedder, repeats: int) -> list[tuple[str, float, float]]:
    crops = np.random.default_rng(0).integers(0, 255, (32, 160, 160, 3), dtype=np.uint8)
    single = time_calls(lambda: embedder.embed_crops(crops[:1]), repeats)
    batched = time_calls(lambda: embedder.embed_crops(crops), max(3, repeats // 10))
    rows = [("FaceNet embedding, 1 face (tf.function)", *percentiles(single))]
    p50, p99 = percentiles(batched)
    rows.append(("FaceNet embedding per face, batch of 32", p50 / 32, p99 / 32))

    model = embedder.model
    eager_input = np.zeros((1, 160, 160, 3), np.float32)
    eager = time_calls(lambda: model(eager_input, training=False), max(3, repeats // 5))
    rows.append(("FaceNet embedding, 1 face (eager call, for comparison)", *percentiles(eager)))
    return rows


def bench_detection(embedder: FaceEmbedder, photos: list[Path], repeats: int) -> tuple[str, float, float]:
    images = [load_image(path) for path in photos]
    samples = []
    for _ in range(max(1, repeats // len(images))):
        for image in images:
            start = time.perf_counter()
            embedder.detect(image)
            samples.append(time.perf_counter() - start)
    return (f"{embedder.config.detector} detection per photo ({len(images)} photos)", *percentiles(samples))


def bench_login(embedder: FaceEmbedder, faces: Path, repeats: int) -> tuple[str, float, float]:
    """POST /api/login through Flask's test client: upload, decode, detect, embed, 1:N search, token."""
    from face_login.server import create_app

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"DATABASE": os.path.join(folder, "bench.sqlite3"), "EMBEDDER": embedder,
                          "SECRET_KEY": "bench", "RATE_LIMIT_PER_CLIENT": 10**9, "TESTING": True})
        client = app.test_client()
        for name in ["obama", "biden", "kit_harington", "rose_leslie"]:
            photo = sorted((faces / "identities" / name).iterdir())[0]
            response = client.post("/api/users", data={"name": name, "photo": (open(photo, "rb"), photo.name)})
            assert response.status_code == 201, response.get_json()
        probe = (faces / "probes" / "obama1.jpg").read_bytes()

        def login():
            import io

            response = client.post("/api/login", data={"photo": (io.BytesIO(probe), "probe.jpg")})
            assert response.status_code == 200, response.get_json()

        samples = time_calls(login, repeats)
    return (f"POST /api/login, {embedder.config.detector} + FaceNet + search ({len(probe) // 1024} KB JPEG)",
            *percentiles(samples))


def bench_search(users: int, per_user: int, repeats: int) -> tuple[str, float, float]:
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(users * per_user, 128)).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    gallery = Gallery(embeddings, [f"user{i // per_user}" for i in range(users * per_user)])
    query = embeddings[123] + 0.01
    samples = time_calls(lambda: gallery.nearest(query), repeats)
    return (f"1:N search, {users:,} users x {per_user} embeddings (numpy)", *percentiles(samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats: checks that the script runs")
    parser.add_argument("--detectors", default="mtcnn,hog", help="comma-separated detectors to time")
    args = parser.parse_args()
    repeats = 5 if args.quick else 50

    faces = find_data_path("faces")
    if faces is None:
        sys.exit("error: faces/ not found in $AI_PRACTICE_DATA; point it at the datasets folder")
    photos = sorted((faces / "identities").glob("*/*.jp*g"))

    rows = []
    for detector in args.detectors.split(","):
        embedder = FaceEmbedder(EmbedderConfig(detector=detector))
        embedder.load()
        if not rows:
            rows += bench_embedding(embedder, repeats)
        rows.append(bench_detection(embedder, photos, repeats))
        rows.append(bench_login(embedder, faces, repeats))
    rows.append(bench_search(10_000, 1, repeats * 4))
    rows.append(bench_search(10_000, 3, repeats * 4))

    print(f"\nface_login latency on {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"{repeats} repeats{' (quick)' if args.quick else ''}\n")
    print("| step | p50 (ms) | p99 (ms) |")
    print("| --- | ---: | ---: |")
    for label, p50, p99 in rows:
        print(f"| {label} | {p50:.1f} | {p99:.1f} |")


if __name__ == "__main__":
    main()
