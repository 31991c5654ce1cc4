"""Verification metrics from embeddings: genuine and impostor distances, ROC, EER, FAR/FRR, threshold choice.

A pair is accepted as the same person when its Euclidean distance is below the threshold, as the server does,
so ``FAR(t) = P(impostor distance < t)`` and ``FRR(t) = P(genuine distance >= t)``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np


def pair_distances(embeddings: np.ndarray, labels) -> tuple[np.ndarray, np.ndarray]:
    """Return (genuine, impostor) distances over all unordered pairs of ``embeddings`` (N, D)."""
    labels = np.asarray(labels)
    distances = np.linalg.norm(embeddings[:, None, :] - embeddings[None, :, :], axis=-1)
    upper = np.triu_indices(len(labels), k=1)
    same = (labels[:, None] == labels[None, :])[upper]
    return distances[upper][same], distances[upper][~same]


def far_frr(genuine: np.ndarray, impostor: np.ndarray, threshold: float) -> tuple[float, float]:
    """Return (false accept rate, false reject rate) at ``threshold``."""
    far = float(np.mean(impostor < threshold)) if len(impostor) else 0.0
    frr = float(np.mean(genuine >= threshold)) if len(genuine) else 0.0
    return far, frr


def roc_curve(genuine: np.ndarray, impostor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (thresholds, FAR, TAR) at every distinct distance plus both ends, thresholds ascending."""
    candidates = np.unique(np.concatenate([genuine, impostor, [0.0, 4.0]]))
    # Accept below t: also try just above each distance so that the curve reaches every operating point.
    thresholds = np.unique(np.concatenate([candidates, np.nextafter(candidates, np.inf)]))
    far = np.searchsorted(np.sort(impostor), thresholds, side="left") / max(len(impostor), 1)
    tar = np.searchsorted(np.sort(genuine), thresholds, side="left") / max(len(genuine), 1)
    return thresholds, far, tar


def equal_error_rate(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    """Return (EER, threshold) where FAR and FRR are closest; the EER is their mean at that threshold."""
    thresholds, far, tar = roc_curve(genuine, impostor)
    frr = 1.0 - tar
    best = int(np.argmin(np.abs(far - frr)))
    return float((far[best] + frr[best]) / 2), float(thresholds[best])


def threshold_for_far(impostor: np.ndarray, target_far: float) -> float:
    """Return the largest threshold whose FAR on ``impostor`` is at most ``target_far``."""
    ordered = np.sort(impostor)
    allowed = int(np.floor(target_far * len(ordered)))  # impostor pairs that may fall below the threshold
    if allowed >= len(ordered):
        return float(np.nextafter(ordered[-1], np.inf))
    return float(ordered[allowed])


@dataclass
class VerificationReport:
    genuine_pairs: int
    impostor_pairs: int
    genuine_range: tuple[float, float]
    impostor_range: tuple[float, float]
    eer: float
    eer_threshold: float
    target_far: float
    threshold_at_target_far: float
    frr_at_target_far: float
    operating_points: list[dict] = field(default_factory=list)  # {"threshold", "far", "frr"}
    identification: dict | None = None  # 1-NN accuracy of probes against a gallery, when one was given

    def to_dict(self) -> dict:
        return asdict(self)


def verification_report(genuine: np.ndarray, impostor: np.ndarray, target_far: float = 0.001,
                        candidate_thresholds=(0.8, 0.9, 1.0, 1.05, 1.1, 1.2)) -> VerificationReport:
    if len(genuine) == 0 or len(impostor) == 0:
        raise ValueError("need at least one genuine and one impostor pair: use two or more identities, "
                         "one of them with two or more photos")
    eer, eer_threshold = equal_error_rate(genuine, impostor)
    at_target = threshold_for_far(impostor, target_far)
    points = []
    for threshold in candidate_thresholds:
        far, frr = far_frr(genuine, impostor, threshold)
        points.append({"threshold": float(threshold), "far": far, "frr": frr})
    return VerificationReport(
        genuine_pairs=len(genuine), impostor_pairs=len(impostor),
        genuine_range=(float(genuine.min()), float(genuine.max())),
        impostor_range=(float(impostor.min()), float(impostor.max())),
        eer=eer, eer_threshold=eer_threshold, target_far=target_far,
        threshold_at_target_far=at_target, frr_at_target_far=far_frr(genuine, impostor, at_target)[1],
        operating_points=points,
    )


def nearest_neighbour_accuracy(gallery: np.ndarray, gallery_labels, probes: np.ndarray, probe_labels) -> dict:
    """Identify each probe by its nearest gallery embedding; return correct count, total and accuracy."""
    gallery_labels, probe_labels = np.asarray(gallery_labels), np.asarray(probe_labels)
    distances = np.linalg.norm(probes[:, None, :] - gallery[None, :, :], axis=-1)
    predicted = gallery_labels[np.argmin(distances, axis=1)]
    correct = int(np.sum(predicted == probe_labels))
    return {"correct": correct, "total": len(probe_labels), "accuracy": correct / max(len(probe_labels), 1)}


def plot_roc(genuine: np.ndarray, impostor: np.ndarray, path: str | os.PathLike, title: str = "FaceNet ROC",
             threshold: float | None = None) -> Path:
    """Write a two-panel PNG: the ROC curve (TAR against FAR) and the two distance histograms."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    _, far, tar = roc_curve(genuine, impostor)
    eer, eer_threshold = equal_error_rate(genuine, impostor)
    figure, (roc_axis, histogram_axis) = plt.subplots(1, 2, figsize=(11, 4.5))

    roc_axis.plot(far, tar, drawstyle="steps-post", label=f"ROC (EER {eer:.1%} at {eer_threshold:.2f})")
    roc_axis.plot([0, 1], [0, 1], linestyle=":", color="grey")
    roc_axis.set(xlabel="false accept rate (FAR)", ylabel="true accept rate (1 - FRR)", title=title,
                 xlim=(-0.01, 1.0), ylim=(0.0, 1.01))
    roc_axis.legend(loc="lower right")

    bins = np.linspace(0.0, 2.0, 41)
    histogram_axis.hist(genuine, bins=bins, alpha=0.6, density=True, label=f"same person ({len(genuine)} pairs)")
    histogram_axis.hist(impostor, bins=bins, alpha=0.6, density=True,
                        label=f"different people ({len(impostor)} pairs)")
    if threshold is not None:
        histogram_axis.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.2f}")
    histogram_axis.set(xlabel="Euclidean distance between embeddings", ylabel="density",
                       title="distance distributions")
    histogram_axis.legend()
    figure.tight_layout()

    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.stem}.", suffix=".png", delete=False) as handle:
        temporary = Path(handle.name)
    try:
        figure.savefig(temporary, dpi=120)
        os.chmod(temporary, 0o644)  # NamedTemporaryFile creates files readable by the owner only
        os.replace(temporary, path)
    finally:
        plt.close(figure)
        temporary.unlink(missing_ok=True)
    return path
