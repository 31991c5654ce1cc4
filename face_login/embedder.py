"""FaceEmbedder: photo -> detected face -> 160x160 crop -> prewhitened -> 128-d FaceNet embedding."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

import numpy as np

from face_login.detection import DetectedFace, FaceDetector, make_detector
from face_login.errors import MultipleFacesError, NoFaceError
from face_login.images import DEFAULT_MAX_PIXELS, load_image
from face_login.preprocessing import crop_face, prewhiten

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbedderConfig:
    weights_path: str | None = None  # None: resolve facenet_keras.h5 through $AI_PRACTICE_DATA and the cache
    detector: str = "mtcnn"  # "mtcnn" or "hog"
    margin: float = 0.2  # context added around the box, as a fraction of its size (half on each side)
    detect_max_side: int = 800  # photos are downscaled to this longer side for detection only
    min_face_size: int = 40  # pixels; smaller faces are ignored
    min_confidence: float | None = None  # None: 0.8 for MTCNN (its own ONet threshold), 0.0 for HOG
    max_pixels: int = DEFAULT_MAX_PIXELS
    batch_size: int = 32


@dataclass(frozen=True)
class FaceEmbedding:
    embedding: np.ndarray  # (128,) float32, unit length
    face: DetectedFace


class FaceEmbedder:
    """Detect and embed faces. FaceNet and the detector load on first use, once, guarded by a lock."""

    def __init__(self, config: EmbedderConfig | None = None, model=None):
        self.config = config or EmbedderConfig()
        options = {"max_side": self.config.detect_max_side, "min_face_size": self.config.min_face_size}
        if self.config.min_confidence is not None:
            options["min_confidence"] = self.config.min_confidence
        self.detector: FaceDetector = make_detector(self.config.detector, **options)
        self._model = model
        self._forward = None
        self._lock = threading.Lock()

    @property
    def image_size(self) -> int:
        return 160

    def load(self) -> None:
        """Build FaceNet, load the pretrained weights and trace the forward pass (a few seconds)."""
        with self._lock:
            if self._forward is not None:
                return
            import tensorflow as tf

            if self._model is None:
                self._model = load_pretrained_facenet(self.config.weights_path)
            model = self._model
            # A traced graph: eager Keras calls were about 9x slower per face on a 2-core CPU.
            forward = tf.function(lambda batch: model(batch, training=False), input_signature=[
                tf.TensorSpec([None, self.image_size, self.image_size, 3], tf.float32)])
            forward(tf.zeros([1, self.image_size, self.image_size, 3]))
            self._forward = forward

    @property
    def model(self):
        self.load()
        return self._model

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        return self.detector.detect(image)

    def crop(self, image: np.ndarray, face: DetectedFace) -> np.ndarray:
        return crop_face(image, face.box, self.config.margin, self.image_size)

    def embed_crops(self, crops: np.ndarray) -> np.ndarray:
        """Embed ``(N, 160, 160, 3)`` uint8 RGB crops into ``(N, 128)`` float32 unit vectors."""
        self.load()
        crops = np.asarray(crops)
        if crops.ndim != 4 or crops.shape[1:] != (self.image_size, self.image_size, 3):
            raise ValueError(f"expected crops of shape (N, {self.image_size}, {self.image_size}, 3), "
                             f"got {crops.shape}")
        outputs = [np.empty((0, 128), np.float32)]
        for start in range(0, len(crops), self.config.batch_size):
            batch = prewhiten(crops[start:start + self.config.batch_size])
            outputs.append(self._forward(batch).numpy())
        return np.concatenate(outputs).astype(np.float32)

    def embed_image(self, image: np.ndarray, label: str = "image") -> FaceEmbedding:
        """Embed the single face in ``image``.

        Raises:
            NoFaceError: no face was found.
            MultipleFacesError: more than one face was found.
        """
        face = self.single_face(image, label)
        embedding = self.embed_crops(self.crop(image, face)[None])[0]
        return FaceEmbedding(embedding=embedding, face=face)

    def single_face(self, image: np.ndarray, label: str = "image") -> DetectedFace:
        faces = self.detect(image)
        if not faces:
            raise NoFaceError(f"no face found in {label}; use a well-lit, frontal photo of one person")
        if len(faces) > 1:
            raise MultipleFacesError(f"{len(faces)} faces found in {label}; use a photo with exactly one person",
                                     count=len(faces))
        return faces[0]

    def embed_file(self, path: str | os.PathLike) -> FaceEmbedding:
        return self.embed_image(load_image(path, self.config.max_pixels), label=str(path))

    def embed_largest_faces(self, paths: list) -> tuple[np.ndarray, list[int]]:
        """Embed the largest face of each file, batched; return embeddings and the indices of files with a face."""
        crops, with_face = [], []
        for index, path in enumerate(paths):
            image = load_image(path, self.config.max_pixels)
            faces = self.detect(image)
            if not faces:
                logger.warning("no face found in %s; skipping it", path)
                continue
            crops.append(self.crop(image, faces[0]))
            with_face.append(index)
        if not crops:
            return np.empty((0, 128), np.float32), with_face
        return self.embed_crops(np.stack(crops)), with_face


def load_pretrained_facenet(weights_path: str | os.PathLike | None = None):
    """Build Inception-ResNet-v1 and load ``facenet_keras.h5`` (resolved through the asset cache if no path),
    or a ``*.weights.h5`` file written by triplet training."""
    from face_login.assets import facenet_weights_path
    from face_login.model import build_facenet
    from face_login.weights import load_facenet_weights, quiet_keras_h5_io

    model = build_facenet()
    if weights_path is not None and str(weights_path).endswith(".weights.h5"):
        # Weights saved by `python -m face_login train` (Keras 3 format); no published checksum to check.
        if not os.path.isfile(weights_path):
            raise FileNotFoundError(f"weights file not found: {weights_path}")
        with quiet_keras_h5_io():
            model.load_weights(weights_path)
        logger.info("loaded fine-tuned FaceNet weights from %s", weights_path)
        return model
    path = facenet_weights_path(weights_path)
    count = load_facenet_weights(model, path)
    logger.info("loaded %d FaceNet weight tensors from %s", count, path)
    return model

