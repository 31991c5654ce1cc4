"""Verification metrics on hand-made distances with known results."""

from __future__ import annotations

import numpy as np
import pytest

from face_login.evaluation import (
    equal_error_rate,
    far_frr,
    nearest_neighbour_accuracy,
    pair_distances,
    plot_roc,
    roc_curve,
    threshold_for_far,
    verification_report,
)

GENUINE = np.array([0.4, 0.6, 0.8, 1.1])
IMPOSTOR = np.array([0.9, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8])


def test_far_frr_at_threshold():
    assert far_frr(GENUINE, IMPOSTOR, 1.0) == (0.125, 0.25)
    assert far_frr(GENUINE, IMPOSTOR, 0.3) == (0.0, 1.0)
    assert far_frr(GENUINE, IMPOSTOR, 2.0) == (1.0, 0.0)


def test_distance_equal_threshold_rejected():
    assert far_frr(np.array([1.0]), np.array([1.0]), 1.0) == (0.0, 1.0)


def test_threshold_for_far_meets_target():
    threshold = threshold_for_far(IMPOSTOR, 0.0)
    assert threshold == pytest.approx(0.9)
    assert far_frr(GENUINE, IMPOSTOR, threshold)[0] == 0.0
    assert far_frr(GENUINE, IMPOSTOR, threshold_for_far(IMPOSTOR, 0.25))[0] <= 0.25


def test_eer_separable_is_zero():
    eer, threshold = equal_error_rate(np.array([0.5, 0.7]), np.array([1.2, 1.4]))
    assert eer == 0.0
    assert 0.7 < threshold <= 1.2


def test_eer_overlapping():
    eer, _ = equal_error_rate(GENUINE, IMPOSTOR)
    assert 0.1 <= eer <= 0.25


def test_roc_monotonic():
    thresholds, far, tar = roc_curve(GENUINE, IMPOSTOR)
    assert np.all(np.diff(thresholds) > 0)
    assert np.all(np.diff(far) >= 0)
    assert np.all(np.diff(tar) >= 0)
    assert (far[0], tar[0], far[-1], tar[-1]) == (0.0, 0.0, 1.0, 1.0)


def test_pair_distances_split():
    embeddings = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    genuine, impostor = pair_distances(embeddings, ["a", "a", "b"])
    np.testing.assert_allclose(genuine, [0.0])
    np.testing.assert_allclose(impostor, [np.sqrt(2), np.sqrt(2)])


def test_report_needs_both_kinds():
    with pytest.raises(ValueError, match="genuine and one impostor"):
        verification_report(np.array([]), IMPOSTOR)


def test_nearest_neighbour_accuracy():
    gallery = np.array([[1.0, 0.0], [0.0, 1.0]])
    probes = np.array([[0.9, 0.1], [0.2, 0.8], [0.8, 0.2]])
    result = nearest_neighbour_accuracy(gallery, ["a", "b"], probes, ["a", "b", "b"])
    assert (result["correct"], result["total"]) == (2, 3)


def test_plot_roc_writes_png(tmp_path):
    path = plot_roc(GENUINE, IMPOSTOR, tmp_path / "roc.png", threshold=1.0)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["roc.png"]
