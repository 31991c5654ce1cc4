"""Face detectors behind one small interface: MTCNN (TensorFlow, as in the article) and dlib's HOG (lighter)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import cv2
import numpy as np

logger = logging.getLogger(__name__)

DETECTORS = ("mtcnn", "hog")


@dataclass(frozen=True)
class DetectedFace:
    box: tuple[int, int, int, int]  # x, y, width, height in pixels of the original image
    confidence: float  # MTCNN's face probability, or dlib's HOG SVM score

    @property
    def area(self) -> int:
        return self.box[2] * self.box[3]


class FaceDetector:
    """Face detector for RGB images whose model loads on first use, once per instance.

    Images whose longer side exceeds ``max_side`` are downscaled for detection only, so a phone photo costs
    no more than an 800-pixel one. Boxes are returned in the original image's pixels.
    """

    name = "base"

    def __init__(self, max_side: int = 800, min_face_size: int = 40, min_confidence: float = 0.8):
        self.max_side = max_side
        self.min_face_size = min_face_size
        self.min_confidence = min_confidence
        self._model = None
        self._lock = threading.Lock()

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        """Return the faces at least ``min_face_size`` pixels wide, largest first."""
        scale = min(1.0, self.max_side / max(image.shape[:2]))
        small = image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        faces = []
        for (x, y, width, height), confidence in self._detect_scaled(small):
            box = tuple(int(round(value / scale)) for value in (x, y, width, height))
            if confidence >= self.min_confidence and min(box[2], box[3]) >= self.min_face_size:
                faces.append(DetectedFace(box=box, confidence=float(confidence)))
        return sorted(faces, key=lambda face: face.area, reverse=True)

    def load(self):
        with self._lock:
            if self._model is None:
                logger.info("loading the %s face detector", self.name)
                self._model = self._load()
        return self._model

    def _load(self):
        raise NotImplementedError

    def _detect_scaled(self, image: np.ndarray) -> list[tuple[tuple[float, float, float, float], float]]:
        raise NotImplementedError


class MtcnnDetector(FaceDetector):
    """Multi-task cascaded CNN (Zhang et al., 2016) from the ``mtcnn`` package, run on the CPU."""

    name = "mtcnn"

    def _load(self):
        from mtcnn import MTCNN

        return MTCNN(device="CPU:0")

    def _detect_scaled(self, image):
        results = self.load().detect_faces(np.ascontiguousarray(image))
        return [(tuple(result["box"]), result["confidence"]) for result in results]


class HogDetector(FaceDetector):
    """dlib's HOG + linear SVM frontal face detector: faster on a CPU, but misses turned or small faces."""

    name = "hog"

    def __init__(self, max_side: int = 800, min_face_size: int = 40, min_confidence: float = 0.0,
                 upsample: int = 1):
        super().__init__(max_side, min_face_size, min_confidence)
        self.upsample = upsample

    def _load(self):
        import dlib

        return dlib.get_frontal_face_detector()

    def _detect_scaled(self, image):
        rectangles, scores, _ = self.load().run(np.ascontiguousarray(image), self.upsample, 0.0)
        return [((rect.left(), rect.top(), rect.width(), rect.height()), score)
                for rect, score in zip(rectangles, scores, strict=True)]


def make_detector(name: str, **options) -> FaceDetector:
    """Return a detector by name: ``"mtcnn"`` or ``"hog"``."""
    if name == "mtcnn":
        return MtcnnDetector(**options)
    if name == "hog":
        return HogDetector(**options)
    raise ValueError(f"unknown face detector {name!r}; choose one of {', '.join(DETECTORS)}")
