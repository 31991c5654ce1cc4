"""Teaching figures: an enlarged eye or mouth with the landmark distances that EAR and MAR use."""

from __future__ import annotations

import cv2
import numpy as np

from face_api.landmarks import Landmarks
from face_api.state import eye_aspect_ratio, mouth_aspect_ratio

HORIZONTAL_COLOR = (255, 200, 0)
VERTICAL_COLOR = (0, 220, 255)
POINT_COLOR = (255, 0, 255)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def eye_figure(image: np.ndarray, landmarks: Landmarks, width: int = 480) -> np.ndarray:
    """Return the subject's right eye enlarged, with p1..p6 and EAR = (|p2-p6| + |p3-p5|) / (2 |p1-p4|)."""
    eye = landmarks.region("right_eye").astype(np.float64)
    labels = [f"p{number}" for number in range(1, 7)]
    title = f"EAR = (|p2-p6| + |p3-p5|) / (2|p1-p4|) = {eye_aspect_ratio(eye):.2f}"
    return _ratio_figure(image, eye, labels, vertical=[(1, 5), (2, 4)], horizontal=(0, 3), title=title, width=width)


def mouth_figure(image: np.ndarray, landmarks: Landmarks, width: int = 480) -> np.ndarray:
    """Return the inner lips (points 60-67) enlarged, with the three gaps and the width that MAR uses."""
    lips = landmarks.region("inner_lips").astype(np.float64)
    labels = [str(index) for index in range(60, 68)]
    title = f"MAR = mean(|61-67|, |62-66|, |63-65|) / |60-64| = {mouth_aspect_ratio(lips):.2f}"
    return _ratio_figure(image, lips, labels, vertical=[(1, 7), (2, 6), (3, 5)], horizontal=(0, 4), title=title,
                         width=width)


def _ratio_figure(image: np.ndarray, points: np.ndarray, labels: list[str], vertical: list[tuple[int, int]],
                  horizontal: tuple[int, int], title: str, width: int) -> np.ndarray:
    center = points.mean(axis=0)
    half_width = max(np.ptp(points[:, 0]) * 0.8, 8.0)
    half_height = half_width * 0.6
    left, top = int(max(0, center[0] - half_width)), int(max(0, center[1] - half_height))
    right = int(min(image.shape[1], center[0] + half_width))
    bottom = int(min(image.shape[0], center[1] + half_height))
    scale = width / (right - left)
    crop = cv2.resize(np.ascontiguousarray(image[top:bottom, left:right]), (width, round((bottom - top) * scale)),
                      interpolation=cv2.INTER_CUBIC)
    placed = (points - [left, top]) * scale
    canvas = np.concatenate([crop, np.full((36, width, 3), 30, np.uint8)], axis=0)

    def pixel(index: int) -> tuple[int, int]:
        return round(placed[index][0]), round(placed[index][1])

    cv2.line(canvas, pixel(horizontal[0]), pixel(horizontal[1]), HORIZONTAL_COLOR, 2, cv2.LINE_AA)
    for upper, lower in vertical:
        cv2.line(canvas, pixel(upper), pixel(lower), VERTICAL_COLOR, 2, cv2.LINE_AA)
    for index, label in enumerate(labels):
        x, y = pixel(index)
        cv2.circle(canvas, (x, y), 5, POINT_COLOR, -1, cv2.LINE_AA)
        offset_y = -10 if y < placed[:, 1].mean() else 22
        cv2.putText(canvas, label, (x - 12, y + offset_y), FONT, 0.6, (255, 255, 255), 3, cv2.LINE_AA)
        cv2.putText(canvas, label, (x - 12, y + offset_y), FONT, 0.6, POINT_COLOR, 1, cv2.LINE_AA)
    cv2.putText(canvas, title, (8, canvas.shape[0] - 12), FONT, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return canvas
