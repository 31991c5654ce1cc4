"""``evaluate DATASET``: embed a class-folder dataset, then report genuine/impostor distances, ROC, EER and FAR/FRR."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from face_login.embedder import FaceEmbedder
from face_login.evaluation import (
    VerificationReport,
    nearest_neighbour_accuracy,
    pair_distances,
    plot_roc,
    verification_report,
)
from face_login.images import list_class_folders

logger = logging.getLogger(__name__)


@dataclass
class EmbeddedDataset:
    embeddings: np.ndarray  # (N, 128)
    labels: list[str]
    paths: list[Path]
    skipped: list[Path]  # photos in which no face was found


def embed_dataset(embedder: FaceEmbedder, root: str | os.PathLike) -> EmbeddedDataset:
    """Embed the largest face of every photo under ``root/<identity>/``."""
    classes = list_class_folders(root)
    paths = [path for class_paths in classes.values() for path in class_paths]
    labels = [name for name, class_paths in classes.items() for _ in class_paths]
    embeddings, with_face = embedder.embed_largest_faces(paths)
    with_face_set = set(with_face)
    skipped = [path for i, path in enumerate(paths) if i not in with_face_set]
    return EmbeddedDataset(embeddings=embeddings, labels=[labels[i] for i in with_face],
                           paths=[paths[i] for i in with_face], skipped=skipped)


def evaluate_dataset(embedder: FaceEmbedder, root: str | os.PathLike, out: str | os.PathLike | None = None,
                     target_far: float = 0.001, threshold: float | None = None) -> VerificationReport:
    """Evaluate verification on ``root``; with ``train/`` and ``val/`` splits, pairs come from val and the
    1-NN identification uses train as the gallery. Writes ``roc.png`` and ``report.json`` into ``out``."""
    root = Path(root)
    has_splits = (root / "train").is_dir() and (root / "val").is_dir()
    probes = embed_dataset(embedder, root / "val" if has_splits else root)
    genuine, impostor = pair_distances(probes.embeddings, probes.labels)
    report = verification_report(genuine, impostor, target_far=target_far)
    if has_splits:
        gallery = embed_dataset(embedder, root / "train")
        report.identification = nearest_neighbour_accuracy(gallery.embeddings, gallery.labels, probes.embeddings,
                                                           probes.labels)
    if probes.skipped:
        logger.warning("no face found in %d photos: %s", len(probes.skipped), ", ".join(map(str, probes.skipped)))

    if out is not None:
        out = Path(out)
        plot_roc(genuine, impostor, out / "roc.png", title=f"FaceNet ROC on {root.name}", threshold=threshold)
        write_json(out / "report.json", {"dataset": str(root), "photos": len(probes.labels),
                                         "skipped": [str(path) for path in probes.skipped], **report.to_dict()})
    return report


def format_report(report: VerificationReport) -> str:
    lines = [
        f"pairs: {report.genuine_pairs} genuine, {report.impostor_pairs} impostor",
        f"genuine distance:  {report.genuine_range[0]:.3f} .. {report.genuine_range[1]:.3f}",
        f"impostor distance: {report.impostor_range[0]:.3f} .. {report.impostor_range[1]:.3f}",
        f"EER: {report.eer:.2%} at threshold {report.eer_threshold:.3f}",
        f"threshold for FAR <= {report.target_far:g}: {report.threshold_at_target_far:.3f} "
        f"(FRR there {report.frr_at_target_far:.2%})",
        "",
        "| threshold | FAR | FRR |",
        "| ---: | ---: | ---: |",
    ]
    lines += [f"| {point['threshold']:.2f} | {point['far']:.2%} | {point['frr']:.2%} |"
              for point in report.operating_points]
    if report.identification:
        ident = report.identification
        lines.append(f"\n1-NN identification (train as gallery): {ident['correct']}/{ident['total']} "
                     f"({ident['accuracy']:.1%})")
    return "\n".join(lines)


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False) as handle:
        json.dump(payload, handle, indent=2, ensure_ascii=False)
    os.chmod(handle.name, 0o644)  # NamedTemporaryFile creates files readable by the owner only
    os.replace(handle.name, path)
