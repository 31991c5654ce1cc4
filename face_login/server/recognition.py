"""The face-recognition steps behind the endpoints: enrol, identify (1:N), verify (1:1) and the blink check."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import numpy as np
from flask import current_app

from face_login.detection import HogDetector
from face_login.embedder import FaceEmbedder
from face_login.errors import MultipleFacesError, NoFaceError
from face_login.gallery import Gallery, Match
from face_login.liveness import BlinkResult, LandmarkModel, detect_blink, face_eye_aspect_ratio
from face_login.server.errors import ApiError
from face_login.server.store import UserStore

logger = logging.getLogger(__name__)


class RecognitionState:
    """Per-app models and the cached gallery; the gallery reloads when the database's version changes."""

    def __init__(self, embedder: FaceEmbedder, landmarks: LandmarkModel):
        self.embedder = embedder
        self.landmarks = landmarks
        self.frame_detector = HogDetector(max_side=640, min_face_size=40)
        self._gallery: tuple[int, Gallery] | None = None
        self._lock = threading.Lock()

    def gallery(self, store: UserStore) -> Gallery:
        version = store.gallery_version()
        with self._lock:
            if self._gallery is None or self._gallery[0] != version:
                self._gallery = store.load_gallery()
            return self._gallery[1]


def state() -> RecognitionState:
    return current_app.extensions["face_login"]


def embed_single_face(image: np.ndarray, index: int, kind: str) -> np.ndarray:
    """Return the embedding of the one face in ``image``, or raise 422 ``no_face`` / ``multiple_faces``."""
    try:
        return state().embedder.embed_image(image, label=f"{kind} {index + 1}").embedding
    except NoFaceError as error:
        raise ApiError(422, "no_face", str(error), index=index) from error
    except MultipleFacesError as error:
        raise ApiError(422, "multiple_faces", str(error), index=index, faces=error.count) from error


def check_same_person(embeddings: list[np.ndarray], threshold: float) -> None:
    """Raise 422 ``photos_do_not_match`` if two enrolment photos look like different people."""
    for i in range(len(embeddings)):
        for j in range(i + 1, len(embeddings)):
            distance = float(np.linalg.norm(embeddings[i] - embeddings[j]))
            if distance >= threshold:
                raise ApiError(422, "photos_do_not_match",
                               f"photos {i + 1} and {j + 1} do not look like the same person "
                               f"(distance {distance:.2f}, threshold {threshold:.2f}); send photos of one person",
                               distance=round(distance, 4))


def check_not_enrolled(gallery: Gallery, embeddings: list[np.ndarray], threshold: float) -> None:
    """Raise 409 ``face_already_registered`` if a photo matches a user already enrolled (not named, for privacy)."""
    for index, embedding in enumerate(embeddings):
        match = gallery.nearest(embedding)
        if match is not None and match.distance < threshold:
            logger.info("enrolment rejected: photo %d matches enrolled user %s (distance %.3f)",
                        index + 1, match.name, match.distance)
            raise ApiError(409, "face_already_registered",
                           f"the face in photo {index + 1} is already registered to another user", index=index)


@dataclass(frozen=True)
class LivenessOutcome:
    blink: BlinkResult
    ears: list[float]
    identity_frames: list[np.ndarray]  # frames to embed: the first and last frames with open eyes


def check_liveness(frames: list[np.ndarray]) -> LivenessOutcome:
    """Measure EAR in every frame and apply the blink rule.

    Raises:
        ApiError: 422 ``multiple_faces`` if a frame has two faces, ``face_changed`` if the face jumps between
            frames (a swapped photo), ``liveness_failed`` if no blink was seen.
    """
    current = state()
    ears, boxes = [], []
    for index, frame in enumerate(frames):
        faces = current.frame_detector.detect(frame)
        if len(faces) > 1:
            raise ApiError(422, "multiple_faces", f"frame {index + 1} shows {len(faces)} faces; only one person "
                           "may be in view", index=index)
        if not faces:
            ears.append(float("nan"))
            boxes.append(None)
            continue
        ears.append(face_eye_aspect_ratio(current.landmarks.landmarks(frame, faces[0].box)))
        boxes.append(faces[0].box)

    _check_continuity(boxes)
    blink = detect_blink(ears)
    if not blink.blinked:
        raise ApiError(422, "liveness_failed", f"liveness check failed: {blink.reason}",
                       ears=[None if np.isnan(value) else round(value, 3) for value in ears])
    open_frames = [index for index, value in enumerate(ears) if np.isfinite(value) and value >= 0.24]
    chosen = sorted({open_frames[0], open_frames[-1]})
    return LivenessOutcome(blink, ears, [frames[index] for index in chosen])


def _check_continuity(boxes: list) -> None:
    """The face must stay put between consecutive frames: a jump means the picture in front of the camera changed."""
    previous = None
    for index, box in enumerate(boxes):
        if box is None:
            continue
        if previous is not None:
            shift = np.hypot(box[0] + box[2] / 2 - previous[0] - previous[2] / 2,
                             box[1] + box[3] / 2 - previous[1] - previous[3] / 2)
            size_ratio = box[2] / previous[2]
            if shift > 0.5 * previous[2] or not 0.67 <= size_ratio <= 1.5:
                raise ApiError(422, "face_changed", f"the face moved or changed between frames {index} and "
                               f"{index + 1}; hold still and try again", index=index)
        previous = box


def identify(gallery: Gallery, embeddings: list[np.ndarray]) -> Match | None:
    """1:N: the nearest user for every embedding; a disagreement between frames is reported as no match."""
    matches = [gallery.nearest(embedding) for embedding in embeddings]
    if any(match is None for match in matches):
        return None
    if len({match.name for match in matches}) > 1:
        worst = max(matches, key=lambda match: match.distance)
        return Match(name=worst.name, distance=float("inf"))
    return max(matches, key=lambda match: match.distance)
