"""The blink rule on synthetic eye-aspect-ratio sequences, and EAR on synthetic eye landmarks."""

from __future__ import annotations

import numpy as np
import pytest

from face_login.liveness import BlinkRule, detect_blink, eye_aspect_ratio, face_eye_aspect_ratio

NAN = float("nan")


def eye(height: float) -> np.ndarray:
    """Six landmarks of an eye 1.0 wide whose lids are ``height`` apart."""
    half = height / 2
    return np.array([[0, 0], [0.33, -half], [0.66, -half], [1, 0], [0.66, half], [0.33, half]])


def test_ear_open_and_closed():
    assert eye_aspect_ratio(eye(0.3)) == pytest.approx(0.3)
    assert eye_aspect_ratio(eye(0.05)) == pytest.approx(0.05)


def test_ear_degenerate_eye():
    assert eye_aspect_ratio(np.zeros((6, 2))) == 0.0


def test_face_ear_averages_eyes():
    landmarks = np.zeros((68, 2))
    landmarks[36:42], landmarks[42:48] = eye(0.2), eye(0.4)
    assert face_eye_aspect_ratio(landmarks) == pytest.approx(0.3)


@pytest.mark.parametrize("ears", [
    [0.30, 0.31, 0.12, 0.30],
    [0.28, 0.22, 0.15, 0.18, 0.29],
    [0.30, NAN, 0.10, NAN, 0.27],
    [0.20, 0.30, 0.30, 0.15, 0.31, 0.30],
])
def test_blink_detected(ears):
    assert detect_blink(ears).blinked


@pytest.mark.parametrize("ears,reason", [
    ([0.30] * 12, "never dropped"),  # a still photo
    ([0.30, 0.12, 0.12], "did not open again"),
    ([0.12, 0.12, 0.30, 0.30], "never dropped"),  # closed first, then open: no open -> closed -> open
    ([0.15] * 6, "never looked open"),
    ([0.30, 0.22, 0.30, 0.23], "never dropped"),  # a squint stays above the closed threshold
    ([0.30, NAN, NAN], "only 1 frames"),
    ([0.30] + [0.10] * 10 + [0.30], "stayed closed"),
])
def test_blink_rejected(ears, reason):
    result = detect_blink(ears)
    assert not result.blinked
    assert reason in result.reason


def test_blink_needs_minimum_drop():
    """Eyes that barely cross both thresholds are not a blink when the drop is under min_drop."""
    rule = BlinkRule(open_threshold=0.21, closed_threshold=0.20, min_drop=0.06)
    assert not detect_blink([0.215, 0.195, 0.215], rule).blinked
