"""Benchmark face login accuracy: EER and FAR/FRR at the service's threshold on real photos.

Data: the 5-celebrity faces dataset (val pairs, and 1-NN with train as gallery) and faces/identities pairs.

    python bench/face_login_accuracy.py [--detector mtcnn|hog] [--threshold 1.0]
"""

from __future__ import annotations

import argparse

import numpy as np

from face_login.assets import celebrity_dataset_path
from face_login.embedder import EmbedderConfig, FaceEmbedder
from face_login.evaluate import embed_dataset
from face_login.evaluation import (
    equal_error_rate,
    far_frr,
    nearest_neighbour_accuracy,
    pair_distances,
)
from face_login.server.config import DefaultConfig
from practicekit import find_data_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", default="mtcnn", choices=("mtcnn", "hog"))
    parser.add_argument("--threshold", type=float, default=DefaultConfig.MATCH_THRESHOLD)
    args = parser.parse_args()

    embedder = FaceEmbedder(EmbedderConfig(detector=args.detector, min_face_size=20))
    celebrity = celebrity_dataset_path()
    val = embed_dataset(embedder, celebrity / "val")
    train = embed_dataset(embedder, celebrity / "train")
    sets = {"5-celebrity val": (val.embeddings, val.labels)}
    faces = find_data_path("faces/identities")
    if faces is not None:
        identities = embed_dataset(embedder, faces)
        sets["faces/identities"] = (identities.embeddings, identities.labels)
        sets["both together"] = (np.concatenate([val.embeddings, identities.embeddings]),
                                 val.labels + identities.labels)

    print(f"\nface_login accuracy, detector {args.detector}, threshold {args.threshold}\n")
    print("| data | genuine / impostor pairs | genuine max | impostor min | EER | FAR | FRR |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, (embeddings, labels) in sets.items():
        genuine, impostor = pair_distances(embeddings, labels)
        eer, _ = equal_error_rate(genuine, impostor)
        far, frr = far_frr(genuine, impostor, args.threshold)
        print(f"| {label} | {len(genuine)} / {len(impostor)} | {genuine.max():.3f} | {impostor.min():.3f} | "
              f"{eer:.1%} | {far:.2%} | {frr:.2%} |")

    ident = nearest_neighbour_accuracy(train.embeddings, train.labels, val.embeddings, val.labels)
    print(f"\n1-NN identification, 5-celebrity val against train: {ident['correct']}/{ident['total']}; "
          f"faces not found: {len(val.skipped)} val, {len(train.skipped)} train")


if __name__ == "__main__":
    main()
