"""Draw face boxes, numbered landmarks and state labels onto an image, and encode it as PNG."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from face_api.analysis import FaceAnalysis
from face_api.detection import downscale_factor, resize
from face_api.files import write_bytes_atomic
from face_api.images import check_image_array
from face_api.landmarks import REGIONS_5, REGIONS_68

BOX_COLOR = (0, 200, 0)
TEXT_COLOR = (255, 255, 255)
LABEL_BACKGROUND = (0, 120, 0)
# RGB colour per landmark region, so the regions are easy to tell apart.
REGION_COLORS = {
    "jaw": (255, 215, 0),
    "right_eyebrow": (255, 128, 0),
    "left_eyebrow": (255, 128, 0),
    "nose_bridge": (0, 191, 255),
    "nose_tip": (0, 191, 255),
    "nose_base": (0, 191, 255),
    "right_eye": (255, 0, 255),
    "left_eye": (255, 0, 255),
    "outer_lips": (255, 48, 48),
    "inner_lips": (255, 160, 160),
}
FONT = cv2.FONT_HERSHEY_SIMPLEX


def annotate_image(image: np.ndarray, faces: Sequence[FaceAnalysis], *, number_landmarks: bool = True,
                   max_side: int | None = None) -> np.ndarray:
    """Return a copy of the RGB ``image`` with each face's box, landmarks and labels drawn on it.

    ``max_side`` shrinks the output first (coordinates are scaled to match), which keeps the drawing
    readable on large photos. Landmark numbers are drawn only where the face is at least 120 px wide.
    """
    image = check_image_array(image)
    scale = downscale_factor(image.shape[1], image.shape[0], max_side)
    canvas = resize(image, scale) if scale < 1.0 else image.copy()
    thickness = max(1, round(max(canvas.shape[:2]) / 500))

    for index, face in enumerate(faces, start=1):
        box = face.box
        corners = [round(value * scale) for value in (box.left, box.top, box.right, box.bottom)]
        cv2.rectangle(canvas, (corners[0], corners[1]), (corners[2], corners[3]), BOX_COLOR, thickness)
        face_width = corners[2] - corners[0]
        if face.landmarks is not None:
            _draw_landmarks(canvas, face.landmarks.points * scale, number_landmarks and face_width >= 120, face_width)
        _draw_label(canvas, _label_lines(index, face), corners, thickness)
    return canvas


def encode_png(image: np.ndarray) -> bytes:
    """Encode an RGB image as PNG bytes."""
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(check_image_array(image), cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError("OpenCV failed to encode the PNG image")
    return encoded.tobytes()


def write_png(image: np.ndarray, path: str | os.PathLike) -> Path:
    """Write an RGB image as PNG atomically and return the path."""
    return write_bytes_atomic(path, encode_png(image))


def _draw_landmarks(canvas: np.ndarray, points: np.ndarray, numbered: bool, face_width: int) -> None:
    regions = REGIONS_68 if len(points) == 68 else REGIONS_5
    radius = max(1, round(face_width / 120))
    font_scale = max(0.25, face_width / 900)
    for name, indices in regions.items():
        color = REGION_COLORS[name]
        for index in indices:
            x, y = (round(value) for value in points[index])
            cv2.circle(canvas, (x, y), radius, color, -1, cv2.LINE_AA)
            if numbered:
                cv2.putText(canvas, str(index), (x + radius + 1, y - radius - 1), FONT, font_scale, color, 1,
                            cv2.LINE_AA)


def _label_lines(index: int, face: FaceAnalysis) -> list[str]:
    confidence = "" if face.box.confidence is None else f" score {face.box.confidence:.2f}"
    lines = [f"#{index}{confidence}"]
    if face.state is not None:
        state = face.state
        eyes = "closed" if state.eyes_closed else "open"
        lines.append(f"{state.expression}, eyes {eyes}")
        lines.append(f"EAR {state.right_eye_ear:.2f}/{state.left_eye_ear:.2f} MAR {state.mouth_aspect_ratio:.2f}")
    if face.pose is not None:
        pose = face.pose
        lines.append(f"yaw {round(pose.yaw):+d} pitch {round(pose.pitch):+d} roll {round(pose.roll):+d}")
    return lines


def _draw_label(canvas: np.ndarray, lines: list[str], corners: list[int], thickness: int) -> None:
    """Draw ``lines`` on a filled background below the box, or above it when there is no room below."""
    font_scale = 0.4 * thickness
    line_height = round(16 * thickness)
    height, width = canvas.shape[:2]
    block_height = line_height * len(lines) + 4
    top = corners[3] + 2 if corners[3] + block_height < height else max(0, corners[1] - block_height)
    text_width = max(cv2.getTextSize(line, FONT, font_scale, 1)[0][0] for line in lines) + 6
    left = min(max(0, corners[0]), max(0, width - text_width))
    cv2.rectangle(canvas, (left, top), (left + text_width, top + block_height), LABEL_BACKGROUND, -1)
    for row, line in enumerate(lines, start=1):
        cv2.putText(canvas, line, (left + 3, top + row * line_height - 3), FONT, font_scale, TEXT_COLOR, 1,
                    cv2.LINE_AA)
